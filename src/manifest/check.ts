import type {DocumentResult, Finding} from './types.js'

import {checkApiRules} from './api-rules.js'
import {asObject, asString, withoutNulls} from './object.js'
import {
  inspectBytes, type ParsedDocument, parseManifest, type Position, type RawFinding,
} from './parse.js'
import {type RuleId, RULES} from './rules.js'
import {type PropertyLookup, type SchemaError, schemaFindings} from './schema-findings.js'
import {checkKind, checkStaticPod} from './static-pod-rules.js'

/** A Pod schema as the checker needs it: validation, and property names for suggestions. */
export interface PodSchema {
  properties: PropertyLookup
  validate(doc: unknown): SchemaError[]
}

export interface CheckContext {
  /** The node the manifest is for, when known (mirror pod name length). */
  nodeName?: string
  schema: PodSchema
}

/** A document's result, and where its fields are, for findings added later (duplicates across files). */
export interface CheckedDocument {
  locate(pointer: string): Position
  result: DocumentResult
}

/** Checks one file's bytes: every document in it, each with located findings. Pure. */
export function checkFile(file: string, bytes: Buffer, context: CheckContext): CheckedDocument[] {
  const bad = inspectBytes(bytes)
  if (bad) return [fileResult(file, bad)]

  const parsed = parseManifest(bytes.toString('utf8'))
  const [empty] = parsed.findings
  if (empty || parsed.documents.length === 0) return [fileResult(file, empty ?? unreachable())]
  return parsed.documents.map(doc => ({locate: doc.locate, result: checkDocument(file, doc, context)}))
}

/** A result for a whole file or directory: one that could not be read or parsed, or a directory finding. */
export function fileResult(file: string, finding: Finding): CheckedDocument {
  return {
    locate: () => ({column: 1, line: 1}), result: {
      document: 0, file, findings: [finding], status: statusOf([finding]),
    },
  }
}

function unreachable(): never {
  throw new Error('parseManifest returned no documents and no finding')
}

function checkDocument(file: string, doc: ParsedDocument, context: CheckContext): DocumentResult {
  const raw: RawFinding[] = []
  if (doc.index > 0 && !doc.empty) {
    raw.push({
      message: `document ${doc.index + 1} is ignored: the kubelet reads only the first document of a file; put each pod in a file of its own`,
      path: '',
      rule: 'static-pod/multiple-documents',
    })
  }

  const value = asObject(doc.value)
  if (doc.empty) {
    raw.push(doc.index === 0
      ? {
        message: 'the first document is empty, and it is the only one the kubelet reads', path: '', rule: 'yaml/empty-document', severity: 'error',
      }
      : {message: 'empty document', path: '', rule: 'yaml/empty-document'})
  } else if (doc.value !== undefined && !value) {
    raw.push({message: `a manifest is a mapping (a Pod object), not ${Array.isArray(doc.value) ? 'a list' : typeof doc.value}`, path: '', rule: 'schema/type'})
  } else if (value) {
    raw.push(...checkPod(value, context))
  }

  const findings = [...doc.findings, ...raw.map(f => locate(f, doc))].sort(byPosition)
  const metadata = asObject(value?.metadata)
  return {
    document: doc.index,
    file,
    findings,
    kind: asString(value?.kind),
    name: asString(metadata?.name),
    namespace: asString(metadata?.namespace),
    status: statusOf(findings, doc.value === undefined && !doc.empty),
  }
}

function checkPod(doc: Record<string, unknown>, context: CheckContext): RawFinding[] {
  const kindFindings = checkKind(doc)
  if (doc.kind !== 'Pod') return kindFindings

  const pod = withoutNulls(doc) as Record<string, unknown>
  const rules = [...kindFindings, ...checkApiRules(pod), ...checkStaticPod(pod, context)]
  // Our own rules say it better where they cover the same field; the schema's enum for kind and
  // apiVersion is the static-pod rule's business.
  const covered = new Set(rules.map(f => f.path))
  const schema = schemaFindings(context.schema.validate(pod), pod, context.schema.properties).filter(f => !covered.has(f.path) && f.path !== '/kind' && f.path !== '/apiVersion')
  return [...rules, ...schema]
}

function locate(finding: RawFinding, doc: ParsedDocument): Finding {
  return {
    ...doc.locate(finding.path),
    message: finding.message,
    path: finding.path,
    rule: finding.rule,
    severity: finding.severity ?? RULES[finding.rule as RuleId]?.severity ?? 'error',
  }
}

/** Rules meaning the document could not be read or parsed at all (status 'error', not 'invalid'). */
const UNPARSEABLE = new Set(['file/binary', 'file/too-large', 'file/unreadable', 'yaml/alias-limit', 'yaml/empty', 'yaml/syntax'])

export function statusOf(findings: Finding[], unparseable = false): DocumentResult['status'] {
  if (unparseable || findings.some(f => UNPARSEABLE.has(f.rule))) return 'error'

  return findings.some(f => f.severity === 'error') ? 'invalid' : 'valid'
}

export function byPosition(a: Finding, b: Finding): number {
  return a.line - b.line || a.column - b.column
}
