import type {Dirent, Stats} from 'node:fs'

import {
  closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync,
} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {Finding, ValidateResult} from '../manifest/types.js'

import {UserError} from '../errors.js'
import {
  byPosition, type CheckedDocument, checkFile, fileResult, type PodSchema, statusOf,
} from '../manifest/check.js'
import {
  emptyDirectoryFinding,
  hasManifestExtension,
  markDuplicatePods,
  strayFileFinding,
  subdirectoryFinding,
} from '../manifest/directory-rules.js'
import {fileFinding, MAX_MANIFEST_BYTES, tooLargeFinding} from '../manifest/parse.js'
import {isRuleId, ruleMatcher, RULES} from '../manifest/rules.js'
import {suggest} from '../manifest/schema-findings.js'
import {propertiesAt} from '../manifest/schema-properties.js'
import {compilePodSchemaFile, loadBuiltinPodValidator} from '../manifest/schema.js'

export interface ValidateOptions {
  /** Rule ids or categories (`dir`) to leave out. */
  ignore: string[]
  /** The node the manifests are for, when known: checks the mirror pod name. */
  nodeName?: string
  /** Files, directories, or '-' for standard input. */
  paths: string[]
  readStdin(): Promise<Buffer>
  /** Another Pod JSON schema instead of the built-in one. */
  schemaFile?: string
}

/** One thing to check: a file, or standard input. */
interface Input {
  file: string
  /** Found in a directory the user named: the kubelet would read everything in it. */
  inManifestDir: boolean
}

/** What walking the paths found, besides files: findings about directories themselves. */
interface Walk {
  dirFindings: CheckedDocument[]
  inputs: Input[]
}

const BUILTIN_SCHEMA = fileURLToPath(new URL('../../schemas/pod-v1.schema.json', import.meta.url))

/**
 * Validates manifests in files, directories and standard input. Reads files, never prints. Reading
 * is synchronous: validation is CPU-bound, and small synchronous reads cost a fraction of the
 * promise-based ones.
 */
export async function validate(options: ValidateOptions): Promise<ValidateResult> {
  checkIgnored(options.ignore)
  const walk = walkPaths(options.paths)
  const context = {nodeName: options.nodeName, schema: await loadSchema(options.schemaFile)}

  const documents = [...walk.dirFindings]
  for (const input of walk.inputs) {
    // eslint-disable-next-line no-await-in-loop -- only standard input is read asynchronously, once
    const read = input.file === '-' ? {bytes: await options.readStdin()} : readInput(input.file)
    if ('error' in read) {
      documents.push(fileResult(input.file, read.error))
      continue
    }

    const docs = checkFile(input.file, read.bytes, context)
    const stray = input.file === '-' ? undefined : strayFileFinding(input.file, input.inManifestDir)
    if (stray && docs[0]) docs[0].result.findings.unshift(stray)
    documents.push(...docs)
  }

  markDuplicatePods(documents)

  const ignored = ruleMatcher(options.ignore)
  const results = documents.map(({result}) => {
    const findings = result.findings.filter(f => !ignored(f.rule)).sort(byPosition)
    // A document that could not be parsed stays an error even if its finding is ignored.
    return {...result, findings, status: result.status === 'error' ? result.status : statusOf(findings)}
  })

  return {
    results,
    summary: {
      documents: results.length,
      errors: results.filter(r => r.status === 'error').length,
      files: new Set(results.map(r => r.file)).size,
      invalid: results.filter(r => r.status === 'invalid').length,
      valid: results.filter(r => r.status === 'valid').length,
    },
  }
}

function checkIgnored(ignore: string[]): void {
  const categories = new Set(Object.keys(RULES).map(id => id.slice(0, id.indexOf('/'))))
  for (const id of ignore) {
    if (isRuleId(id) || categories.has(id)) continue
    const hint = suggest(id, [...Object.keys(RULES), ...categories])
    throw new UserError(`unknown rule "${id}" in --ignore`, {
      hints: [hint ? `Did you mean ${hint}?` : 'The README lists the rules.'],
    })
  }
}

/** The Pod schema as checkFile() needs it: the built-in one, or one compiled from a file. */
export async function loadSchema(schemaFile?: string): Promise<PodSchema> {
  const file = schemaFile ?? BUILTIN_SCHEMA
  const validate = schemaFile ? await compilePodSchemaFile(schemaFile) : await loadBuiltinPodValidator()
  // Only unknown fields need the schema's property names; most runs never read the file.
  let root: Record<string, unknown> | undefined
  return {
    properties(instancePath) {
      root ??= JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
      return propertiesAt(root, instancePath)
    },
    validate,
  }
}

