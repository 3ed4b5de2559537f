/**
 * `staticpod validate --format json`: the document of docs/design.md, keys in the order shown there
 * (summary, results; file, document, kind, name, namespace, status, findings; severity, rule, path,
 * line, column, message). Built key by key so that nothing else leaks into the contract.
 */

/* eslint-disable perfectionist/sort-objects -- the key order is the output contract */

import type {DocumentResult, Finding, ValidateResult} from '../manifest/types.js'

export function renderValidateJson(result: ValidateResult): string {
  const {documents, errors, files, invalid, valid} = result.summary
  const out = {
    summary: {
      files, documents, valid, invalid, errors,
    },
    results: result.results.map(document => documentJson(document)),
  }
  return `${JSON.stringify(out, null, 2)}\n`
}

function documentJson(document: DocumentResult): Record<string, unknown> {
  const out: Record<string, unknown> = {file: document.file, document: document.document}
  if (document.kind !== undefined) out.kind = document.kind
  if (document.name !== undefined) out.name = document.name
  if (document.namespace !== undefined) out.namespace = document.namespace
  out.status = document.status
  out.findings = document.findings.map(finding => findingJson(finding))
  return out
}

function findingJson(finding: Finding): Record<string, unknown> {
  return {
    severity: finding.severity,
    rule: finding.rule,
    path: finding.path,
    line: finding.line,
    column: finding.column,
    message: finding.message,
  }
}
/* eslint-enable perfectionist/sort-objects */
