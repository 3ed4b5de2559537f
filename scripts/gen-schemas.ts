/**
 * Generates the Pod JSON schema and its precompiled validator from the Kubernetes API types that the
 * `kubernetes-models` package carries, so that nothing is compiled when staticpod runs.
 *
 *   npm run schemas                 writes schemas/pod-v1.schema.json, pod-v1.validate.cjs, README.md
 *   npm run schemas -- --out DIR    writes the same files into DIR (the tests compare them)
 *
 * 1. ts-json-schema-generator turns `IPod` (kubernetes-models/v1/Pod.d.ts) and every type it reaches
 *    into `$ref` + `definitions` form: required fields as the API has them, enums from the string
 *    literal unions, maps as `additionalProperties: {...}`, `additionalProperties: false` on every
 *    object with properties, no descriptions.
 * 2. The .d.ts files say `number` where the API says integer (int32/int64). Every number field is
 *    probed with 1.5 against the package's own precompiled validator, whose errors give
 *    `type: integer` and the format. String fields are probed with "?" for their format (date-time).
 * 3. Definitions get their Kubernetes names (io.k8s.api.core.v1.Container), IntOrString and Quantity
 *    their wire forms (Quantity strings have format `quantity`, the one custom format), and Pod loses the `required`/`const` that TypeMeta adds: the API's Pod requires
 *    nothing (staticpod's own rules check apiVersion, kind and metadata.name).
 * 4. ajv (strict, allErrors, ajv-formats) compiles it into standalone CommonJS code.
 *
 * Deterministic: definitions and properties are sorted, and nothing depends on time or paths.
 */
import {Ajv} from 'ajv'
import addFormats from 'ajv-formats'
import standaloneCode from 'ajv/dist/standalone/index.js'
import {
  mkdirSync, readdirSync, readFileSync, writeFileSync,
} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {createGenerator} from 'ts-json-schema-generator'

import {QUANTITY_FORMAT} from '../src/manifest/schema.js'

/**
 * The Kubernetes release that the installed kubernetes-models carries. The package does not say it
 * in machine-readable form (its README badge still says 1.27.1); its changelog says 5.0.0 is "Update
 * to Kubernetes v1.36.0", and its core/v1 types have fields new in 1.36 (PodSpec.schedulingGroup).
 * After upgrading the package, check its changelog and update both constants.
 */
const MODELS_VERSION = '5.1.0'
const KUBERNETES_VERSION = 'v1.36'

/** Every definition must come from one of these API groups; anything else means the types changed. */
const GROUPS: ReadonlyArray<{id: string; module: string; name: string}> = [
  {id: 'IoK8sApiCoreV1', module: 'kubernetes-models/_schemas/', name: 'io.k8s.api.core.v1.'},
  {
    id: 'IoK8sApimachineryPkgApisMetaV1',
    module: '@kubernetes-models/apimachinery/_schemas/',
    name: 'io.k8s.apimachinery.pkg.apis.meta.v1.',
  },
  {
    id: 'IoK8sApimachineryPkgApiResource',
    module: '@kubernetes-models/apimachinery/_schemas/',
    name: 'io.k8s.apimachinery.pkg.api.resource.',
  },
  {
    id: 'IoK8sApimachineryPkgUtilIntstr',
    module: '@kubernetes-models/apimachinery/_schemas/',
    name: 'io.k8s.apimachinery.pkg.util.intstr.',
  },
]

const POD = 'io.k8s.api.core.v1.Pod'
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString'
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity'

/** Number fields that really are floating point (none in core/v1 Pod today); all others must probe as integers. */
const DOUBLES = new Set<string>()

/** A JSON schema node as this script handles it. */
interface Schema {
  $ref?: string
  [keyword: string]: unknown
  additionalProperties?: boolean | Schema
  const?: unknown
  definitions?: Record<string, Schema>
  enum?: unknown[]
  items?: Schema
  properties?: Record<string, Schema>
  required?: string[]
  type?: string | string[]
}

interface Origin {
  /** The kubernetes-models schema id, e.g. IoK8sApiCoreV1Container. */
  id: string
  /** The module with the package's own precompiled validator for this type. */
  module: string
  /** The Kubernetes name, e.g. io.k8s.api.core.v1.Container. */
  name: string
}

interface PackageError {
  instancePath: string
  keyword: string
  params: Record<string, unknown>
}

type PackageValidator = ((data: unknown) => boolean) & {errors?: null | PackageError[]}

interface Probing {
  place: Place
  validate: PackageValidator
}

/** Where a probe value goes: the data to validate, with the value inside, and the value's path in it. */
type Place = (value: unknown) => {at: string; data: unknown}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

