/**
 * Writers for `status`: the table (file, containers and mirror pod side by side, then the verdict),
 * the reasons under it, the notes about the API server for stderr, and the --json document.
 */
// eslint-disable-next-line unicorn/import-style
import type {ChalkInstance} from 'chalk'

import type {Verdict} from '../ops/status-verdict.js'
import type {StatusResult, StatusRow} from '../ops/status.js'

import {printable} from '../ops/pod-ref.js'
import {failedNodeJson} from './manifests-json.js'
import {formatAge} from './manifests.js'
import {formatTable} from './table.js'

/** How a verdict reads in the table: `file only`, `mirror missing`, ... */
export function verdictText(verdict: Verdict): string {
  return verdict === 'file-only' || verdict === 'mirror-missing' ? verdict.replace('-', ' ') : verdict
}

function styleVerdict(chalk: ChalkInstance, verdict: Verdict, text: string): string {
  switch (verdict) {
  case 'completed':
  case 'running': {
    return chalk.green(text)
  }

  case 'crash-looping':
  case 'failed':
  case 'file-only': {
    return chalk.red(text)
  }

  default: {
    return chalk.yellow(text)
  }
  }
}

function podName(row: StatusRow): string {
  return printable(row.namespace === 'default' ? row.name : `${row.namespace}/${row.name}`)
}

function containersText(row: StatusRow): string {
  if (row.containers === null) return '?'
  if (row.containers.length === 0) return '-'
  return row.containers.map(c => `${c.name} ${c.state}`).join(', ')
}

/** Like kubectl's STATUS and READY: `Running 1/1`; `none`; `no kubeconfig`; `?` when the API server did not answer. */
export function mirrorText(row: StatusRow): string {
  if (row.mirrorLookup === 'no-kubeconfig') return 'no kubeconfig'
  if (row.mirrorLookup === 'failed') return '?'
  const {mirror} = row
  if (!mirror) return 'none'
  const ready = mirror.containers.filter(c => c.ready).length
  const waiting = mirror.containers.find(c => c.state === 'waiting' && c.reason)?.reason
  return `${waiting ?? mirror.phase} ${ready}/${mirror.containers.length}`
}

function restarts(row: StatusRow): string {
  return row.containers === null ? '?' : String(row.containers.reduce((sum, c) => sum + c.restarts, 0))
}

function dash(text: string | undefined): string {
  return text ?? '-'
}

/** NODE POD FILE AGE SHA CONTAINERS RESTARTS MIRROR VERDICT; -o wide: full path and hash, images, start times, mirror name and hash. */
export function renderStatusTable(result: StatusResult, options: {chalk: ChalkInstance; wide?: boolean}): string {
  const {chalk} = options
  const rows = result.nodes.flatMap(node => node.rows)
  if (rows.length === 0) return ''
  return formatTable(rows, [
    {header: 'node', value: row => row.node},
    {header: 'pod', value: row => podName(row)},
    options.wide
      ? {header: 'path', value: row => printable(dash(row.file?.path))}
      : {
        header: 'file',
        style: (text, row) => (row.file && row.file.status !== 'valid' ? chalk.yellow(text) : text),
        value: row => printable(dash(row.file?.file)),
      },
    {align: 'right', header: 'age', value: row => (row.file?.ageSeconds === undefined ? '-' : formatAge(row.file.ageSeconds))},
    {header: options.wide ? 'sha256' : 'sha', value: row => dash(options.wide ? row.file?.sha256 : row.file?.sha256?.slice(0, 12))},
    {header: 'containers', value: row => containersText(row)},
    {align: 'right', header: 'restarts', value: row => restarts(row)},
    ...(options.wide
      ? [
        {header: 'image', value: (row: StatusRow) => (row.containers?.length ? row.containers.map(c => c.image).join(', ') : '-')},
        {header: 'started', value: (row: StatusRow) => (row.containers?.length ? row.containers.map(c => (c.started ?? c.created)?.replace(/\.\d+Z$/, 'Z') ?? '-').join(', ') : '-')},
        {header: 'mirror pod', value: (row: StatusRow) => (row.mirror ? row.mirror.name : '-')},
      ]
      : []),
    {header: 'mirror', value: row => mirrorText(row)},
    ...(options.wide ? [{header: 'config hash', value: (row: StatusRow) => dash(row.mirror?.configHash)}] : []),
    {header: 'verdict', style: (text, row) => styleVerdict(chalk, row.verdict, text), value: row => verdictText(row.verdict)},
  ])
}

/** One line per row that has something to explain: `NODE POD: verdict: reason`. */
export function statusReasons(result: StatusResult, options: {chalk: ChalkInstance}): string[] {
  const line = (row: StatusRow): string => `${row.node} ${podName(row)}: ${styleVerdict(options.chalk, row.verdict, verdictText(row.verdict))}: ${printable(row.reason!)}`
  return result.nodes.flatMap(node => node.rows.filter(row => row.reason).map(row => line(row)))
}

/** For stderr: where mirror pods came from when they did not (no kubeconfig, API server failing), and node warnings. */
export function statusNotes(result: StatusResult, options: {chalk: ChalkInstance}): string[] {
  const label = options.chalk.yellow('warning')
  const lines: string[] = []
  const {cluster} = result
  if (cluster.state === 'none') lines.push('No kubeconfig (--kubeconfig, the inventory\'s kubeconfig:, KUBECONFIG or ~/.kube/config): mirror pods not looked up.')
  for (const arg of result.unmatched) lines.push(`${label} ${printable(arg)}: no such static pod on ${result.nodes.length === 1 ? 'the node' : 'any of the nodes'}`)
  if (cluster.state === 'error') lines.push(`${label} mirror pods unknown: ${cluster.error ?? 'the API server did not answer'} (context ${cluster.context})`)
  for (const node of result.nodes) for (const warning of node.warnings) lines.push(`${label} ${node.node}: ${printable(warning)}`)
  return lines
}

/* eslint-disable perfectionist/sort-objects -- the key order is the output contract */

/**
 * `status --json`: one object per static pod per node, `{node, nodeName, name, namespace, verdict,
 * reason, file, runtime, containers, mirrorName, mirrorLookup, [mirrorError,] mirror}`; a node that
 * failed is `{node, error}`.
 */
export function statusJson(result: StatusResult): unknown[] {
  return result.nodes.flatMap((node): unknown[] => {
    if (node.error !== undefined) return [failedNodeJson(node)]
    return node.rows.map(row => ({
      node: row.node,
      nodeName: node.nodeName ?? null,
      name: row.name,
      namespace: row.namespace,
      verdict: row.verdict,
      reason: row.reason ?? null,
      file: row.file,
      runtime: node.runtime ?? null,
      containers: row.containers,
      mirrorName: row.mirrorName,
      mirrorLookup: row.mirrorLookup,
      ...(row.mirrorError === undefined ? {} : {mirrorError: row.mirrorError}),
      mirror: row.mirror,
    }))
  })
}
