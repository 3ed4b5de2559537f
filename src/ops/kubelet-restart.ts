/**
 * `staticpod kubelet restart NODES`: `systemctl daemon-reload` when a unit or drop-in changed on
 * disk (systemd's NeedDaemonReload) or when asked, `systemctl restart kubelet`, then wait until the kubelet's healthz endpoint on the node
 * answers `ok`, polling every 500 ms as kubeadm does, all in one remote command. Nodes go one at a
 * time by default and stop at the first failure (the rest are skipped, untouched); `parallel` > 1
 * goes in waves of that many, still stopping after a wave with a failure.
 *
 * Also the building blocks `kubelet flags --restart` uses: restartAndWait and kubeletJournal.
 */
import type {NodeOptions} from '../flags.js'
import type {FanOutDone, FanOutEvent, NodeStatus} from '../transport/fan-out.js'
import type {NodeExec} from '../transport/node.js'
import type {NodeTarget} from '../transport/target.js'

import {healthz, type HealthzEndpoint} from '../kubelet/effective.js'
import {resolveNodes} from '../nodes/resolve.js'
import {type ConnectedNode, runOnNodes} from '../transport/run-on-nodes.js'
import {readKubeletFiles} from './kubelet-files.js'
import {STATE_DIR} from './node-scripts.js'

/**
 * Arguments: RELOAD(1|0|auto) URL HOST PORT TIMEOUT_MS, then optionally the rollback: OLD_URL
 * OLD_HOST OLD_PORT and undo steps (`r PATH BACKUP`: put BACKUP's bytes back at PATH atomically;
 * `d PATH`: remove PATH). RELOAD auto: daemon-reload when systemd says the unit or a drop-in changed
 * on disk (NeedDaemonReload=yes). URL empty: healthz is off (healthzPort 0), so wait for
 * `systemctl is-active` instead.
 *
 * When the kubelet is not healthy in time and undo steps were given, the script rolls back by
 * itself: the kubelet's last journal lines, the previous files, daemon-reload if it reloaded,
 * restart, wait again. It ignores SIGHUP and SIGPIPE, so a connection lost mid-way (or a staticpod
 * that was killed) does not stop a rollback: the node never keeps a dead kubelet because of it.
 *
 * Output, each phase's lines prefixed `rollback-` in the rollback: `reloaded`, `restarted` or
 * `restart-failed CODE`, then `healthy MS` or `unhealthy MS B(LAST)` (the last answer or error,
 * base64); in a rollback first `journal` + base64 body + `.`, and `restored` or `restore-failed B`.
 */
export const RESTART_SCRIPT = `set -u
LC_ALL=C
export LC_ALL
trap '' HUP PIPE
reload=$1 url=$2 host=$3 port=$4 ms=$5
shift 5
enc() { printf '%s' "$1" | base64 | tr -d '\\n'; }
now() { t=$(date +%s%N 2>/dev/null); case $t in *N|'') echo $(( $(date +%s) * 1000 )) ;; *) echo $(( t / 1000000 )) ;; esac; }
probe() {
  if [ -z "$url" ]; then
    if systemctl is-active --quiet kubelet.service; then last=ok; else last="systemctl is-active kubelet: $(systemctl is-active kubelet.service 2>&1)"; fi
  elif command -v curl >/dev/null 2>&1; then
    last=$(curl -sS -m 2 -- "$url" 2>&1) || :
  elif command -v wget >/dev/null 2>&1; then
    last=$(wget -q -T 2 -O - -- "$url" 2>&1) || :
  elif command -v bash >/dev/null 2>&1; then
    last=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; printf "GET /healthz HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n" "$0" >&3; sed -n "\\$p" <&3' "$host" "$port" 2>&1) || :
  else
    last='no curl, wget or bash on the node to ask healthz with'
  fi
}
# restart PREFIX: sets ok=1 when the kubelet came back
restart() {
  ok=0
  if [ "$reload" = 1 ]; then
    out=$(systemctl daemon-reload 2>&1) || { echo "$1unhealthy 0 $(enc "systemctl daemon-reload failed: $out")"; return 0; }
    echo "$1reloaded"
  fi
  systemctl reset-failed kubelet.service >/dev/null 2>&1 || :
  start=$(now)
  if out=$(systemctl restart kubelet.service 2>&1); then echo "$1restarted"
  else
    echo "$1restart-failed $?"
    echo "$1unhealthy $(( $(now) - start )) $(enc "systemctl restart kubelet: $out")"
    return 0
  fi
  end=$(( start + ms ))
  while :; do
    probe
    if [ "$last" = ok ]; then echo "$1healthy $(( $(now) - start ))"; ok=1; return 0; fi
    [ "$(now)" -lt "$end" ] || break
    sleep 0.5
  done
  echo "$1unhealthy $(( $(now) - start )) $(enc "$last")"
}
if [ "$reload" = auto ]; then
  case $(systemctl show -p NeedDaemonReload --value kubelet.service 2>/dev/null) in yes) reload=1 ;; *) reload=0 ;; esac
fi
restart ''
[ "$ok" = 1 ] && exit 0
[ $# -ge 3 ] || exit 0
url=$1 host=$2 port=$3
shift 3
[ $# -gt 0 ] || exit 0
echo journal
journalctl -u kubelet -n 20 --no-pager 2>/dev/null | base64
echo .
fail=
while [ $# -gt 0 ]; do
  case $1 in
  r)
    p=$2 b=$3
    shift 3
    t=\${p%/*}/.staticpod-\${p##*/}.rollback.tmp
    if cat -- "$b" > "$t" && { chmod --reference="$b" -- "$t" 2>/dev/null || :; } && { sync -- "$t" 2>/dev/null || sync; } && mv -f -- "$t" "$p"; then :
    else rm -f -- "$t"; fail="$fail $p"
    fi
    ;;
  d)
    rm -f -- "$2" || fail="$fail $2"
    shift 2
    ;;
  *) shift ;;
  esac
done
if [ -n "$fail" ]; then echo "restore-failed $(enc "could not restore:$fail")"; else echo restored; fi
restart rollback-
`