async function main(out: string): Promise<void> {
  const modelsDir = packageDir('kubernetes-models/v1/Pod')
  const modelsVersion = packageVersion(modelsDir)
  if (modelsVersion !== MODELS_VERSION) {
    const script = path.relative(ROOT, fileURLToPath(import.meta.url))
    const what = 'check which Kubernetes release it carries (its CHANGELOG), then update MODELS_VERSION and KUBERNETES_VERSION'
    throw new Error(`kubernetes-models is ${modelsVersion}, ${script} knows ${MODELS_VERSION}: ${what}`)
  }

  const raw = generateRaw(path.join(modelsDir, 'v1', 'Pod.d.ts'))
  const origins = readOrigins([path.join(modelsDir, 'v1'), packageDir('@kubernetes-models/apimachinery/apis/meta/v1')])
  const schema = await convert(raw, origins)
  const definitions = Object.keys(schema.definitions ?? {}).length
  const ajvVersion = packageVersion(packageDir('ajv'))
  const json = JSON.stringify(schema, null, 2) + '\n'
  const code = compileStandalone(schema)

  mkdirSync(out, {recursive: true})
  writeFileSync(path.join(out, 'pod-v1.schema.json'), json)
  writeFileSync(path.join(out, 'pod-v1.validate.cjs'), code)
  writeFileSync(path.join(out, 'README.md'), readme(modelsVersion, ajvVersion, definitions))

  const where = out.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), out) : out
  const source = `kubernetes-models@${modelsVersion} (Kubernetes ${KUBERNETES_VERSION}), ajv@${ajvVersion}`
  console.log(`${where}/: pod-v1.schema.json (${definitions} definitions, ${kib(json)}), pod-v1.validate.cjs (${kib(code)}) from ${source}`)
}

/** The directory of the package that resolves `specifier` (export maps hide the packages' package.json). */
function packageDir(specifier: string): string {
  const parts = specifier.split('/')
  const name = (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/')
  const suffix = path.join('node_modules', name)
  // eslint-disable-next-line n/no-unsupported-features/node-builtins -- a dev script; Node 20.6+ has it
  let dir = path.dirname(fileURLToPath(import.meta.resolve(specifier)))
  while (!dir.endsWith(suffix)) {
    const up = path.dirname(dir)
    if (up === dir) throw new Error(`cannot find the directory of package ${name}`)
    dir = up
  }

  return dir
}

function packageVersion(dir: string): string {
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {version: string}).version
}

function generateRaw(podTypes: string): Schema {
  const generator = createGenerator({
    additionalProperties: false,
    expose: 'all',
    jsDoc: 'none',
    path: podTypes,
    skipTypeCheck: true,
    sortProps: true,
    topRef: true,
    // For its module resolution (NodeNext: the packages' export maps); `path` gives the files.
    tsconfig: path.join(ROOT, 'tsconfig.json'),
    type: 'IPod',
  })
  // A JSON round trip, not structuredClone: keys whose value is undefined must go.
  // eslint-disable-next-line unicorn/prefer-structured-clone
  return JSON.parse(JSON.stringify(generator.createSchema('IPod'))) as Schema
}

/**
 * Where each interface comes from, by its local name (IPodSpec), read from the re-export that ends
 * every kubernetes-models .d.ts: `export type { IPodSpec as IIoK8sApiCoreV1PodSpec, ... }`.
 */
