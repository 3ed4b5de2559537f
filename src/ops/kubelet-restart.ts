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
import type {FanOutEvent, NodeStatus} from '../transport/fan-out.js'
import type {NodeExec} from '../transport/node.js'
import type {NodeTarget} from '../transport/target.js'

import {healthz, type HealthzEndpoint} from '../kubelet/effective.js'
import {resolveNodes} from '../nodes/resolve.js'
import {type ConnectedNode, runOnNodes} from '../transport/run-on-nodes.js'
import {readKubeletFiles} from './kubelet-files.js'

/**
 * Arguments: RELOAD(1|0|auto) URL HOST PORT TIMEOUT_MS; auto: daemon-reload when systemd says the
 * unit or a drop-in changed on disk (NeedDaemonReload=yes). URL empty: healthz is off (healthzPort 0), so
 * wait for `systemctl is-active` instead. Output: `reloaded`, `restarted` or `restart-failed CODE`,
 * then `healthy MS` or `unhealthy MS B(LAST)` (the last answer or error, base64).
 */
export const RESTART_SCRIPT = `set -u
LC_ALL=C
export LC_ALL
reload=$1 url=$2 host=$3 port=$4 ms=$5
enc() { printf '%s' "$1" | base64 | tr -d '\\n'; }
now() { t=$(date +%s%N 2>/dev/null); case $t in *N|'') echo $(( $(date +%s) * 1000 )) ;; *) echo $(( t / 1000000 )) ;; esac; }
if [ "$reload" = auto ]; then
  case $(systemctl show -p NeedDaemonReload --value kubelet.service 2>/dev/null) in yes) reload=1 ;; esac
fi
if [ "$reload" = 1 ]; then
  out=$(systemctl daemon-reload 2>&1) || { echo "unhealthy 0 $(enc "systemctl daemon-reload failed: $out")"; exit 0; }
  echo reloaded
fi
systemctl reset-failed kubelet.service >/dev/null 2>&1 || :
start=$(now)
if out=$(systemctl restart kubelet.service 2>&1); then echo restarted
else
  echo "restart-failed $?"
  echo "unhealthy $(( $(now) - start )) $(enc "systemctl restart kubelet: $out")"
  exit 0
fi
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
end=$(( start + ms ))
while :; do
  probe
  if [ "$last" = ok ]; then echo "healthy $(( $(now) - start ))"; exit 0; fi
  [ "$(now)" -lt "$end" ] || break
  sleep 0.5
done
echo "unhealthy $(( $(now) - start )) $(enc "$last")"
`

export interface RestartOptions {
  /** true: always; 'auto': when systemd says a unit file changed on disk (NeedDaemonReload). */
  daemonReload: 'auto' | boolean
  waitMs: number
}

/** The argv of one restart-and-wait. */
export function restartArgv(endpoint: HealthzEndpoint, options: RestartOptions): string[] {
  return [
    'sh',
    '-c',
    RESTART_SCRIPT,
    'staticpod-restart',
    options.daemonReload === 'auto' ? 'auto' : (options.daemonReload ? '1' : '0'),
    endpoint.enabled ? endpoint.url ?? '' : '',
    endpoint.address,
    String(endpoint.port),
    String(Math.max(0, Math.round(options.waitMs))),
  ]
}

export interface RestartOutcome {
  daemonReloaded: boolean
  /** ms from `systemctl restart` to the verdict. */
  durationMs: number
  healthy: boolean
  /** The last answer of healthz (or the error asking it) when not healthy. */
  lastAnswer?: string
  restartFailed?: boolean
  /** What was polled: the healthz URL, or `systemctl is-active` when healthz is off. */
  waitedFor: string
}

/** Parse what RESTART_SCRIPT printed. */
export function parseRestartOutput(stdout: string, waitedFor: string): RestartOutcome {
  const out: RestartOutcome = {
    daemonReloaded: false, durationMs: 0, healthy: false, waitedFor,
  }
  let verdict = false
  for (const line of stdout.split('\n')) {
    const [tag, a, b] = line.split(' ')
    switch (tag) {
    case 'healthy': {
      out.healthy = true
      out.durationMs = Number(a)
      verdict = true
      break
    }

    case 'reloaded': {
      out.daemonReloaded = true
      break
    }

    case 'restart-failed': {
      out.restartFailed = true
      break
    }

    case 'unhealthy': {
      out.durationMs = Number(a)
      out.lastAnswer = Buffer.from(b ?? '', 'base64').toString('utf8').trim()
      verdict = true
      break
    }
    // No default
    }
  }

  if (!verdict) throw new Error(`unexpected output from the node's restart script: ${JSON.stringify(stdout.slice(0, 200))}`)
  return out
}

/** Restart the kubelet on a node and wait until healthz says ok (or waitMs passes). */
export async function restartAndWait(node: NodeExec, endpoint: HealthzEndpoint, options: RestartOptions): Promise<RestartOutcome> {
  const result = await node.run(restartArgv(endpoint, options), {root: true, timeoutMs: options.waitMs + 60_000})
  const waitedFor = endpoint.enabled && endpoint.url ? endpoint.url : 'systemctl is-active kubelet (healthzPort is 0)'
  if (result.code !== 0) {
    return {
      daemonReloaded: false, durationMs: 0, healthy: false, lastAnswer: `restart script exited ${result.code}: ${result.stderr.trim()}`, waitedFor,
    }
  }

  return parseRestartOutput(result.stdout, waitedFor)
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
  options: {connectTimeoutMs?: number; onEvent?: (event: FanOutEvent<unknown>) => void; parallel: number; timeoutMs?: number},
): Promise<SequencedOutcome<T>[]> {
  const out: SequencedOutcome<T>[] = []
  let stop = false
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
      connectTimeoutMs: options.connectTimeoutMs, onEvent: options.onEvent, parallel: options.parallel, timeoutMs: options.timeoutMs,
    })
    for (const o of outcomes) {
      const failed = o.result?.failed === true
      out.push({...o, status: failed ? 'failed' : o.status})
      if (failed || o.status === 'failed' || o.status === 'unreachable') stop = true
    }
  }

  return out
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
  const {targets} = await resolveNodes({
    configPath: options.configPath, cwd: options.cwd, env: options.env, home: options.home, spec: options.spec, sshConfigPath: options.sshConfigPath,
  })
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
