/**
 * Writers for `kubelet flags` and `kubelet restart`: per node, the files that feed the kubelet and a
 * KEY VALUE SOURCE table (values that lost indented below the winner, highest first); unified
 * diffs of edits; one line per restart or rollback; and the one JSON document of --json.
 */
// eslint-disable-next-line unicorn/import-style
import type {ChalkInstance} from 'chalk'

import type {KubeletEffective, Setting, SettingSource} from '../kubelet/effective.js'
import type {KubeletFlagsNodeResult, KubeletFlagsResult} from '../ops/kubelet-flags.js'
import type {KubeletRestartResult, RestartOutcome} from '../ops/kubelet-restart.js'

import {healthz} from '../kubelet/effective.js'
import {formatValue, lookupFlag, type SettingValue} from '../kubelet/flags.js'
import {unifiedDiff} from './diff.js'
import {makeChalk} from './progress.js'
import {formatTable} from './table.js'

/** A source as `file:variable`, `file:field`, `file:Environment=NAME`, `file:ExecStart`, `default`, `cmdline`. */
export function sourceLabel(source: SettingSource): string {
  if ('cmdline' in source) return 'cmdline (running kubelet)'
  if ('default' in source) return source.legacy ? 'default (no --config)' : 'default'
  if ('layout' in source) return `${source.layout} default`
  if ('variable' in source) return `${source.file}:${source.variable}`
  if ('environment' in source) return `${source.file}:Environment=${source.environment}`
  if ('execStart' in source) return `${source.file}:ExecStart`
  return `${source.file}:${source.field}`
}

export function valueText(key: string, value: SettingValue): string {
  const text = formatValue(lookupFlag(key), value)
  return text === '' ? '""' : text
}

interface Row {
  key: string
  overridden: boolean
  source: string
  value: string
}

/** The table rows of a node's settings: each setting, then the values it overrode (highest first, defaults left out) and any note, indented. */
export function settingRows(settings: readonly Setting[]): Row[] {
  const rows: Row[] = []
  for (const s of settings) {
    rows.push({
      key: s.key, overridden: false, source: sourceLabel(s.source), value: valueText(s.key, s.value),
    })
    // Defaults that lost go without saying (--json has them).
    for (const o of [...s.overridden].reverse().filter(x => !('default' in x.source))) {
      rows.push({
        key: '  overrides', overridden: true, source: sourceLabel(o.source), value: valueText(s.key, o.value),
      })
    }

    if (s.note) {
      rows.push({
        key: '  note', overridden: true, source: '', value: s.note,
      })
    }
  }

  return rows
}

/** Where the kubelet's settings come from on a node, in the order they apply. */
export function sourceLines(eff: KubeletEffective): Array<[string, string]> {
  const lines: Array<[string, string]> = []
  const none = '(none)'
  lines.push(
    ['layout', eff.layout],
    ['unit', eff.unit?.fragment ?? (eff.unit ? '(drop-ins only)' : none)],
    ['drop-ins', eff.unit?.dropIns.join(', ') || none],
    ['env files', eff.envFiles.map(f => `${f.path}${f.exists ? '' : ' (absent)'}`).join(', ') || none],
    ['--config', eff.configFile ? `${eff.configFile}${eff.configFileExists ? '' : ' (absent)'}` : none],
  )
  if (eff.configDir !== undefined) lines.push(['--config-dir', `${eff.configDir}${eff.configDropIns.length > 0 ? `: ${eff.configDropIns.join(', ')}` : ' (no *.conf)'}`])
  lines.push(['command line', eff.running ? 'the running kubelet\'s (wins over the files until it restarts)' : (eff.argv ? 'from the unit' : none)])
  const h = healthz(eff)
  lines.push(['healthz', h.enabled ? h.url! : 'off (healthzPort 0)'])
  if (eff.unfetched.length > 0) lines.push(['not read', eff.unfetched.join(', ')])
  return lines
}

/** The human view of each node's effective settings. */
export function renderSettings(result: KubeletFlagsResult, options: {chalk: ChalkInstance}): string {
  const {chalk} = options
  const out: string[] = []
  for (const node of result.nodes) {
    if (!node.effective) continue
    if (out.length > 0) out.push('')
    out.push(chalk.bold(node.node))
    const lines = sourceLines(node.effective)
    const width = Math.max(...lines.map(([k]) => k.length))
    for (const [k, v] of lines) out.push(`  ${chalk.dim(k.padEnd(width))}  ${v}`)
    out.push('', formatTable(settingRows(node.effective.settings), [
      {header: 'KEY', style: (t, row) => (row.overridden ? chalk.dim(t) : t), value: row => row.key},
      {header: 'VALUE', style: (t, row) => (row.overridden ? chalk.dim.strikethrough(t) : t), value: row => row.value},
      {header: 'SOURCE', style: (t, row) => (row.overridden ? chalk.dim(t) : t), value: row => row.source},
    ], {color: chalk.level > 0}))
  }

  return out.join('\n')
}

