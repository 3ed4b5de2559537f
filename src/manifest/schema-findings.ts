import {createRequire} from 'node:module'

import type {RawFinding} from './parse.js'

import {valueAt} from './object.js'
import {joinPointer, splitPointer} from './pointer.js'

/** The parts of an ajv error we use. */
export interface SchemaError {
  instancePath: string
  keyword: string
  message?: string
  params: Record<string, unknown>
}

/** Property names allowed at an instance path, for "did you mean" (loaded lazily; only unknown fields need it). */
export type PropertyLookup = (instancePath: string) => string[]

/**
 * Turns ajv's errors into findings that name the offending field itself, in the words of someone
 * editing YAML: `unknown field "imagePullPolcy" (did you mean "imagePullPolicy"?)`.
 */
export function schemaFindings(errors: SchemaError[], doc: unknown, properties: PropertyLookup): RawFinding[] {
  const unions = unionTypes(errors)
  const out: RawFinding[] = []
  const seen = new Set<string>()
  for (const error of errors) {
    const finding = toFinding(error, doc, properties, unions)
    if (!finding) continue
    const key = `${finding.rule}\0${finding.path}\0${finding.message}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(finding)
  }

  return out
}

function toFinding(
  error: SchemaError,
  doc: unknown,
  properties: PropertyLookup,
  unions: Map<string, string[]>,
): RawFinding | undefined {
  const {instancePath: path, params} = error
  switch (error.keyword) {
  case 'additionalProperties': {
    const field = String(params.additionalProperty)
    const suggestion = suggest(field, properties(path))
    return {
      message: `unknown field "${field}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
      path: joinPointer([...splitPointer(path), field]),
      rule: 'schema/unknown-field',
    }
  }

  case 'anyOf':
  case 'oneOf': {
    return {
      message: `${fieldName(path)} ${describeUnion(unions.get(path) ?? [])}, not ${describe(valueAt(doc, path))}`,
      path,
      rule: 'schema/type',
    }
  }

  case 'enum': {
    // The API defaults an empty enum field (restartPolicy: "") before validating it.
    if (valueAt(doc, path) === '') return undefined
    const allowed = (params.allowedValues as undefined | unknown[]) ?? []
    return {
      message: `${fieldName(path)} ${JSON.stringify(valueAt(doc, path))} is not one of ${allowed.map(String).filter(Boolean).join(', ')}`,
      path,
      rule: 'schema/enum',
    }
  }

  case 'format': {
    return {message: `${fieldName(path)} must be a valid ${String(params.format)}`, path, rule: 'schema/format'}
  }

  case 'required': {
    const field = String(params.missingProperty)
    return {message: `missing required field "${field}"`, path: joinPointer([...splitPointer(path), field]), rule: 'schema/required'}
  }

  case 'type': {
    if (unions.has(path)) return undefined
    const value = valueAt(doc, path)
    return {message: `${fieldName(path)} must be ${article(String(params.type))}, not ${describe(value)}`, path, rule: 'schema/type'}
  }

  default: {
    return {message: `${fieldName(path)} ${error.message ?? 'is invalid'}`, path, rule: 'schema/invalid'}
  }
  }
}

function describeUnion(types: string[]): string {
  if (types.length === 0) return 'has the wrong type'
  return `must be ${types.map(t => article(t)).join(' or ')}`
}

/** "spec.containers[0].ports[0].containerPort" → the last meaningful name, e.g. "containerPort" or "args[1]". */
function fieldName(path: string): string {
  const segments = splitPointer(path)
  const last = segments.at(-1)
  if (last === undefined) return 'document'
  if (/^\d+$/.test(last)) return `${segments.at(-2) ?? ''}[${last}]`
  return last
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return `a string (${JSON.stringify(value.length > 40 ? value.slice(0, 37) + '...' : value)})`
  if (typeof value === 'number') return Number.isInteger(value) ? `an integer (${value})` : `a number (${value})`
  if (typeof value === 'boolean') return `a boolean (${value})`
  return typeof value
}

function article(type: string): string {
  const names: Record<string, string> = {
    array: 'a list',
    boolean: 'a boolean',
    integer: 'an integer',
    null: 'null',
    number: 'a number',
    object: 'a mapping',
    string: 'a string',
  }
  return type
  .split(',')
  .map(t => names[t] ?? t)
  .join(' or ')
}

/** The closest known name, if it is close enough to be a typo. */
export function suggest(field: string, candidates: string[]): string | undefined {
  if (candidates.length === 0) return undefined
  const lower = field.toLowerCase()
  const caseOnly = candidates.find(c => c.toLowerCase() === lower)
  if (caseOnly) return caseOnly
  // Loaded on the first typo, not at start-up: most runs never suggest anything.
  const {closest, distance} = createRequire(import.meta.url)('fastest-levenshtein') as typeof import('fastest-levenshtein')
  const best = closest(field, candidates)
  return distance(field, best) <= Math.max(2, Math.floor(field.length / 3)) ? best : undefined
}

/**
 * int-or-string and quantity fields are unions: ajv reports the union and each failed branch. We say
 * it once, in terms of the union, so collect the branch types per union path.
 */
function unionTypes(errors: SchemaError[]): Map<string, string[]> {
  const unions = new Map<string, string[]>()
  for (const e of errors) if (e.keyword === 'oneOf' || e.keyword === 'anyOf') unions.set(e.instancePath, [])
  for (const e of errors) {
    const list = e.keyword === 'type' ? unions.get(e.instancePath) : undefined
    if (!list) continue
    for (const t of String(e.params.type).split(',')) if (!list.includes(t)) list.push(t)
  }

  return unions
}