function readOrigins(dirs: string[]): Map<string, Origin[]> {
  const origins = new Map<string, Origin[]>()
  const reexport = /export type \{ (\w+) as I(IoK8s\w+),/
  for (const dir of dirs) {
    const files = readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter(entry => entry.isFile() && entry.name.endsWith('.d.ts'))
    .map(entry => path.join(entry.parentPath, entry.name))
    .sort()
    for (const file of files) {
      const match = reexport.exec(readFileSync(file, 'utf8'))
      const local = match?.[1]
      const id = match?.[2]
      if (!local || !id) continue
      const group = GROUPS.find(g => id.startsWith(g.id))
      if (!group) continue
      const origin = {id, module: group.module + id, name: group.name + id.slice(group.id.length)}
      origins.set(local, [...(origins.get(local) ?? []), origin])
    }
  }

  return origins
}

async function convert(raw: Schema, origins: Map<string, Origin[]>): Promise<Schema> {
  const rawDefinitions = raw.definitions ?? {}
  const names = new Map<string, string>()
  const located = new Map<string, Origin>()
  for (const local of Object.keys(rawDefinitions)) {
    const candidates = origins.get(local) ?? []
    const [origin] = candidates
    if (!origin || candidates.length > 1) {
      throw new Error(`type ${local}: ${candidates.length} matching API types (${candidates.map(c => c.id).join(', ')})`)
    }

    names.set(local, origin.name)
    located.set(local, origin)
  }

  const ref = (local: string): string => {
    const name = names.get(local)
    if (!name) throw new Error(`reference to unknown type ${local}`)
    return `#/definitions/${name}`
  }

  const validators = new Map<string, PackageValidator>()
  await Promise.all([...located.values()].map(async origin => validators.set(origin.module, await packageValidator(origin.module))))
  const definitions: Record<string, Schema> = {}
  for (const [local, definition] of Object.entries(rawDefinitions)) {
    const origin = located.get(local)
    const validate = origin && validators.get(origin.module)
    if (!origin || !validate) throw new Error(`no origin for type ${local}`)
    definitions[origin.name] = convertDefinition(origin.name, definition, validate, ref)
  }

  const rootLocal = raw.$ref?.replace('#/definitions/', '') ?? ''
  const root = ref(rootLocal)
  if (root !== `#/definitions/${POD}`) throw new Error(`the root type is ${rootLocal}, not Pod`)

  return {
    $ref: root,
    $schema: 'http://json-schema.org/draft-07/schema#',
    definitions: reachable(root, definitions),
  }
}

async function packageValidator(module: string): Promise<PackageValidator> {
  const loaded = (await import(module)) as {validate?: PackageValidator}
  if (typeof loaded.validate !== 'function') throw new Error(`${module} exports no validate function`)
  return loaded.validate
}

/** Probes a definition's own value (a string alias such as Time). */
function placeSelf(value: unknown): {at: string; data: unknown} {
  return {at: '', data: value}
}

function convertDefinition(name: string, definition: Schema, validate: PackageValidator, ref: (local: string) => string): Schema {
  if (name === INT_OR_STRING) {
    expectTypes(name, definition, ['number', 'string'])
    // The API's IntOrString holds an int32 or a string.
    return {format: 'int32', type: ['integer', 'string']}
  }

  if (name === QUANTITY) {
    expectTypes(name, definition, ['number', 'string'])
    // A string in resource.Quantity's syntax (the `quantity` format, src/manifest/schema.ts), or a number.
    return {format: 'quantity', type: ['string', 'number']}
  }

  if (definition.type === 'string' && Object.keys(definition).length === 1) {
    return {...formatOf(name, validate, placeSelf), type: 'string'}
  }

  if (definition.type !== 'object' || definition.additionalProperties !== false) {
    throw new Error(`${name}: unexpected definition ${JSON.stringify(definition)}`)
  }

  const properties: Record<string, Schema> = {}
  for (const [property, schema] of Object.entries(definition.properties ?? {}).sort(([a], [b]) => compare(a, b))) {
    const field = `${name}.${property}`
    if (name === POD && (property === 'apiVersion' || property === 'kind')) {
      // TypeMeta's literal types; the API has plain strings here.
      properties[property] = {type: 'string'}
      continue
    }

    const place: Place = value => ({at: `/${property}`, data: {[property]: value}})
    properties[property] = convertField(field, schema, {place, validate}, ref)
  }

  const out: Schema = {type: 'object'}
  if (Object.keys(properties).length > 0) {
    out.properties = properties
    // Pod: TypeMeta makes apiVersion and kind required; the API's Pod requires nothing.
    const required = name === POD ? [] : (definition.required ?? [])
    if (required.length > 0) out.required = [...required].sort(compare)
    out.additionalProperties = false
  }

  // An object without properties (FieldsV1) is free-form in the API.
  return out
}

/**
 * One field's schema. `probing` says how to run the package's validator with a value where this
 * node's data would be.
 */
function convertField(field: string, node: Schema, probing: Probing, ref: (local: string) => string): Schema {
  const {place, validate} = probing
  if (node.$ref !== undefined) {
    if (Object.keys(node).length !== 1) throw new Error(`${field}: $ref with siblings ${JSON.stringify(node)}`)
    return {$ref: ref(node.$ref.replace('#/definitions/', ''))}
  }

  switch (node.type) {
  case 'array': {
    if (!node.items || Object.keys(node).length !== 2) break
    const item: Place = value => {
      const {at, data} = place([value])
      return {at: `${at}/0`, data}
    }

    return {items: convertField(`${field}[]`, node.items, {place: item, validate}, ref), type: 'array'}
  }

  case 'boolean': {
    if (Object.keys(node).length !== 1) break
    return {type: 'boolean'}
  }

  case 'number': {
    if (Object.keys(node).length !== 1) break
    return numberField(field, validate, place)
  }

  case 'object': {
    // A map (labels, annotations, resources.limits): string keys, typed values.
    const values = node.additionalProperties
    if (typeof values !== 'object' || node.properties || Object.keys(node).length !== 2) break
    const value: Place = v => {
      const {at, data} = place({key: v})
      return {at: `${at}/key`, data}
    }

    return {additionalProperties: convertField(`${field}{}`, values, {place: value, validate}, ref), type: 'object'}
  }

  case 'string': {
    if (node.enum) {
      if (Object.keys(node).length !== 2 || !node.enum.every(v => typeof v === 'string')) break
      return {enum: [...node.enum].sort(), type: 'string'}
    }

    if (Object.keys(node).length !== 1) break
    return {...formatOf(field, validate, place), type: 'string'}
  }
  }

  throw new Error(`${field}: unsupported schema ${JSON.stringify(node)}`)
}

function numberField(field: string, validate: PackageValidator, place: Place): Schema {
  const errors = probe(validate, place(1.5))
  const format = errors.find(e => e.keyword === 'format')?.params.format
  const integer = errors.some(e => e.keyword === 'type' && e.params.type === 'integer')
  const unexpected = errors.filter(e => e.keyword !== 'format' && !(e.keyword === 'type' && e.params.type === 'integer'))
  if (unexpected.length > 0) throw new Error(`${field}: unexpected probe errors ${JSON.stringify(unexpected)}`)
  if (!integer && !DOUBLES.has(field)) {
    throw new Error(`${field}: kubernetes-models accepts 1.5 here; if the API really has a floating-point number, add it to DOUBLES`)
  }

  const out: Schema = {type: integer ? 'integer' : 'number'}
  if (typeof format === 'string') out.format = format
  return out
}

function formatOf(field: string, validate: PackageValidator, place: Place): {format?: string} {
  const errors = probe(validate, place('?'))
  const unexpected = errors.filter(e => e.keyword !== 'format')
  if (unexpected.length > 0) throw new Error(`${field}: unexpected probe errors ${JSON.stringify(unexpected)}`)
  const format = errors[0]?.params.format
  return typeof format === 'string' ? {format} : {}
}

/** Runs the package's validator and keeps the errors about the probe value itself. */
function probe(validate: PackageValidator, {at, data}: {at: string; data: unknown}): PackageError[] {
  if (validate(data)) return []
  return (validate.errors ?? []).filter(e => e.instancePath === at)
}

function expectTypes(name: string, definition: Schema, types: string[]): void {
  const actual = Array.isArray(definition.type) ? [...definition.type].sort(compare) : [definition.type]
  if (JSON.stringify(actual) !== JSON.stringify(types) || Object.keys(definition).length !== 1) {
    throw new Error(`${name}: expected a union of ${types.join(', ')}, got ${JSON.stringify(definition)}`)
  }
}

/** The definitions reachable from `root`, sorted by name. */
function reachable(root: string, definitions: Record<string, Schema>): Record<string, Schema> {
  const seen = new Set<string>()
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item)
      return
    }

    if (node === null || typeof node !== 'object') return
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        const name = value.replace('#/definitions/', '')
        if (seen.has(name)) continue
        seen.add(name)
        const target = definitions[name]
        if (!target) throw new Error(`dangling reference ${value}`)
        visit(target)
      } else {
        visit(value)
      }
    }
  }

  visit({$ref: root})
  return Object.fromEntries([...seen].sort(compare).map(name => [name, definitions[name] ?? {}]))
}

