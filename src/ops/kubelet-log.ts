/**
 * The kubelet's log on a node, in one round trip (as root): its journal (`journalctl -u kubelet`,
 * k3s' `k3s`/`k3s-agent` units, which run the kubelet in-process) when the journal has entries for
 * it, else the first log file that exists (`/var/log/kubelet.log`, `/var/log/kubernetes/kubelet.log`,
 * RKE2's and k3s' `agent/logs/kubelet.log`). Lines can be filtered on the node by fixed strings (the
 * file, the pod), so a year of journal does not cross the wire; the exact filtering is
 * src/kubelet/journal.ts.
 */
import type {NodeExec} from '../transport/node.js'

import {RemoteCommandError} from '../errors.js'

/** Log files of kubelets that do not log to the journal, in the order they are looked for. */
export const KUBELET_LOG_FILES = [
  '/var/log/kubelet.log',
  '/var/log/kubernetes/kubelet.log',
  '/var/lib/rancher/rke2/agent/logs/kubelet.log',
  '/var/lib/rancher/k3s/agent/logs/kubelet.log',
] as const

/** Units whose journal holds the kubelet's lines. */
const UNITS = ['kubelet', 'k3s', 'k3s-agent'] as const

const HEADER = 'staticpod-kubelet-log '

/**
 * $1 lines (-1: all), $2 since in seconds (0: no limit; the journal only), $3 follow (1) or not (0),
 * $4 how many log files follow, the log files to try when the journal has nothing, then fixed
 * strings, one of which a line must contain (none: every line). Prints
 * `staticpod-kubelet-log SOURCE` (journalctl, a file, or none), then the lines. Following prints the
 * last lines first, then new ones until the session ends (the transport's watchdog stops it).
 */
export const KUBELET_LOG_SCRIPT = `n=$1 s=$2 f=$3 k=$4; shift 4
files=
while [ "$k" -gt 0 ]; do files="$files $1"; shift; k=$((k-1)); done
pat=
for p do
  if [ -z "$pat" ]; then pat=$p; else pat="$pat
$p"; fi
done
lb=
[ "$f" = 1 ] && lb=--line-buffered
keep() { if [ -n "$pat" ]; then grep $lb -F -e "$pat"; else cat; fi; }
last() { if [ "$n" -ge 0 ]; then tail -n "$n"; else cat; fi; }
# show READER: the last $n kept lines of what READER prints; following, READER runs twice, first to
# count, then to print everything and follow, skipping all but the last $n: a line written in between
# is shown (one more), never lost.
show() {
  if [ "$f" != 1 ]; then "$1" | keep | last; return; fi
  m=$("$1" | keep | wc -l)
  skip=0
  [ "$n" -ge 0 ] && [ "$m" -gt "$n" ] && skip=$((m - n))
  "$1" -f | keep | awk -v s="$skip" 'NR > s { print; fflush() }'
}
journal() { journalctl -q --no-pager -o short-iso $units $since \${1:+-f -n all}; }
logfile() { tail -n 500000 \${1:+-F} "$log" 2>/dev/null; }
units="${UNITS.map(unit => `-u ${unit}`).join(' ')}"
if command -v journalctl >/dev/null 2>&1 && [ -n "$(journalctl -q --no-pager -o cat $units -n 1 2>/dev/null)" ]; then
  echo '${HEADER}journalctl -u kubelet'
  since=
  [ "$s" -gt 0 ] && since="--since=-\${s}s"
  show journal
  exit 0
fi
for log in $files; do
  [ -f "$log" ] || continue
  echo "${HEADER}$log"
  show logfile
  exit 0
done
echo '${HEADER}none'
`

export interface KubeletLogOptions {
  /** Keep only lines containing one of these strings (filtered on the node). */
  grep?: string[]
  /** Only lines of the last this many milliseconds (journal only; a log file is read whole). */
  sinceMs?: number
  /** The last this many lines (after the filter). */
  tail?: number
  timeoutMs?: number
}

export interface KubeletLog {
  lines: string[]
  /** `journalctl -u kubelet`, the log file read, or undefined when the node has neither. */
  source?: string
}

/** `logFiles`: where to look when the journal has nothing (default KUBELET_LOG_FILES; paths without spaces). */
export function kubeletLogArgv(options: KubeletLogOptions & {follow?: boolean; logFiles?: readonly string[]}): string[] {
  const since = options.sinceMs === undefined ? 0 : Math.max(1, Math.ceil(options.sinceMs / 1000))
  const files = options.logFiles ?? KUBELET_LOG_FILES
  return [
    'sh',
    '-c',
    KUBELET_LOG_SCRIPT,
    'staticpod-kubelet-log',
    String(options.tail ?? -1),
    String(since),
    options.follow ? '1' : '0',
    String(files.length),
    ...files,
    ...(options.grep ?? []).filter(Boolean),
  ]
}

/** The source named by the script's first line; undefined for "none". */
export function parseSource(header: string): string | undefined {
  if (!header.startsWith(HEADER)) throw new Error(`unexpected output from the kubelet log script: ${JSON.stringify(header.slice(0, 80))}`)
  const source = header.slice(HEADER.length)
  return source === 'none' ? undefined : source
}

/** The kubelet's log lines (as the journal or the file has them), oldest first. */
export async function readKubeletLog(node: NodeExec, options: KubeletLogOptions = {}): Promise<KubeletLog> {
  const argv = kubeletLogArgv(options)
  const result = await node.run(argv, {root: true, timeoutMs: options.timeoutMs ?? 60_000})
  if (result.code !== 0) throw new RemoteCommandError(node.name, 'journalctl -u kubelet', result, `${node.name}: reading the kubelet's log failed (exit ${result.code ?? result.signal})`)
  const [header = '', ...lines] = result.stdout.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return {lines, source: parseSource(header)}
}

/** Turns chunks into whole lines (a last line without a newline comes at end()). */
export function lineReader(onLine: (line: string) => void): {end(): void; push(chunk: Buffer | string): void} {
  let carry = ''
  return {
    end() {
      if (carry !== '') onLine(carry)
      carry = ''
    },
    push(chunk) {
      const text = carry + chunk.toString()
      const lines = text.split('\n')
      carry = lines.pop()!
      for (const line of lines) onLine(line)
    },
  }
}

/**
 * Follows the kubelet's log: `onSource` once, then `onLine` for each line, the last `tail` first.
 * Resolves when the node's command ends (the connection closed, or no log to follow).
 */
export async function followKubeletLog(
  node: NodeExec,
  options: KubeletLogOptions & {onLine: (line: string) => void; onSource: (source: string | undefined) => void},
): Promise<void> {
  let first = true
  const reader = lineReader(line => {
    if (first) {
      first = false
      options.onSource(parseSource(line))
    } else options.onLine(line)
  })
  const result = await node.run(kubeletLogArgv({...options, follow: true}), {onStdout: chunk => reader.push(chunk), root: true})
  reader.end()
  if (result.code !== 0 && result.code !== null) throw new RemoteCommandError(node.name, 'journalctl -u kubelet -f', result, `${node.name}: following the kubelet's log failed (exit ${result.code})`)
}
