/**
 * `staticpod validate --format junit`: JUnit XML as CI servers read it (Jenkins, GitLab, Azure…).
 *
 * One <testsuite> per file and one <testcase> per YAML document. An invalid document has one
 * <failure> per error finding; a document that could not be read or parsed has <error>s instead.
 * Warnings do not fail a test: they go to the test case's <system-out>, the one place that Jenkins
 * and GitLab both show (neither displays test case <properties>). The suites' `failures` and
 * `errors` count test cases (documents), as JUnit does, not <failure> elements.
 */

import type {DocumentResult, Finding, ValidateResult} from '../manifest/types.js'

import {compareStrings, displayFile, unicodeEscape} from './validate-common.js'

export function renderValidateJunit(result: ValidateResult): string {
  const files = new Map<string, DocumentResult[]>()
  for (const document of result.results) {
    const documents = files.get(document.file)
    if (documents) documents.push(document)
    else files.set(document.file, [document])
  }

  const suites: string[] = []
  const total = {errors: 0, failures: 0, tests: 0}
  for (const file of [...files.keys()].sort(compareStrings)) {
    const documents = (files.get(file) ?? []).sort((a, b) => a.document - b.document)
    const counts = {
      errors: documents.filter(d => d.status === 'error').length,
      failures: documents.filter(d => d.status === 'invalid').length,
      tests: documents.length,
    }
    total.errors += counts.errors
    total.failures += counts.failures
    total.tests += counts.tests
    suites.push(
      `  <testsuite name="${attr(displayFile(file))}" tests="${counts.tests}" failures="${counts.failures}" errors="${counts.errors}">`,
      ...documents.flatMap(document => testcase(document)),
      '  </testsuite>',
    )
  }

  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="staticpod validate" tests="${total.tests}" failures="${total.failures}" errors="${total.errors}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n')
}

/** `Pod kube-system/static-web (document 0)`; as much of it as is known. */
export function testcaseName(document: DocumentResult): string {
  const name = document.namespace && document.name ? `${document.namespace}/${document.name}` : document.name
  const object = [document.kind, name].filter(Boolean).join(' ')
  return object ? `${object} (document ${document.document})` : `document ${document.document}`
}

function testcase(document: DocumentResult): string[] {
  const file = displayFile(document.file)
  const fileAttr = document.file === '-' ? '' : ` file="${attr(document.file)}"`
  const open = `    <testcase name="${attr(testcaseName(document))}" classname="${attr(file)}"${fileAttr}`
  const errors = document.findings.filter(f => f.severity === 'error')
  const warnings = document.findings.filter(f => f.severity === 'warning')

  const body: string[] = []
  if (document.status !== 'valid') {
    const element = document.status === 'error' ? 'error' : 'failure'
    for (const finding of errors) {
      const detail = text(`${file}:${finding.line}:${finding.column} ${finding.rule} ${finding.message}`)
      body.push(`      <${element} message="${attr(finding.message)}" type="${attr(finding.rule)}">${detail}</${element}>`)
    }

    // The counts above promise a <failure>/<error> for this document even if no finding says why.
    if (errors.length === 0) {
      const message = document.status === 'error' ? 'could not be read or parsed' : 'invalid'
      body.push(`      <${element} message="${message}"/>`)
    }
  }

  if (warnings.length > 0) {
    body.push(`      <system-out>${text(warnings.map(w => warningLine(file, w)).join('\n'))}</system-out>`)
  }

  return body.length === 0 ? [`${open}/>`] : [`${open}>`, ...body, '    </testcase>']
}

function warningLine(file: string, finding: Finding): string {
  return `${file}:${finding.line}:${finding.column}: warning ${finding.rule}: ${finding.message}`
}

// Characters XML 1.0 does not allow at all, not even as &#...; references: C0 controls other than
// tab, newline and carriage return, U+FFFE, U+FFFF and unpaired surrogates. They become `\uXXXX`.
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** Character data: `&`, `<`, `>` escaped, `\r` kept (parsers would turn a raw one into `\n`). */
export function text(value: string): string {
  return value
  .replaceAll(NOT_XML, unicodeEscape)
  .replaceAll('&', '&amp;')
  .replaceAll('<', '&lt;')
  .replaceAll('>', '&gt;')
  .replaceAll('\r', '&#13;')
}

/** An attribute value in double quotes; tab and newlines as references, or parsers would make them spaces. */
export function attr(value: string): string {
  return text(value)
  .replaceAll('"', '&quot;')
  .replaceAll("'", '&apos;')
  .replaceAll('\t', '&#9;')
  .replaceAll('\n', '&#10;')
}
