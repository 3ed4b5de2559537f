/** Validation results as data: the contract of `validate --format json` (docs/design.md). */

export type Severity = 'error' | 'warning'

export interface Finding {
  /** 1-based column of the offending field's key (or of the problem, for syntax errors). */
  column: number
  /** 1-based line of the offending field's key. */
  line: number
  message: string
  /** JSON pointer to the offending field itself, '' for the whole document or file. */
  path: string
  rule: string
  severity: Severity
}

export type DocumentStatus = 'error' | 'invalid' | 'valid'

export interface DocumentResult {
  /** 0-based index of the YAML document in the file. */
  document: number
  /** Path as the user gave it ('-' for stdin). */
  file: string
  findings: Finding[]
  kind?: string
  name?: string
  namespace?: string
  status: DocumentStatus
}

export interface ValidateSummary {
  documents: number
  /** Documents (or files) that could not be read or parsed. */
  errors: number
  files: number
  invalid: number
  valid: number
}

export interface ValidateResult {
  results: DocumentResult[]
  summary: ValidateSummary
}
