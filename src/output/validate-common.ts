/** Helpers shared by the `validate` writers (text, json, junit, sarif). */

import type {DocumentResult, Finding} from '../manifest/types.js'

/** One finding with the document it belongs to. */
export interface LocatedFinding {
  document: DocumentResult
  finding: Finding
}

/** How a file is named to a person: stdin ('-') is `<stdin>`, like gcc does. */
export function displayFile(file: string): string {
  return file === '-' ? '<stdin>' : file
}

/**
 * Every finding of every document, ordered by file, then line, then column. Files compare by code
 * point (not locale), so the order is the same on every machine; ties keep their input order.
 */
export function findingsInOrder(results: readonly DocumentResult[]): LocatedFinding[] {
  const located: LocatedFinding[] = []
  for (const document of results) {
    for (const finding of document.findings) located.push({document, finding})
  }

  return located.sort((a, b) =>
    compareStrings(a.document.file, b.document.file)
    || a.finding.line - b.finding.line
    || a.finding.column - b.finding.column)
}

/** Documents with status 'error' that carry no finding to say why (the writers still report them). */
export function silentErrors(results: readonly DocumentResult[]): DocumentResult[] {
  return results.filter(document => document.status === 'error' && document.findings.length === 0)
}

export function compareStrings(a: string, b: string): number {
  if (a === b) return 0
  return a < b ? -1 : 1
}

/** Counts of error and warning findings. */
export function countFindings(results: readonly DocumentResult[]): {errors: number; warnings: number} {
  let errors = 0
  let warnings = 0
  for (const document of results) {
    for (const finding of document.findings) {
      if (finding.severity === 'error') errors++
      else warnings++
    }
  }

  return {errors, warnings}
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

// C0 controls except tab, DEL and C1 controls: a newline would break one-finding-per-line output, and
// ESC or CSI in a file name or YAML value would drive the user's terminal.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0008\u000A-\u001F\u007F-\u009F]/g

/** Text safe to print on one terminal line: control characters become `\uXXXX`. */
export function printable(text: string): string {
  return text.replaceAll(UNPRINTABLE, unicodeEscape)
}

export function unicodeEscape(char: string): string {
  return `\\u${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
}