function compileStandalone(schema: Schema): string {
  const ajv = new Ajv({
    allErrors: true, allowUnionTypes: true, code: {source: true}, strict: true,
  })
  addFormats.default(ajv)
  ajv.addFormat('quantity', QUANTITY_FORMAT)
  const validate = ajv.compile(schema)
  return `// Generated by scripts/gen-schemas.ts (npm run schemas) from schemas/pod-v1.schema.json: do not edit.\n${standaloneCode.default(ajv, validate)}\n`
}

function readme(modelsVersion: string, ajvVersion: string, definitions: number): string {
  return `# schemas

The Pod schema files are generated by \`npm run schemas\` (scripts/gen-schemas.ts): do not edit them, or this README, by hand.

- \`pod-v1.schema.json\`: JSON schema of a Kubernetes ${KUBERNETES_VERSION} core/v1 Pod (${definitions} definitions, no unknown
  fields anywhere), from the API types in kubernetes-models@${modelsVersion}. It allows no \`null\` (staticpod drops
  null-valued fields first, as the API decodes them as unset) and has one custom format, \`quantity\`
  (resource.Quantity's syntax, defined in src/manifest/schema.ts).
- \`pod-v1.validate.cjs\`: that schema precompiled by ajv@${ajvVersion} (standalone code; needs ajv and ajv-formats).
`
}

function kib(text: string): string {
  return `${(Buffer.byteLength(text) / 1024).toFixed(1)} KiB`
}

/** Code-point order, independent of locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : (a > b ? 1 : 0)
}

const {values} = parseArgs({options: {out: {type: 'string'}}})
await main(path.resolve(values.out ?? path.join(ROOT, 'schemas')))