export interface RestartOptions {
  /** true: always; 'auto': when systemd says a unit file changed on disk (NeedDaemonReload). */
  daemonReload: 'auto' | boolean
  /**
   * Roll back on the node itself when the kubelet does not come back: put these files back
   * (`backup` undefined: the file did not exist, remove it), restart, wait on `endpoint`.
   */
  rollback?: {endpoint: HealthzEndpoint; undo: ReadonlyArray<{backup?: string; path: string}>}
  waitMs: number
}

/**
 * Runs RESTART_SCRIPT ($1) with the rest of the arguments. With a rollback to do, the script runs
 * in its own session (setsid) with its output in a file that is printed when it ends: the
 * transport's watchdog stops the process group of a command whose connection is gone, and a
 * rollback must not be stopped half-way.
 */
export const LAUNCH_SCRIPT = `s=$1
shift
if [ $# -gt 8 ] && command -v setsid >/dev/null 2>&1; then
  d=${STATE_DIR}
  mkdir -p -m 0700 -- "$d" || exit 1
  o=$d/restart.$$.out
  setsid sh -c "$s" staticpod-restart "$@" </dev/null >"$o" 2>&1 &
  wait $!
  st=$?
  cat -- "$o"
  rm -f -- "$o"
  exit $st
fi
exec sh -c "$s" staticpod-restart "$@"
`

/** The argv of one restart-and-wait. */
export function restartArgv(endpoint: HealthzEndpoint, options: RestartOptions): string[] {
  return [
    'sh',
    '-c',
    LAUNCH_SCRIPT,
    'staticpod-restart',
    RESTART_SCRIPT,
    options.daemonReload === 'auto' ? 'auto' : (options.daemonReload ? '1' : '0'),
    endpoint.enabled ? endpoint.url ?? '' : '',
    endpoint.address,
    String(endpoint.port),
    String(Math.max(0, Math.round(options.waitMs))),
    ...(options.rollback ? rollbackArgs(options.rollback) : []),
  ]
}

function rollbackArgs(rollback: NonNullable<RestartOptions['rollback']>): string[] {
  const {endpoint, undo} = rollback
  const args = [endpoint.enabled ? endpoint.url ?? '' : '', endpoint.address, String(endpoint.port)]
  for (const step of undo) {
    if (!step.path.startsWith('/') || step.path.includes('\n') || (step.backup !== undefined && !step.backup.startsWith('/'))) {
      throw new Error(`restartArgv: not a usable absolute path: ${JSON.stringify(step.path)}`)
    }

    args.push(...(step.backup === undefined ? ['d', step.path] : ['r', step.path, step.backup]))
  }

  return args
}

export interface RestartOutcome {
  daemonReloaded: boolean
  /** ms from `systemctl restart` to the verdict. */
  durationMs: number
  healthy: boolean
  /** The last answer of healthz (or the error asking it) when not healthy. */
  lastAnswer?: string
  restartFailed?: boolean
  /** The rollback the node did by itself, when the kubelet did not come back and one was asked for. */
  rollback?: NodeRollback
  /** What was polled: the healthz URL, or `systemctl is-active` when healthz is off. */
  waitedFor: string
}

