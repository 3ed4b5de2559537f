/**
 * The --json documents of `ls`, `add`, `rm`, `disable` and `enable`. `ls` follows docs/design.md:
 * one object per static pod per node, `{node, name, namespace, file, sha256, size, modified}` first,
 * then `disabled`, `status`, `path`, `manifestDir`, `warnings`; a node that failed is `{node, error}`.
 * The others print one object per node: its status, the manifest directory, what was done (with
 * --dry-run: what would be done, and for `add` the unified diff of each file).
 */

/* eslint-disable perfectionist/sort-objects -- the key order is the output contract */

import type {AddNodeResult, AddResult} from '../ops/add.js'
import type {ToggleResult} from '../ops/enable-disable.js'
import type {LsResult} from '../ops/ls.js'
import type {RmResult} from '../ops/rm.js'

import {unifiedDiff} from './diff.js'
import {makeChalk} from './progress.js'

const PLAIN = makeChalk(false)

/** A node that could not be read, in the --json arrays of `ls` and `status`: `{node, error, hints?}`. */
export function failedNodeJson(node: {error?: string; hints?: string[]; node: string}): Record<string, unknown> {
  return {node: node.node, error: node.error, ...(node.hints ? {hints: node.hints} : {})}
}

/**
 * `ls --json` (docs/design.md): one object per static pod per node, `{node, name, namespace, file,
 * sha256, size, modified}` plus `disabled`, `status`, `path`, `manifestDir` and `warnings`; an
 * unreachable or failed node is `{node, error}`.
 */
export function lsJson(result: LsResult): unknown[] {
  return result.nodes.flatMap((node): unknown[] => {
    if (node.error !== undefined) return [failedNodeJson(node)]
    return node.entries.map(entry => ({
      node: entry.node,
      name: entry.name,
      namespace: entry.namespace,
      file: entry.file,
      sha256: entry.sha256 ?? null,
      size: entry.size ?? null,
      modified: entry.modified ?? null,
      disabled: entry.disabled,
      status: entry.status,
      path: entry.path,
      manifestDir: node.manifestDir ?? null,
      warnings: entry.warnings,
    }))
  })
}

/** `add --json`: per node, what happened to each manifest. */
export function addJson(result: Extract<AddResult, {nodes: unknown}>): unknown[] {
  return result.nodes.map((node: AddNodeResult) => ({
    node: node.node,
    status: node.status,
    ...(node.error === undefined ? {} : {error: node.error, ...(node.hints ? {hints: node.hints} : {})}),
    manifestDir: node.manifestDir ?? null,
    manifestDirSource: node.manifestDirSource ?? null,
    dryRun: result.dryRun,
    files: node.files.map(file => ({
      file: file.file,
      pod: file.pod,
      path: file.path,
      action: file.action,
      sha256: file.sha256,
      previousSha256: file.previousSha256 ?? null,
      backups: file.backups,
      removed: file.removed,
      retired: file.retired,
      ...(file.diffs ? {diff: file.diffs.map(diff => unifiedDiff(node.node, diff, {chalk: PLAIN})).filter(Boolean).join('\n')} : {}),
    })),
    ...(node.wait
      ? {
        wait: {
          method: node.wait.method,
          ...(node.wait.fallback ? {fallback: node.wait.fallback} : {}),
          pods: node.wait.pods.map(pod => ({
            pod: pod.pod, mirror: pod.mirror, ok: pod.ok, waitedMs: pod.waitedMs, hashBefore: pod.hashBefore ?? null, hashAfter: pod.hashAfter ?? null, state: pod.state,
          })),
        },
      }
      : {}),
    ...(node.rollback ? {rollback: node.rollback} : {}),
    warnings: node.warnings,
  }))
}

export function rmJson(result: RmResult): unknown[] {
  return result.nodes.map(node => ({
    node: node.node,
    status: node.status,
    ...(node.error === undefined ? {} : {error: node.error, ...(node.hints ? {hints: node.hints} : {})}),
    manifestDir: node.manifestDir ?? null,
    dryRun: result.dryRun,
    pods: node.pods.map(pod => ({
      arg: pod.arg, action: pod.action, files: pod.files, backups: pod.backups,
    })),
    warnings: node.warnings,
  }))
}

export function toggleJson(result: ToggleResult): unknown[] {
  return result.nodes.map(node => ({
    node: node.node,
    status: node.status,
    ...(node.error === undefined ? {} : {error: node.error, ...(node.hints ? {hints: node.hints} : {})}),
    manifestDir: node.manifestDir ?? null,
    action: result.action,
    dryRun: result.dryRun,
    moves: node.moves,
    backups: node.backups,
    warnings: node.warnings,
  }))
}
