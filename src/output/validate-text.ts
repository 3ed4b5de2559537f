/**
 * `staticpod validate --format text`: one line per finding, in the form compilers use so that
 * editors and CI jump to it (`file:line:column: severity rule: message`), then one summary line.
 */

// eslint-disable-next-line unicorn/import-style -- a type only
import type {ChalkInstance} from 'chalk'

import type {DocumentResult, Finding, ValidateResult} from '../manifest/types.js'

import {
  countFindings, displayFile, findingsInOrder, plural, printable, silentErrors,
} from './validate-common.js'

export interface ValidateTextOptions {
  /**
   * The caller's Chalk when the output is coloured (it decides: terminal, NO_COLOR), else false for
   * plain text. A pre-commit run is never coloured, so it never loads chalk.
   */
  color: ChalkInstance | false
  /** Print only error findings, and no summary line when every document is valid. */
  quiet?: boolean
}

export function renderValidateText(result: ValidateResult, options: ValidateTextOptions): string {
  const c = options.color || PLAIN
  const lines: string[] = []

  for (const {document, finding} of findingsInOrder(result.results)) {
    if (options.quiet && finding.severity !== 'error') continue
    lines.push(findingLine(c, document, finding))
  }

  // A document that failed without a finding to say why still gets a line of its own.
  for (const document of silentErrors(result.results)) {
    const where = c.bold(`${printable(displayFile(document.file))}:`)
    lines.push(`${where} ${c.red.bold('error')}: document ${document.document} could not be read or parsed`)
  }

  const {errors, invalid} = result.summary
  if (!options.quiet || invalid > 0 || errors > 0) lines.push(summaryLine(c, result))

  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}

/** Chalk's interface without colour: every style, however chained, returns the text as it is. */
const PLAIN: ChalkInstance = new Proxy(String, {get: () => PLAIN}) as unknown as ChalkInstance

function findingLine(c: ChalkInstance, document: DocumentResult, finding: Finding): string {
  const where = `${printable(displayFile(document.file))}:${finding.line}:${finding.column}:`
  const severity = finding.severity === 'error' ? c.red.bold('error') : c.yellow.bold('warning')
  return `${c.bold(where)} ${severity} ${c.dim(`${printable(finding.rule)}:`)} ${printable(finding.message)}`
}

/**
 * `2 files, 3 documents: 1 valid, 1 invalid, 1 unreadable — 4 errors, 1 warning`. Zero counts are
 * left out; "unreadable" counts the documents (or files) that could not be read or parsed, so that
 * it does not read as the number of error findings that follows.
 */
function summaryLine(c: ChalkInstance, result: ValidateResult): string {
  const {documents, errors, files, invalid, valid} = result.summary
  let line = `${plural(files, 'file')}, ${plural(documents, 'document')}`

  const states: string[] = []
  if (valid > 0) states.push(c.green(`${valid} valid`))
  if (invalid > 0) states.push(c.red(`${invalid} invalid`))
  if (errors > 0) states.push(c.red(`${errors} unreadable`))
  if (states.length > 0) line += `: ${states.join(', ')}`

  const counts = countFindings(result.results)
  const found: string[] = []
  if (counts.errors > 0) found.push(c.red(plural(counts.errors, 'error')))
  if (counts.warnings > 0) found.push(c.yellow(plural(counts.warnings, 'warning')))
  if (found.length > 0) line += ` — ${found.join(', ')}`

  return line
}
