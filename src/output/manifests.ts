/**
 * Writers for `ls`, `add`, `rm`, `disable` and `enable`: tables for people (stdout), warnings
 * (stderr, `warning NODE: ...` as the progress renderer writes them), and the --json documents.
 */
// eslint-disable-next-line unicorn/import-style
import type {ChalkInstance} from 'chalk'

import type {AddNodeResult, AddResult} from '../ops/add.js'
import type {ToggleResult} from '../ops/enable-disable.js'
import type {LsEntry, LsResult} from '../ops/ls.js'
import type {PodWaitResult} from '../ops/pod-wait.js'
import type {RmResult} from '../ops/rm.js'

import {printable} from '../ops/pod-ref.js'
import {formatMs} from '../transport/duration.js'
import {formatTable} from './table.js'

/** kubectl's way of saying how old something is: 45s, 3m12s, 14m, 5h3m, 20h, 3d4h, 14d, 2y30d. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  const m = Math.floor(s / 60)
  const h = Math.floor(m / 60)
  const d = Math.floor(h / 24)
  if (s < 120) return `${s}s`
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`
  if (m < 180) return `${m}m`
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`
  if (h < 48) return `${h}h`
  if (h < 192) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`
  if (d < 365 * 2) return `${d}d`
  const y = Math.floor(d / 365)
  return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`
}

function marked(entry: LsEntry): string {
  return entry.disabled ? `${printable(entry.file)} (disabled)` : printable(entry.file)
}

/** The `ls` table: NODE NAME NAMESPACE FILE AGE SHA, rows grouped per node in the order the nodes were named. */
export function renderLsTable(result: LsResult, options: {chalk: ChalkInstance; wide?: boolean}): string {
  const {chalk} = options
  const rows = result.nodes.flatMap(node => node.entries.map(entry => ({entry, manifestDir: node.manifestDir})))
  if (rows.length === 0) return ''
  return formatTable(rows, [
    {header: 'node', value: ({entry}) => entry.node},
    {
      header: 'name',
      style: (text, {entry}) => (entry.disabled ? chalk.dim(text) : (entry.warnings.length > 0 ? chalk.yellow(text) : text)),
      value: ({entry}) => entry.name ?? '-',
    },
    {header: 'namespace', value: ({entry}) => entry.namespace ?? '-'},
    {
      header: 'file',
      style: (text, {entry}) => (entry.disabled ? chalk.dim(text) : (entry.warnings.length > 0 ? chalk.yellow(text) : text)),
      value: ({entry}) => marked(entry),
    },
    {align: 'right', header: 'age', value: ({entry}) => (entry.ageSeconds === undefined ? '-' : formatAge(entry.ageSeconds))},
    ...(options.wide
      ? [
        {align: 'right' as const, header: 'size', value: ({entry}: {entry: LsEntry}) => (entry.size === undefined ? '-' : String(entry.size))},
        {header: 'modified', value: ({entry}: {entry: LsEntry}) => entry.modified?.replace(/\.\d{3}Z$/, 'Z') ?? '-'},
        {header: 'sha256', value: ({entry}: {entry: LsEntry}) => entry.sha256 ?? '-'},
        {header: 'dir', value: ({entry, manifestDir}: {entry: LsEntry; manifestDir?: string}) => (entry.disabled ? dirOf(entry.path) : manifestDir ?? '-')},
      ]
      : [{header: 'sha', value: ({entry}: {entry: LsEntry}) => entry.sha256?.slice(0, 12) ?? '-'}]),
  ])
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/'
}

/** Warnings of `ls` for stderr, grouped per node: the node's own, then each file's. */
export function lsWarnings(result: LsResult, options: {chalk: ChalkInstance}): string[] {
  const lines: string[] = []
  const label = options.chalk.yellow('warning')
  for (const node of result.nodes) {
    for (const warning of node.warnings) lines.push(`${label} ${node.node}: ${printable(warning)}`)
    for (const entry of node.entries) {
      for (const warning of entry.warnings) lines.push(`${label} ${node.node}: ${printable(entry.path)}: ${printable(warning)}`)
    }
  }

  return lines
}

