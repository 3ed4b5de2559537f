import type {Dirent} from 'node:fs'

import {readFileSync} from 'node:fs'
import {readdir, readFile, stat} from 'node:fs/promises'
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

/** Validates manifests in files, directories and standard input. Reads files, never prints. */
export async function validate(options: ValidateOptions): Promise<ValidateResult> {
  checkIgnored(options.ignore)
  const [schema, walk] = await Promise.all([loadSchema(options.schemaFile), walkPaths(options.paths)])
  const context = {nodeName: options.nodeName, schema}

  const checked = await mapLimit(walk.inputs, 16, async input => {
    const read = await readInput(input, options)
    if ('error' in read) return [fileResult(input.file, read.error)]
    const docs = checkFile(input.file, read.bytes, context)
    const stray = input.file === '-' ? undefined : strayFileFinding(input.file, input.inManifestDir)
    if (stray && docs[0]) docs[0].result.findings.unshift(stray)
    return docs
  })
  const documents = [...walk.dirFindings, ...checked.flat()]
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

async function loadSchema(schemaFile: string | undefined): Promise<PodSchema> {
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

/* eslint-disable no-await-in-loop -- walking is sequential on purpose: results keep the order of the
   arguments and of the sorted directory entries; reading the files is what runs in parallel. */
async function walkPaths(paths: string[]): Promise<Walk> {
  const walk: Walk = {dirFindings: [], inputs: []}
  for (const p of paths.length > 0 ? paths : ['.']) {
    if (p === '-') {
      walk.inputs.push({file: '-', inManifestDir: false})
      continue
    }

    const info = await stat(p).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') throw new UserError(`${p}: no such file or directory`)
      throw new UserError(`${p}: ${error.message}`, {exitCode: 1})
    })
    if (info.isDirectory()) {
      const before = walk.inputs.length
      await walkManifestDir(p, walk)
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
async function walkManifestDir(dir: string, walk: Walk): Promise<void> {
  for (const entry of await listDir(dir)) {
    if (entry.name.startsWith('.')) continue
    const full = path.join(dir, entry.name)
    const kind = await entryKind(entry, full)
    if (kind === 'dir') {
      walk.dirFindings.push(fileResult(full, subdirectoryFinding(full)))
      if (entry.name !== 'node_modules') await walkTree(full, walk)
    } else if (kind === 'file') {
      walk.inputs.push({file: full, inManifestDir: true})
    }
  }
}

async function walkTree(dir: string, walk: Walk): Promise<void> {
  for (const entry of await listDir(dir)) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue
    const full = path.join(dir, entry.name)
    const kind = await entryKind(entry, full)
    if (kind === 'dir') await walkTree(full, walk)
    else if (kind === 'file' && hasManifestExtension(entry.name)) walk.inputs.push({file: full, inManifestDir: false})
  }
}

/* eslint-enable no-await-in-loop */

async function listDir(dir: string): Promise<Dirent[]> {
  try {
    const entries = await readdir(dir, {withFileTypes: true})
    return entries.sort((a, b) => (a.name < b.name ? -1 : (a.name > b.name ? 1 : 0)))
  } catch (error) {
    throw new UserError(`${dir}: ${(error as Error).message}`, {exitCode: 1})
  }
}

/** Like the kubelet, follow symlinks (os.Stat) to decide what an entry is. */
async function entryKind(entry: Dirent, full: string): Promise<'dir' | 'file' | 'other'> {
  if (entry.isDirectory()) return 'dir'
  if (entry.isFile()) return 'file'
  if (!entry.isSymbolicLink()) return 'other'
  const target = await stat(full).catch(() => {})
  return target?.isDirectory() ? 'dir' : (target?.isFile() ? 'file' : 'other')
}

async function readInput(input: Input, options: ValidateOptions): Promise<{bytes: Buffer} | {error: Finding}> {
  try {
    if (input.file === '-') return {bytes: await options.readStdin()}
    // Check the size first: the kubelet refuses big files, and we should not read a 4 GiB log.
    const {size} = await stat(input.file)
    if (size > MAX_MANIFEST_BYTES) return {error: tooLargeFinding(size)}

    return {bytes: await readFile(input.file)}
  } catch (error) {
    return {error: fileFinding('file/unreadable', `cannot read: ${(error as Error).message}`)}
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = Array.from({length: items.length})
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      // eslint-disable-next-line no-await-in-loop -- each worker takes one item at a time
      out[i] = await fn(items[i]!)
    }
  }

  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return out
}
