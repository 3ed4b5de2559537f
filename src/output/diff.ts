/**
 * Unified diffs for --dry-run: per node, each file as it is on the node against what staticpod
 * would write (`/dev/null` for a file that would be created or removed), labelled NODE:PATH.
 */
// eslint-disable-next-line unicorn/import-style
import type {ChalkInstance} from 'chalk'

import {createTwoFilesPatch} from 'diff'

import type {FileDiff} from '../ops/add.js'

import {printable} from '../ops/pod-ref.js'

/** One file's unified diff (3 lines of context); empty when before and after are the same. */
export function unifiedDiff(node: string, diff: FileDiff, options: {chalk: ChalkInstance}): string {
  if (diff.before === diff.after) return ''
  const label = `${node}:${printable(diff.path)}`
  const patch = createTwoFilesPatch(
    diff.before === undefined ? '/dev/null' : label,
    diff.after === undefined ? '/dev/null' : label,
    diff.before ?? '',
    diff.after ?? '',
    undefined,
    undefined,
    {context: 3},
  )
  const {chalk} = options
  return patch
  .split('\n')
  .filter(line => !/^=+$/.test(line) && !line.startsWith('Index: '))
  .map(line => {
    if (line.startsWith('+++') || line.startsWith('---')) return chalk.bold(line)
    if (line.startsWith('@@')) return chalk.cyan(line)
    if (line.startsWith('+')) return chalk.green(line)
    if (line.startsWith('-')) return chalk.red(line)
    return line
  })
  .join('\n')
  .trimEnd()
}

/** Every node's diffs, one after the other; a node with nothing to change says so. */
export function renderDiffs(nodes: ReadonlyArray<{diffs: FileDiff[]; node: string}>, options: {chalk: ChalkInstance}): string {
  const out: string[] = []
  for (const {diffs, node} of nodes) {
    const patches = diffs.map(diff => unifiedDiff(node, diff, options)).filter(Boolean)
    if (patches.length === 0) out.push(options.chalk.dim(`# ${node}: no changes`))
    else out.push(...patches)
  }

  return out.join('\n')
}