function restartLine(r: RestartOutcome): string {
  const seconds = (r.durationMs / 1000).toFixed(1)
  return r.healthy ? `kubelet restarted${r.daemonReloaded ? ' (after daemon-reload)' : ''}, healthy after ${seconds}s` : `kubelet NOT healthy after ${seconds}s${r.lastAnswer ? ` (last: ${r.lastAnswer})` : ''}`
}

function indent(text: string): string {
  return text.split('\n').map(line => `    ${line}`).join('\n')
}

/** What an edit did on each node: diffs, then a line or two per node. */
export function renderEdit(result: KubeletFlagsResult, options: {chalk: ChalkInstance}): string {
  const {chalk} = options
  const out: string[] = []
  for (const node of result.nodes) {
    const patches = node.diffs.map(d => unifiedDiff(node.node, d, options)).filter(Boolean)
    if (node.status === 'unreachable' || (node.status === 'failed' && !node.rollback)) continue
    if (node.status === 'skipped') continue
    if (patches.length === 0) out.push(chalk.dim(`# ${node.node}: no changes (already so)`))
    else out.push(...patches)
    out.push(...editLines(node, chalk))
  }

  if (result.dryRun) out.push(chalk.dim('# dry run: nothing was written'))
  return out.join('\n')
}

function editLines(node: KubeletFlagsNodeResult, chalk: ChalkInstance): string[] {
  const out: string[] = []
  const backups = node.diffs.filter(d => d.backup).map(d => d.backup!)
  if (backups.length > 0) out.push(`${node.node}: backed up ${backups.join(', ')}`)
  if (node.restart) out.push(`${node.node}: ${restartLine(node.restart)}`)
  if (node.rollback) {
    const rb = node.rollback
    if (rb.error) out.push(chalk.red.bold(`${node.node}: ROLLBACK FAILED: ${rb.error}`))
    else out.push(chalk.yellow(`${node.node}: rolled back: previous files restored, ${rb.restart ? restartLine(rb.restart) : 'kubelet restarted'}`))
    if (rb.journal) out.push(`${node.node}: the kubelet's last journal lines before the rollback:`, indent(rb.journal))
  }

  return out
}

/** `kubelet restart`: one line per node, the journal of any that did not come back. */
export function renderRestart(result: KubeletRestartResult, options: {chalk: ChalkInstance}): string {
  const out: string[] = []
  for (const node of result.nodes) {
    if (node.restart) out.push(`${node.node}: ${restartLine(node.restart)}`)
    else if (node.status === 'skipped') out.push(options.chalk.dim(`${node.node}: skipped (an earlier node failed)`))
    if (node.journal) out.push(`${node.node}: the kubelet's last journal lines:`, indent(node.journal))
  }

  return out.join('\n')
}

function settingJson(s: Setting): Record<string, unknown> {
  return {
    field: s.field ?? null,
    flag: s.flag ?? null,
    key: s.key,
    ...(s.note ? {note: s.note} : {}),
    overridden: [...s.overridden].reverse().map(o => ({source: {...o.source, text: sourceLabel(o.source)}, value: o.value})),
    source: {...s.source, text: sourceLabel(s.source)},
    value: s.value,
  }
}

function effectiveJson(eff: KubeletEffective): Record<string, unknown> {
  return {
    configDir: eff.configDir ?? null,
    configDropIns: eff.configDropIns,
    configFile: eff.configFile ?? null,
    configFileExists: eff.configFileExists,
    dropIns: eff.unit?.dropIns ?? [],
    envFiles: eff.envFiles,
    healthz: healthz(eff),
    layout: eff.layout,
    running: eff.running !== undefined,
    settings: eff.settings.map(s => settingJson(s)),
    unfetched: eff.unfetched,
    unit: eff.unit?.fragment ?? null,
  }
}

/** The one JSON document of `kubelet flags --json`. */
export function kubeletFlagsJson(result: KubeletFlagsResult): Record<string, unknown> {
  return {
    dryRun: result.dryRun,
    nodes: result.nodes.map(node => ({
      node: node.node,
      status: node.status,
      ...(node.error ? {error: node.error} : {}),
      ...(node.hints ? {hints: node.hints} : {}),
      warnings: node.warnings,
      ...(node.effective ? effectiveJson(node.effective) : {}),
      ...(result.editing
        ? {
          changes: node.changes,
          files: node.diffs.map(d => ({
            backup: d.backup ?? null, diff: unifiedDiff(node.node, d, {chalk: makeChalk(false)}), existed: d.before !== undefined, path: d.path,
          })),
        }
        : {}),
      ...(node.restart ? {restart: node.restart} : {}),
      ...(node.rollback ? {rollback: node.rollback} : {}),
    })),
  }
}

/** The one JSON document of `kubelet restart --json`. */
export function kubeletRestartJson(result: KubeletRestartResult): Record<string, unknown> {
  return {
    nodes: result.nodes.map(node => ({
      node: node.node,
      status: node.status,
      ...(node.error ? {error: node.error} : {}),
      ...(node.hints ? {hints: node.hints} : {}),
      healthz: node.healthz ?? null,
      ...(node.restart ? {restart: node.restart} : {}),
      ...(node.journal ? {journal: node.journal} : {}),
      warnings: node.warnings,
    })),
  }
}