function walkPaths(paths: string[]): Walk {
  const walk: Walk = {dirFindings: [], inputs: []}
  for (const p of paths.length > 0 ? paths : ['.']) {
    if (p === '-') {
      walk.inputs.push({file: '-', inManifestDir: false})
      continue
    }

    let info: Stats
    try {
      info = statSync(p)
    } catch (error) {
      const {code, message} = error as NodeJS.ErrnoException
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserError(`${p}: no such file or directory`)
      throw new UserError(`${p}: ${message}`, {exitCode: 1})
    }

    if (info.isDirectory()) {
      const before = walk.inputs.length
      walkManifestDir(p, walk)
      if (walk.inputs.length === before) walk.dirFindings.push(fileResult(p, emptyDirectoryFinding(p)))
    } else {
      walk.inputs.push({file: p, inManifestDir: false})
    }
  }

  return walk
}

/**
 * A directory the user named is read as the kubelet reads a manifest directory: every entry not
 * starting with "." counts, and subdirectories are flagged. Below it we look for manifests only
 * (*.yaml, *.yml, *.json), skipping dot directories and node_modules.
 */
function walkManifestDir(dir: string, walk: Walk): void {
  const base = path.normalize(dir)
  for (const entry of listDir(dir)) {
    if (entry.name.startsWith('.')) continue
    const full = childPath(base, entry.name)
    const kind = entryKind(entry, full)
    if (kind === 'dir') {
      walk.dirFindings.push(fileResult(full, subdirectoryFinding(full)))
      if (entry.name !== 'node_modules') walkTree(full, walk)
    } else if (kind === 'file') {
      walk.inputs.push({file: full, inManifestDir: true})
    }
  }
}

function walkTree(dir: string, walk: Walk): void {
  for (const entry of listDir(dir)) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue
    const full = childPath(dir, entry.name)
    const kind = entryKind(entry, full)
    if (kind === 'dir') walkTree(full, walk)
    else if (kind === 'file' && hasManifestExtension(entry.name)) walk.inputs.push({file: full, inManifestDir: false})
  }
}

/**
 * path.join(dir, name) for a normalized dir and an entry name (no "/", not "." or ".."), without
 * normalizing the whole path again for each of a thousand files.
 */
function childPath(dir: string, name: string): string {
  if (dir === '.') return name
  return dir.endsWith(path.sep) ? dir + name : dir + path.sep + name
}

function listDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, {withFileTypes: true}).sort((a, b) => (a.name < b.name ? -1 : (a.name > b.name ? 1 : 0)))
  } catch (error) {
    throw new UserError(`${dir}: ${(error as Error).message}`, {exitCode: 1})
  }
}

/** Like the kubelet, follow symlinks (os.Stat) to decide what an entry is. */
function entryKind(entry: Dirent, full: string): 'dir' | 'file' | 'other' {
  if (entry.isDirectory()) return 'dir'
  if (entry.isFile()) return 'file'
  if (!entry.isSymbolicLink()) return 'other'
  const target = statSync(full, {throwIfNoEntry: false})
  return target?.isDirectory() ? 'dir' : (target?.isFile() ? 'file' : 'other')
}

/** Most manifests fit in one read into this buffer, which saves a stat and an allocation per file. */
const READ_AHEAD = Buffer.allocUnsafe(64 * 1024)

/**
 * Reads a file, refusing (without reading) one over the kubelet's size limit. The bytes of a small
 * file are a view of a shared buffer: valid until the next call, which is all checkFile needs.
 */
function readInput(file: string): {bytes: Buffer} | {error: Finding} {
  let fd: number | undefined
  try {
    fd = openSync(file, 'r')
    const first = readSync(fd, READ_AHEAD, 0, READ_AHEAD.length, 0)
    if (first < READ_AHEAD.length) return {bytes: READ_AHEAD.subarray(0, first)}
    // Check the size first: the kubelet refuses big files, and we should not read a 4 GiB log.
    const {size} = fstatSync(fd)
    if (size > MAX_MANIFEST_BYTES) return {error: tooLargeFinding(size)}
    const bytes = Buffer.allocUnsafe(size)
    let read = 0
    while (read < size) {
      const n = readSync(fd, bytes, read, size - read, read)
      if (n === 0) break
      read += n
    }

    return {bytes: bytes.subarray(0, read)}
  } catch (error) {
    return {error: fileFinding('file/unreadable', `cannot read: ${(error as Error).message}`)}
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
