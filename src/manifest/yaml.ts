import * as jsyaml from 'js-yaml'

/**
 * The YAML the kubelet reads. Manifests are decoded by sigs.k8s.io/yaml on top of go-yaml v2, which
 * implements YAML 1.1 scalars: `yes`/`no`/`on`/`off`/`y`/`n` are booleans and `0644` is octal (420).
 * js-yaml 4 speaks YAML 1.2, so its core booleans and integers are swapped for go-yaml's. Timestamps
 * stay strings, as they reach the API as JSON strings.
 */

const BOOL_TRUE = new Set(['on', 'On', 'ON', 'true', 'True', 'TRUE', 'y', 'Y', 'yes', 'Yes', 'YES'])
const BOOL_FALSE = new Set(['false', 'False', 'FALSE', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF'])

const bool11 = new jsyaml.Type('tag:yaml.org,2002:bool', {
  construct: (data: string) => BOOL_TRUE.has(data),
  kind: 'scalar',
  predicate: (value: object) => typeof value === 'boolean',
  represent: (value: object) => (value ? 'true' : 'false'),
  resolve: (data: null | string) => data !== null && (BOOL_TRUE.has(data) || BOOL_FALSE.has(data)),
})

/** go-yaml v2 integers: decimal, 0-prefixed octal, 0x hex, 0b binary, with optional sign and underscores. */
const INT11 = /^[-+]?(0b[01_]+|0x[\da-fA-F_]+|0[0-7_]+|0|[1-9][\d_]*)$/

const int11 = new jsyaml.Type('tag:yaml.org,2002:int', {
  construct(data: string) {
    const text = data.replaceAll('_', '')
    const sign = text.startsWith('-') ? -1 : 1
    const digits = text.replace(/^[-+]/, '')
    if (digits.startsWith('0b')) return sign * Number.parseInt(digits.slice(2), 2)
    if (digits.startsWith('0x')) return sign * Number.parseInt(digits.slice(2), 16)
    if (digits.length > 1 && digits.startsWith('0')) return sign * Number.parseInt(digits.slice(1), 8)
    return sign * Number.parseInt(digits, 10)
  },
  kind: 'scalar',
  predicate: (value: object) => typeof value === 'number' && Number.isInteger(value),
  represent: String,
  resolve: (data: null | string) => data !== null && INT11.test(data),
})

/**
 * What the first character of a plain scalar says: 1, it is a string (no other type starts so);
 * 2, a string if longer than five characters (null, Null, NULL and the booleans start with these
 * letters); 0, it may be anything (numbers start with a digit, a sign or a dot, null may be `~`,
 * merge is `<<`).
 */
const FIRST_CHARACTER = new Uint8Array(128)
for (let code = 0; code < 128; code++) {
  const char = String.fromCodePoint(code)
  if (/[a-z]/i.test(char)) FIRST_CHARACTER[code] = 'nNtTfFyYoO'.includes(char) ? 2 : 1
  else FIRST_CHARACTER[code] = /[\d+.~<-]/.test(char) ? 0 : 1
}

/**
 * js-yaml tries each implicit type on every plain scalar, keys included, and the int and float
 * types test a regular expression. Most scalars of a manifest are words and paths: this type, tried
 * first, settles them with one look at the first character, and resolves nothing another type could.
 */
const plainString = new jsyaml.Type('tag:yaml.org,2002:str', {
  kind: 'scalar',
  resolve(data: null | string) {
    if (data === null || data.length === 0) return false
    const code = data.codePointAt(0)!
    if (code >= 128) return true
    const first = FIRST_CHARACTER[code]
    return first === 1 || (first === 2 && data.length > 5)
  },
})

const {types} = jsyaml as unknown as {types: Record<'float' | 'merge' | 'null', jsyaml.Type>}

/** For reading and writing (dump quotes a string that any implicit type would resolve). */
export const KUBE_YAML_SCHEMA = jsyaml.FAILSAFE_SCHEMA.extend({
  implicit: [types.null, bool11, int11, types.float, types.merge],
})

/** For reading only: the same values, with plain strings settled first. Dumping with it would quote every string. */
export const KUBE_YAML_READ_SCHEMA = jsyaml.FAILSAFE_SCHEMA.extend({
  implicit: [plainString, types.null, bool11, int11, types.float, types.merge],
})
