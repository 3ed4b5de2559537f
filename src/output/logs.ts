/**
 * How `staticpod logs` prints: the container's lines as it wrote them (stdout and stderr merged,
 * as `kubectl logs` shows them), each prefixed with `[node] ` when several nodes speak (like
 * `kubectl logs --prefix`), optionally with the runtime's timestamp; the kubelet's lines as its
 * journal has them. Notes about a node (no lines, why the kubelet skipped the file) go to stderr.
 */
import type {KubeletLine} from '../kubelet/journal.js'
import type {NodeKubeletLines, NodeLog} from '../ops/logs.js'
import type {LogLine} from '../runtime/logs.js'
import type {NodeOutcome} from '../transport/fan-out.js'

export interface LineFormat {
  /** Prefix each line with `[node] `. */
  prefix: boolean
  /** Start container lines with the runtime's RFC 3339 timestamp. */
  timestamps: boolean
}

export function formatLogLine(node: string, line: LogLine, format: LineFormat): string {
  return `${format.prefix ? `[${node}] ` : ''}${format.timestamps && line.time ? `${line.time} ` : ''}${line.text}`
}

export function formatKubeletLine(node: string, line: KubeletLine, format: Pick<LineFormat, 'prefix'>): string {
  return `${format.prefix ? `[${node}] ` : ''}${line.raw}`
}

/** What the pod is called in notes: `default/web (web-node1)`, or its file. */
export function describePod(pod: NodeKubeletLines['pod']): string {
  if (pod.name === undefined) return pod.file ?? 'the pod'
  return `${pod.namespace ?? 'default'}/${pod.name} (${pod.mirror})`
}

/** stderr notes for one node's kubelet lines: where they came from when there are none, and the kubelet's reason. */
export function kubeletNotes(node: string, result: NodeKubeletLines): string[] {
  const notes: string[] = []
  const about = [describePod(result.pod), result.pod.name === undefined ? undefined : result.pod.file].filter(Boolean).join(' or ')
  if (result.source === undefined) notes.push(`${node}: no kubelet log found (no kubelet entries in the journal, no kubelet log file)`)
  else if (result.lines.length === 0) notes.push(`${node}: no lines about ${about} in ${result.source}`)
  if (result.reason) notes.push(`${node}: the kubelet did not load ${result.pod.file}: ${result.reason}`)
  return notes
}

/** stderr notes for one node's container log: the runtime CLI's own warnings, an empty log. */
export function logNotes(node: string, result: NodeLog): string[] {
  const {source} = result
  return [
    ...result.warnings.map(warning => `${node}: ${source.runtime}: ${warning}`),
    ...(result.lines.length === 0 ? [`${node}: no log lines from ${source.namespace}/${source.pod} container ${source.container} (${source.runtime} ${source.id.slice(0, 13)}, restarts ${source.restarts}, ${source.state})`] : []),
  ]
}

/** A node's JSON entry: its outcome, and what `body` makes of its result. */
function outcomeJson<T>(outcome: NodeOutcome<T>, body: (result: T) => object): object {
  return {
    node: outcome.node,
    status: outcome.status,
    ...(outcome.error ? {error: outcome.error} : {}),
    ...(outcome.result ? body(outcome.result) : {}),
  }
}

/** `--json`: one document for every node's container log. */
export function logsJson(nodes: ReadonlyArray<NodeOutcome<NodeLog>>): unknown {
  return nodes.map(outcome => outcomeJson(outcome, result => ({
    container: result.source,
    lines: result.lines.map(line => ({stream: line.stream, text: line.text, time: line.time ?? null})),
    warnings: result.warnings,
  })))
}

/** `--kubelet --json`: the kubelet's lines per node, parsed, with its reason. */
export function kubeletJson(nodes: ReadonlyArray<NodeOutcome<NodeKubeletLines>>): unknown {
  return nodes.map(outcome => outcomeJson(outcome, result => ({
    file: result.pod.file ?? null,
    lines: result.lines.map(line => ({
      fields: line.fields, message: line.message, raw: line.raw, severity: line.severity ?? null, time: line.time ?? null,
    })),
    mirrorPod: result.pod.mirror ?? null,
    namespace: result.pod.namespace ?? null,
    pod: result.pod.name ?? null,
    reason: result.reason ?? null,
    source: result.source ?? null,
  })))
}