export interface NodeRollback {
  /** The kubelet's last journal lines after the failed restart: the cause, in its own words. */
  journal: string
  /** The restart after the files were put back. */
  restart?: Omit<RestartOutcome, 'rollback'>
  restored: boolean
  /** Files that could not be put back, in words. */
  restoreError?: string
}

/** Parse what RESTART_SCRIPT printed. */
export function parseRestartOutput(stdout: string, waitedFor: string, rollbackWaitedFor = waitedFor): RestartOutcome {
  const phase = (): Omit<RestartOutcome, 'rollback'> & {verdict: boolean} => ({
    daemonReloaded: false, durationMs: 0, healthy: false, verdict: false, waitedFor,
  })
  const first = phase()
  const second = {...phase(), waitedFor: rollbackWaitedFor}
  let rollback: NodeRollback | undefined
  const lines = stdout.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const [word, a, b] = lines[i]!.split(' ')
    const inRollback = word!.startsWith('rollback-')
    const target = inRollback ? second : first
    switch (inRollback ? word!.slice('rollback-'.length) : word) {
    case 'healthy': {
      target.healthy = true
      target.durationMs = Number(a)
      target.verdict = true
      break
    }

    case 'journal': {
      const body: string[] = []
      for (i++; i < lines.length && lines[i] !== '.'; i++) body.push(lines[i]!)
      rollback = {journal: Buffer.from(body.join(''), 'base64').toString('utf8').trimEnd(), restored: false}
      break
    }

    case 'reloaded': {
      target.daemonReloaded = true
      break
    }

    case 'restart-failed': {
      target.restartFailed = true
      break
    }

    case 'restore-failed': {
      if (rollback) rollback.restoreError = Buffer.from(a ?? '', 'base64').toString('utf8')
      break
    }

    case 'restored': {
      if (rollback) rollback.restored = true
      break
    }

    case 'unhealthy': {
      target.durationMs = Number(a)
      target.lastAnswer = Buffer.from(b ?? '', 'base64').toString('utf8').trim()
      target.verdict = true
      break
    }
    // No default
    }
  }

  if (!first.verdict) throw new Error(`unexpected output from the node's restart script: ${JSON.stringify(stdout.slice(0, 200))}`)
  const strip = ({verdict: _, ...rest}: typeof first) => rest
  if (rollback && second.verdict) rollback.restart = strip(second)
  return {...strip(first), ...(rollback ? {rollback} : {})}
}

/** Restart the kubelet on a node and wait until healthz says ok (or waitMs passes). */
export async function restartAndWait(node: NodeExec, endpoint: HealthzEndpoint, options: RestartOptions): Promise<RestartOutcome> {
  const rounds = options.rollback ? 2 : 1
  const result = await node.run(restartArgv(endpoint, options), {root: true, timeoutMs: (rounds * options.waitMs) + 90_000})
  const waitedFor = describeEndpoint(endpoint)
  if (result.code !== 0) {
    return {
      daemonReloaded: false, durationMs: 0, healthy: false, lastAnswer: `restart script exited ${result.code}: ${result.stderr.trim()}`, waitedFor,
    }
  }

  return parseRestartOutput(result.stdout, waitedFor, options.rollback ? describeEndpoint(options.rollback.endpoint) : waitedFor)
}

function describeEndpoint(endpoint: HealthzEndpoint): string {
  return endpoint.enabled && endpoint.url ? endpoint.url : 'systemctl is-active kubelet (healthzPort is 0)'
}

/** The kubelet's own last journal lines on a node (`journalctl -u kubelet -n LINES`); '' when there is no journal to ask. */
export async function kubeletJournal(node: NodeExec, lines = 20): Promise<string> {
  const result = await node.run(['journalctl', '-u', 'kubelet', '-n', String(lines), '--no-pager'], {root: true, timeoutMs: 15_000}).catch(() => {})
  return result?.code === 0 ? result.stdout.trimEnd() : ''
}

// ---------------------------------------------------------------------------------------------
// Several nodes: one wave at a time, stop after a wave with a failure
// ---------------------------------------------------------------------------------------------

export type SequencedStatus = 'skipped' | NodeStatus

export interface SequencedOutcome<T> {
  durationMs: number
  error?: string
  hints?: string[]
  node: string
  result?: T
  status: SequencedStatus
  warnings: string[]
}

/**
 * Run `job` on the targets `parallel` at a time, in order; once a node fails (or is unreachable),
 * the nodes not yet started are skipped. A job signals its own failure by returning `{failed: true}`.
 */
