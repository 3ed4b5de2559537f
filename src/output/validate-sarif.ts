/**
 * `staticpod validate --format sarif`: SARIF 2.1.0 for code-scanning tools (GitHub, GitLab, IDE viewers).
 *
 * One run. Every result has a real region (startLine/startColumn of the offending field's key), which
 * is what other Kubernetes linters leave out, plus the JSON pointer as a logical location. Paths
 * under the working directory are relative URIs against %SRCROOT%; paths outside it are absolute
 * file: URIs; stdin is `-`, as the user typed it, with no base.
 */

/* eslint-disable perfectionist/sort-objects -- keys in the order SARIF's own examples use, which reads better than A-Z */

import path from 'node:path'
import {pathToFileURL} from 'node:url'

import type {DocumentResult, Finding, ValidateResult} from '../manifest/types.js'

import {compareStrings, findingsInOrder, silentErrors} from './validate-common.js'

export interface ValidateSarifOptions {
  /** Directory that relative URIs are relative to (%SRCROOT%); default: the process's working directory. */
  cwd?: string
  /** Where staticpod is documented (tool.driver.informationUri); left out when not given. */
  informationUri?: string
  /** One line per rule id (rules' shortDescription); a rule without one is described by its id. */
  ruleDescriptions?: Record<string, string>
  /** staticpod's version (tool.driver.version). */
  version: string
}

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json'

// The subset of SARIF 2.1.0 written here (names as in the spec).
export interface ArtifactLocation {
  uri: string
  uriBaseId?: string
}

interface SarifLocation {
  logicalLocations?: Array<{fullyQualifiedName: string}>
  physicalLocation: {artifactLocation: ArtifactLocation; region?: {startColumn?: number; startLine: number}}
}

interface SarifResult {
  level: 'error' | 'warning'
  locations: SarifLocation[]
  message: {text: string}
  properties: Record<string, number | string>
  ruleId: string
  ruleIndex: number
}

interface Notification {
  level: 'error'
  locations: SarifLocation[]
  message: {text: string}
}

const SRCROOT = '%SRCROOT%'

export function renderValidateSarif(result: ValidateResult, options: ValidateSarifOptions): string {
  const cwd = path.resolve(options.cwd ?? process.cwd())
  const located = findingsInOrder(result.results)

  const ruleIds = [...new Set(located.map(({finding}) => finding.rule))].sort(compareStrings)
  const ruleIndex = new Map(ruleIds.map((id, index) => [id, index]))
  const rules = ruleIds.map(id => ({id, shortDescription: {text: options.ruleDescriptions?.[id] ?? id}}))

  const results: SarifResult[] = located.map(({document, finding}) => ({
    ruleId: finding.rule,
    ruleIndex: ruleIndex.get(finding.rule) ?? -1,
    level: finding.severity,
    message: {text: finding.message},
    locations: [location(document, finding, cwd)],
    properties: documentProperties(document),
  }))

  // A document that failed without a finding has no rule to report a result under: SARIF's place
  // for "could not analyse this" is a tool execution notification.
  const notifications: Notification[] = silentErrors(result.results).map(document => ({
    level: 'error',
    message: {text: `document ${document.document} could not be read or parsed`},
    locations: [{physicalLocation: {artifactLocation: artifactLocation(document.file, cwd)}}],
  }))

  const driver = {
    name: 'staticpod',
    version: options.version,
    ...(options.informationUri === undefined ? {} : {informationUri: options.informationUri}),
    rules,
  }
  const run = {
    tool: {driver},
    ...(notifications.length === 0
      ? {}
      : {invocations: [{executionSuccessful: false, toolExecutionNotifications: notifications}]}),
    originalUriBaseIds: {[SRCROOT]: {uri: directoryUri(cwd)}},
    columnKind: 'utf16CodeUnits',
    results,
  }
  const log = {$schema: SARIF_SCHEMA_URI, version: '2.1.0', runs: [run]}

  return `${JSON.stringify(log, null, 2)}\n`
}

function location(document: DocumentResult, finding: Finding, cwd: string): SarifLocation {
  const out: SarifLocation = {physicalLocation: {artifactLocation: artifactLocation(document.file, cwd)}}
  // Columns count UTF-16 code units (JavaScript string offsets), hence run.columnKind.
  if (finding.line >= 1) {
    out.physicalLocation.region = finding.column >= 1 ? {startLine: finding.line, startColumn: finding.column} : {startLine: finding.line}
  }

  if (finding.path !== '') out.logicalLocations = [{fullyQualifiedName: finding.path}]
  return out
}

/** Which document of the file a result is about (a file may hold several). */
function documentProperties(document: DocumentResult): Record<string, number | string> {
  const properties: Record<string, number | string> = {document: document.document}
  if (document.kind !== undefined) properties.kind = document.kind
  if (document.name !== undefined) properties.name = document.name
  if (document.namespace !== undefined) properties.namespace = document.namespace
  return properties
}

/** `web.yaml` → {uri: 'web.yaml', uriBaseId: '%SRCROOT%'}; outside cwd → absolute file: URI; stdin → '-'. */
export function artifactLocation(file: string, cwd: string): ArtifactLocation {
  // stdin has no URI; '-' is what the user typed and what the JSON output says. Without a
  // uriBaseId it cannot be taken for a file `-` under %SRCROOT% (that one would be `./-`).
  if (file === '-') return {uri: '-'}
  const absolute = path.resolve(cwd, file)
  const relative = path.relative(cwd, absolute)
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    return {uri: pathToFileURL(absolute).href}
  }

  const uri = relative === '' ? './' : relative.split(path.sep).map(segment => encodeURIComponent(segment)).join('/')
  return {uri, uriBaseId: SRCROOT}
}

/** A directory's file: URI, with the trailing slash SARIF requires of a base URI. */
function directoryUri(directory: string): string {
  const {href} = pathToFileURL(directory)
  return href.endsWith('/') ? href : `${href}/`
}