/** `add`: one line per node and manifest: where it went and what happened; with --wait, how the wait went. */
export function renderAddTable(result: Extract<AddResult, {nodes: unknown}>, options: {chalk: ChalkInstance}): string {
  const rows = result.nodes.flatMap(node => node.files.map(file => ({file, node, wait: node.wait?.pods.find(p => p.pod === file.pod)})))
  if (rows.length === 0) return ''
  const {chalk} = options
  const would = result.dryRun ? 'would be ' : ''
  const waited = result.nodes.some(node => node.wait)
  return formatTable(rows, [
    {header: 'node', value: ({node}) => node.node},
    {header: 'pod', value: ({file}) => file.pod},
    {header: 'path', value: ({file}) => printable(file.path)},
    {
      header: 'result',
      style: (text, {file}) => (file.action === 'unchanged' ? chalk.dim(text) : chalk.yellow(text)),
      value: ({file}) => (file.action === 'unchanged' ? 'unchanged' : `${would}${file.action}`),
    },
    {header: 'sha', value: ({file}) => file.sha256.slice(0, 12)},
    {header: 'backup', value: ({file}) => (file.backups.length > 0 ? file.backups.map(b => printable(b)).join(', ') : '-')},
    ...(waited
      ? [
        {
          header: 'wait',
          style: (text: string, {wait}: {wait?: PodWaitResult}) => (wait?.ok ? chalk.green(text) : chalk.red(text)),
          value: ({node, wait}: {node: AddNodeResult; wait?: PodWaitResult}) => (wait ? `${wait.ok ? 'running' : 'not running'} after ${formatMs(wait.waitedMs)} (${node.wait!.method})` : '-'),
        },
        {header: 'state', value: ({wait}: {wait?: PodWaitResult}) => (wait ? printable(wait.state) : '-')},
      ]
      : []),
  ])
}

/** `add --wait`: a line per node that was waited on through its runtime rather than the API server, saying why. */
export function waitNotes(nodes: readonly AddNodeResult[], options: {chalk: ChalkInstance}): string[] {
  const label = options.chalk.cyan('note')
  return nodes.filter(node => node.wait?.fallback).map(node => `${label} ${node.node}: waited through ${node.wait!.method}, not the API server: ${printable(node.wait!.fallback!)}`)
}

/** Node-level warnings of add/rm/enable/disable for stderr. */
export function nodeWarnings(nodes: ReadonlyArray<{node: string; warnings: string[]}>, options: {chalk: ChalkInstance}): string[] {
  const label = options.chalk.yellow('warning')
  return nodes.flatMap(node => node.warnings.map(warning => `${label} ${node.node}: ${printable(warning)}`))
}

/** `rm`: one line per node and POD argument. */
export function renderRmTable(result: RmResult, options: {chalk: ChalkInstance}): string {
  type Row = {backup?: string; node: string; path?: string; pod: RmResult['nodes'][number]['pods'][number]}
  const rows = result.nodes.flatMap(node => node.pods.flatMap((pod): Row[] => (pod.files.length === 0
    ? [{
      backup: undefined, node: node.node, path: undefined, pod,
    }]
    : pod.files.map((file, index) => ({
      backup: pod.backups[index], node: node.node, path: file.disabled ? `${file.path} (disabled)` : file.path, pod,
    })))))
  if (rows.length === 0) return ''
  const {chalk} = options
  return formatTable(rows, [
    {header: 'node', value: row => row.node},
    {header: 'pod', value: row => printable(row.pod.arg)},
    {header: 'path', value: row => (row.path === undefined ? '-' : printable(row.path))},
    {
      header: 'result',
      style: (text, row) => (row.pod.action === 'absent' ? chalk.dim(text) : chalk.yellow(text)),
      value: row => (row.pod.action === 'absent' ? 'absent' : (result.dryRun ? 'would be removed' : 'removed')),
    },
    {header: 'backup', value: row => (row.backup === undefined ? '-' : printable(row.backup))},
  ])
}

/** `disable` / `enable`: one line per node and file moved (or a line saying it already was so). */
export function renderToggleTable(result: ToggleResult, options: {chalk: ChalkInstance}): string {
  const {chalk} = options
  const done = result.action === 'disable' ? 'disabled' : 'enabled'
  const rows = result.nodes.filter(node => node.error === undefined).flatMap(node => (node.moves.length === 0
    ? [{
      from: '-', node: node.node, result: `already ${done}`, to: '-',
    }]
    : node.moves.map(move => ({
      from: move.from, node: node.node, result: result.dryRun ? `would be ${done}` : done, to: move.to,
    }))))
  if (rows.length === 0) return ''
  return formatTable(rows, [
    {header: 'node', value: row => row.node},
    {header: 'from', value: row => printable(row.from)},
    {header: 'to', value: row => printable(row.to)},
    {header: 'result', style: (text, row) => (row.result.startsWith('already') ? chalk.dim(text) : chalk.yellow(text)), value: row => row.result},
  ])
}