export async function runInWaves<T extends {failed?: boolean}>(
  targets: readonly NodeTarget[],
  job: (node: ConnectedNode, target: NodeTarget) => Promise<T>,
  options: {connectTimeoutMs?: number; onEvent?: (event: FanOutEvent<T>) => void; parallel: number; timeoutMs?: number},
): Promise<SequencedOutcome<T>[]> {
  const out: SequencedOutcome<T>[] = []
  let stop = false
  let done = 0
  // Progress counts over every wave, and a node whose job reports a failure shows as failed.
  const onEvent = options.onEvent && ((event: FanOutEvent<T>): void => {
    if (event.type !== 'done') {
      options.onEvent!(event)
      return
    }

    done++
    options.onEvent!({...failedAsReported(event), done, total: targets.length})
  })
  for (let i = 0; i < targets.length; i += options.parallel) {
    const wave = targets.slice(i, i + options.parallel)
    if (stop) {
      for (const t of wave) {
        out.push({
          durationMs: 0, error: 'skipped: an earlier node failed', node: t.name, status: 'skipped', warnings: [],
        })
      }

      continue
    }

    // eslint-disable-next-line no-await-in-loop
    const outcomes = await runOnNodes(wave, job, {
      connectTimeoutMs: options.connectTimeoutMs, onEvent, parallel: options.parallel, timeoutMs: options.timeoutMs,
    })
    for (const o of outcomes) {
      const failed = o.result?.failed === true
      out.push({...o, status: failed ? 'failed' : o.status})
      if (failed || o.status === 'failed' || o.status === 'unreachable') stop = true
    }
  }

  return out
}

/** A node whose job reported `{failed: true}` shows as failed in the progress. */
export function failedAsReported<T extends {failed?: boolean}>(event: FanOutDone<T>): FanOutDone<T> {
  return event.outcome.result?.failed === true ? {...event, outcome: {...event.outcome, status: 'failed'}} : event
}

/** 0 when every node succeeded, else 1 (a skipped node means an earlier one failed). */
export function sequencedExitCode(outcomes: ReadonlyArray<{status: SequencedStatus}>): 0 | 1 {
  return outcomes.some(o => o.status === 'failed' || o.status === 'unreachable' || o.status === 'skipped') ? 1 : 0
}

// ---------------------------------------------------------------------------------------------
// The operation
// ---------------------------------------------------------------------------------------------

export interface KubeletRestartOptions extends Omit<NodeOptions, 'timeoutMs'> {
  cwd?: string
  /** Always `systemctl daemon-reload` first (else only when systemd says a unit changed on disk). */
  daemonReload: boolean
  env?: NodeJS.ProcessEnv
  home?: string
  onEvent?: (event: FanOutEvent<unknown>) => void
  spec: string
  /** How long to wait for healthz after the restart. */
  waitMs: number
}

export interface RestartNodeResult {
  durationMs: number
  error?: string
  healthz?: string
  hints?: string[]
  /** The kubelet's last journal lines when it did not come back. */
  journal?: string
  node: string
  restart?: RestartOutcome
  status: SequencedStatus
  warnings: string[]
}

export interface KubeletRestartResult {
  nodes: RestartNodeResult[]
}

export async function restartKubelets(options: KubeletRestartOptions): Promise<KubeletRestartResult> {
  const {targets} = await resolveNodes(options)
  const outcomes = await runInWaves(
    targets,
    async node => {
      const {eff} = await readKubeletFiles(node)
      const endpoint = healthz(eff)
      const restart = await restartAndWait(node, endpoint, {daemonReload: options.daemonReload || 'auto', waitMs: options.waitMs})
      const journal = restart.healthy ? undefined : await kubeletJournal(node)
      return {
        failed: !restart.healthy, healthz: restart.waitedFor, journal, restart, status: 'changed' as const, warnings: eff.warnings,
      }
    },
    {
      connectTimeoutMs: options.connectTimeoutMs, onEvent: options.onEvent, parallel: options.parallel, timeoutMs: options.waitMs + 120_000,
    },
  )
  return {
    nodes: outcomes.map(o => {
      const r = o.result
      const notHealthy = r && !r.restart.healthy
        ? `the kubelet did not answer ok on ${r.restart.waitedFor} within ${formatSeconds(options.waitMs)}${r.restart.lastAnswer ? ` (last: ${r.restart.lastAnswer})` : ''}`
        : undefined
      return {
        durationMs: o.durationMs,
        error: o.error ?? notHealthy,
        healthz: r?.healthz,
        hints: o.hints ?? (notHealthy ? ['See the journal lines above, and `systemctl status kubelet` / `journalctl -xeu kubelet` on the node.'] : undefined),
        journal: r?.journal,
        node: o.node,
        restart: r?.restart,
        status: o.status,
        warnings: [...o.warnings, ...r?.warnings ?? []],
      }
    }),
  }
}

export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`
}
