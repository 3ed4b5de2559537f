/**
 * The Pod JSON schema check. The built-in schema comes precompiled (schemas/pod-v1.validate.cjs, made
 * by `npm run schemas`), so an ordinary run compiles nothing and never loads ajv's compiler. A schema
 * the user gives (`--schema FILE`) is compiled with ajv at run time, and only then.
 *
 * Both validators treat a null-valued field as absent, as the API decodes `field: null` (and a YAML
 * key with nothing after it): the built-in schema allows no null, like the API's OpenAPI schema.
 */
import type {ErrorObject, SchemaObject} from 'ajv'

import {readFile} from 'node:fs/promises'
import path from 'node:path'

import {UserError} from '../errors.js'
import {requireBuiltinValidator} from './builtin-validator.js'
import {withoutNulls} from './object.js'

/**
 * One schema violation, as ajv reports it. For unknown fields: keyword 'additionalProperties',
 * params.additionalProperty is the field's name and instancePath is its parent object.
 */
export interface SchemaError {
  instancePath: string
  keyword: string
  message: string
  params: Record<string, unknown>
}

/** Validates a decoded manifest; no errors means valid. */
export type PodSchemaValidator = (doc: unknown) => SchemaError[]

interface AjvValidateFunction {
  (data: unknown): boolean
  errors?: ErrorObject[] | null
}

/**
 * Keywords of the Kubernetes OpenAPI extensions. They carry no validation; ajv's strict mode only
 * needs to know them. Any other `x-` keyword found in a user's schema is added too.
 */
const KUBERNETES_KEYWORDS = [
  'x-kubernetes-embedded-resource',
  'x-kubernetes-group-version-kind',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
  'x-kubernetes-patch-merge-key',
  'x-kubernetes-patch-strategy',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-unions',
  'x-kubernetes-validations',
]

/**
 * The `quantity` format: what resource.ParseQuantity accepts (k8s.io/apimachinery/pkg/api/resource/
 * quantity.go), a signed decimal number and then a binary-SI suffix (Ki..Ei), a decimal-SI suffix
 * (n, u, m, k, M..E) or an integer exponent; the JSON decoder trims white space around it first.
 * The built-in schema's Quantity is a number or a string of this format.
 */
export const QUANTITY_FORMAT = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?\s*$/

let builtin: PodSchemaValidator | undefined

/** The precompiled validator of the built-in Pod schema (loaded once, on first use). */
export async function loadBuiltinPodValidator(): Promise<PodSchemaValidator> {
  if (!builtin) {
    try {
      builtin = validatorOf(requireBuiltinValidator() as AjvValidateFunction)
    } catch (error) {
      throw new Error(`cannot load the built-in Pod schema validator (run \`npm run schemas\`): ${String(error)}`)
    }
  }

  return builtin
}

/**
 * Compiles a Pod JSON schema from a file, such as a kubeconform (yannh) `pod-v1.json` of another
 * Kubernetes version: draft-04 style `$schema`, `x-kubernetes-*` keywords, int32/int64/date-time/
 * byte/double formats, the old `int-or-string` format and our `quantity` format are accepted. `$ref`s to files (as in
 * yannh's non-standalone schemas, `_definitions.json#/...`) are read from the schema's directory.
 * A file that cannot be read, is not JSON or does not compile is a UserError.
 */
export async function compilePodSchemaFile(file: string): Promise<PodSchemaValidator> {
  const schema = await readSchema(file)
  const documents = new Map<string, SchemaObject>()
  const pending = [...fileRefs(schema)]
  while (pending.length > 0) {
    const ref = pending.shift()
    if (ref === undefined || documents.has(ref)) continue
    // eslint-disable-next-line no-await-in-loop -- each document may name further documents
    const document = await readSchema(path.resolve(path.dirname(file), ref), file)
    documents.set(ref, document)
    pending.push(...fileRefs(document))
  }

  const [{Ajv}, formats] = await Promise.all([import('ajv'), import('ajv-formats')])
  const ajv = new Ajv({
    allErrors: true,
    allowUnionTypes: true,
    logger: false,
    strict: true,
    // Generated Kubernetes schemas put `format` on untyped nodes and `required` next to
    // allOf branches: fine for validating, only strict mode's style checks object.
    strictRequired: false,
    strictTuples: false,
    strictTypes: false,
  })
  formats.default.default(ajv)
  ajv.addFormat('int-or-string', true)
  ajv.addFormat('quantity', QUANTITY_FORMAT)
  const keywords = new Set(KUBERNETES_KEYWORDS)
  for (const document of [schema, ...documents.values()]) for (const keyword of extensionKeywords(document)) keywords.add(keyword)
  ajv.addVocabulary([...keywords].sort())

  try {
    for (const [ref, document] of documents) ajv.addSchema(document, ref)
    return validatorOf(ajv.compile(schema))
  } catch (error) {
    throw new UserError(`${file}: cannot compile the JSON schema: ${error instanceof Error ? error.message : String(error)}`, {
      hints: ['Use a Pod schema such as kubeconform\'s pod-v1.json from a "-standalone-strict" directory.'],
    })
  }
}

/**
 * Wraps an ajv validate function. A value of the wrong type also fails its format (1.5 is no int32),
 * so a format error where there is a type error says nothing new and is left out.
 */
function validatorOf(validate: AjvValidateFunction): PodSchemaValidator {
  return doc => {
    if (validate(withoutNulls(doc))) return []
    const errors = validate.errors ?? []
    const wrongType = new Set(errors.filter(e => e.keyword === 'type').map(e => e.instancePath))
    return errors.filter(e => !(e.keyword === 'format' && wrongType.has(e.instancePath))).map(e => ({
      instancePath: e.instancePath,
      keyword: e.keyword,
      message: e.message ?? e.keyword,
      params: {...(e.params as Record<string, unknown>)},
    }))
  }
}

/** Reads a JSON schema document, without its `$schema` (ajv compiles draft-04 Kubernetes schemas as draft-07). */
async function readSchema(file: string, referrer?: string): Promise<SchemaObject> {
  const from = referrer ? ` (referenced by ${referrer})` : ''
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const {code, message} = error as NodeJS.ErrnoException
    throw new UserError(code === 'ENOENT' ? `${file}: no such schema file${from}` : `${file}: cannot read the schema${from}: ${message}`)
  }

  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new UserError(`${file}: the schema${from} is not JSON: ${(error as Error).message}`)
  }

  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UserError(`${file}: the schema${from} is not a JSON object`)
  }

  const schema = {...(parsed as SchemaObject)}
  delete schema.$schema
  return schema
}

/** The documents that `$ref`s in a schema name (`other.json#/definitions/x` → `other.json`), local files only. */
function fileRefs(schema: unknown): string[] {
  const refs = new Set<string>()
  walk(schema, (key, value) => {
    if (key !== '$ref' || typeof value !== 'string') return
    const document = value.split('#')[0] ?? ''
    if (document !== '' && !/^[a-z][\d+.a-z-]*:/i.test(document)) refs.add(document)
  })
  return [...refs]
}

function extensionKeywords(schema: unknown): string[] {
  const keywords = new Set<string>()
  walk(schema, key => {
    if (key.startsWith('x-')) keywords.add(key)
  })
  return [...keywords]
}

function walk(node: unknown, visit: (key: string, value: unknown) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit)
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      visit(key, value)
      walk(value, visit)
    }
  }
}

