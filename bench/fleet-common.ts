// Shared by the fleet bench scripts (bench/fleet-peers.ts, bench/fleet-scale.ts): sandbox nodes with
// realistic static pods, the peers' configuration (parallel-ssh host file, Ansible inventory), and
// one way to time a command: wall clock and the CPU and peak RSS of its process tree from GNU time,
// plus the CPU the nodes' sshd spent on it (their sessions are all reaped by the node's pid 1).
import {spawn, spawnSync} from 'node:child_process'
import {
  closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {type Sandbox, startSandbox} from '../test/sandbox/index.js'
import {benchEnv, root, runJs} from './common.js'

export {median, root, saveResult} from './common.js'

const TIME = '/usr/bin/time'
export const MANIFEST_DIR = '/etc/kubernetes/manifests'

/** A positive integer option `--name N` of the bench's command line. */
export function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`)
  const value = at === -1 ? Number.NaN : Number(process.argv[at + 1])
  return Number.isInteger(value) && value > 0 ? value : fallback
}

export function verdict(ok: boolean): string {
  return ok ? 'met' : 'NOT met'
}

/** Checks what the bench needs and starts the fleet; undefined, after saying why, when it cannot run. */
export async function openFleet(bench: string, options: {nodes: number; peers: boolean; runs: number}): Promise<Fleet | undefined> {
  const missing = missingTools({peers: options.peers})
  if (missing) {
    console.error(`${bench}: cannot run: ${missing}`)
    return undefined
  }

  if (options.runs < 5) console.error(`${bench}: ${options.runs} runs are a smoke test, not a measurement (use at least 5)`)
  return startFleet(options.nodes)
}

/** What a bench keeps of a tool's figures in bench/out/. */
export function kept(tool: ToolFigures): Record<string, unknown> {
  return {
    ...tool, runs: tool.runs.map(run => ({
      cpuMs: run.cpuMs, nodeCpuMs: run.nodeCpuMs, peakRssKiB: run.peakRssKiB, wallMs: run.wallMs,
    })),
  }
}

/** What a bench needs installed, and how to get it; undefined when all is there. */
function missingTools(tools: {peers: boolean}): string | undefined {
  if (process.getuid?.() !== 0) return 'the sandbox nodes need root (namespaces, mounts): run as root.'
  if (!existsSync(runJs) || !existsSync(path.join(root, 'dist', 'commands', 'ls.js'))) return 'the CLI is not built: run `npm run build` first.'
  const needed = [
    ['/usr/sbin/sshd', 'openssh-server'],
    [TIME, 'time'],
    ...(tools.peers ? [['/usr/bin/parallel-ssh', 'pssh'], ['/usr/bin/ansible', 'ansible']] : []),
  ].filter(([file]) => !existsSync(file!))
  if (needed.length === 0) return undefined
  const packages = needed.map(([, name]) => name).join(' ')
  console.error(`fleet bench: installing the Debian packages ${packages} (apt-get install -y ${packages}) ...`)
  const update = spawnSync('apt-get', ['update', '-qq'], {stdio: 'inherit'})
  const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive'}
  const install = update.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', ...needed.map(([, name]) => name!)], {env, stdio: 'inherit'}) : update
  return install.status === 0 ? undefined : `could not install ${packages}: install them with \`apt-get install ${packages}\` and run again.`
}

/** A static pod manifest for each kind of pod the nodes carry. */
function schedulerManifest(): string {
  return `apiVersion: v1
kind: Pod
metadata:
  labels:
    component: kube-scheduler
    tier: control-plane
  name: kube-scheduler
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-scheduler
    - --authentication-kubeconfig=/etc/kubernetes/scheduler.conf
    - --authorization-kubeconfig=/etc/kubernetes/scheduler.conf
    - --bind-address=127.0.0.1
    - --kubeconfig=/etc/kubernetes/scheduler.conf
    - --leader-elect=true
    image: registry.k8s.io/kube-scheduler:v1.31.2
    imagePullPolicy: IfNotPresent
    livenessProbe:
      failureThreshold: 8
      httpGet:
        host: 127.0.0.1
        path: /healthz
        port: 10259
        scheme: HTTPS
      initialDelaySeconds: 10
      periodSeconds: 10
      timeoutSeconds: 15
    name: kube-scheduler
    resources:
      requests:
        cpu: 100m
    volumeMounts:
    - mountPath: /etc/kubernetes/scheduler.conf
      name: kubeconfig
      readOnly: true
  hostNetwork: true
  priority: 2000001000
  priorityClassName: system-node-critical
  securityContext:
    seccompProfile:
      type: RuntimeDefault
  volumes:
  - hostPath:
      path: /etc/kubernetes/scheduler.conf
      type: FileOrCreate
    name: kubeconfig
`
}

/** The pod `add` installs: a small nginx, with an annotation that differs on every write so every tool really writes. */
export function webManifest(revision: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
  labels:
    app: web
  annotations:
    bench.staticpod.io/revision: "${revision}"
spec:
  containers:
  - name: web
    image: docker.io/library/nginx:1.27.2
    ports:
    - name: http
      containerPort: 80
      protocol: TCP
    resources:
      requests:
        cpu: 50m
        memory: 64Mi
`
}

/** The five pods the nodes carry: the examples (etcd, kube-apiserver, kube-vip, static-web) and kube-scheduler. */
function podPool(): Array<{content: string; name: string}> {
  const examples = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-vip.yaml', 'static-web.yaml']
  .map(name => ({content: readFileSync(path.join(root, 'examples', name), 'utf8'), name}))
  return [...examples, {content: schedulerManifest(), name: 'kube-scheduler.yaml'}]
}

export interface Fleet {
  ansibleInventory: string
  /** The environment staticpod runs in: HOME is the sandbox's, so ~/.ssh/config is the same file. */
  env: Record<string, string>
  /** parallel-ssh's host file. */
  hostsFile: string
  /** Manifests on all nodes together. */
  manifests: number
  sandbox: Sandbox
  /** The ssh config every tool uses, given to the peers with -F (ssh reads ~/.ssh/config from the passwd entry's home, not $HOME). */
  sshConfig: string
  stop(): Promise<void>
  /** Scratch directory for outputs (removed by stop()). */
  work: string
}

/** Starts `count` sandbox nodes, each with 3 to 5 of the five pods in its manifest directory. */
export async function startFleet(count: number): Promise<Fleet> {
  const started = Date.now()
  const sandbox = await startSandbox({nodes: count})
  const work = mkdtempSync(path.join(tmpdir(), 'staticpod-fleet-'))
  try {
    const pool = podPool()
    let manifests = 0
    for (const [i, node] of sandbox.nodes.entries()) {
      const dir = path.join(node.root, MANIFEST_DIR)
      mkdirSync(dir, {recursive: true})
      for (let k = 0; k < 3 + (i % 3); k++) {
        const pod = pool[(i + k) % pool.length]!
        writeFileSync(path.join(dir, pod.name), pod.content, {mode: 0o600})
        manifests++
      }
    }

    const hostsFile = path.join(work, 'hosts')
    writeFileSync(hostsFile, sandbox.nodes.map(node => `${node.name}\n`).join(''))
    const ansibleInventory = path.join(work, 'inventory.ini')
    writeFileSync(ansibleInventory, [
      '[nodes]',
      ...sandbox.nodes.map(node => node.name),
      '',
      '[all:vars]',
      `ansible_ssh_common_args='-F ${sandbox.sshConfigPath}'`,
      'ansible_python_interpreter=/usr/bin/python3',
      '',
    ].join('\n'))
    const env: Record<string, string> = {...sandbox.env(), NO_COLOR: '1'}
    delete env.NODE_OPTIONS
    console.log(`${count} sandbox nodes with ${manifests} manifests up in ${((Date.now() - started) / 1000).toFixed(1)} s (${sandbox.dir})`)
    return {
      ansibleInventory,
      env,
      hostsFile,
      manifests,
      sandbox,
      sshConfig: sandbox.sshConfigPath,
      async stop() {
        await sandbox.stop()
        rmSync(work, {force: true, recursive: true})
      },
      work,
    }
  } catch (error) {
    await sandbox.stop()
    rmSync(work, {force: true, recursive: true})
    throw error
  }
}

/** Host CPU ticks the nodes' sshd (and everything their sessions ran, once reaped) have used so far. */
function nodeTicks(fleet: Fleet): number {
  let ticks = 0
  for (const node of fleet.sandbox.nodes) {
    if (node.pid === undefined) continue
    try {
      const stat = readFileSync(`/proc/${node.pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // utime stime cutime cstime: fields 14-17, [11..14] after the command name.
      for (const field of fields.slice(11, 15)) ticks += Number(field)
    } catch {
      // the node is gone; the run will fail on it anyway
    }
  }

  return ticks
}

const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).stdout.trim() || 100)

export interface Measured {
  /** User + system CPU of the tool's process tree, ms. */
  cpuMs: number
  exit: number
  /** CPU the nodes' side spent (sshd, shells, commands), ms. */
  nodeCpuMs: number
  /** Peak RSS of the largest process of the tree, KiB (GNU time's %M). */
  peakRssKiB: number
  /** Its standard error, for when it failed. */
  stderr: string
  stdoutFile: string
  wallMs: number
}

export interface MeasureOptions {
  /** Runs when the command has exited, before the nodes' CPU is read (to end what it left running). */
  afterExit?: () => void
  env?: NodeJS.ProcessEnv
  /** A file given as standard input. */
  input?: string
}

/** Runs argv under GNU time with stdout to a file. */
export async function measure(fleet: Fleet, label: string, argv: string[], options: MeasureOptions = {}): Promise<Measured> {
  const stamp = `${label.replaceAll(/\W+/g, '-')}-${Date.now()}`
  const stdoutFile = path.join(fleet.work, `${stamp}.out`)
  const stderrFile = path.join(fleet.work, `${stamp}.err`)
  const timeFile = path.join(fleet.work, `${stamp}.time`)
  const stdin = options.input ? openSync(options.input, 'r') : 'ignore'
  const stdout = openSync(stdoutFile, 'w')
  const stderr = openSync(stderrFile, 'w')
  const before = nodeTicks(fleet)
  const start = process.hrtime.bigint()
  const child = spawn(TIME, ['-f', '%e %U %S %M', '-o', timeFile, ...argv], {
    cwd: fleet.work, env: options.env ?? benchEnv(), stdio: [stdin, stdout, stderr],
  })
  const exit = await new Promise<number>(resolve => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
  })
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6
  options.afterExit?.()
  // Sessions may be reaped a moment after the client is gone.
  await new Promise(resolve => {
    setTimeout(resolve, 200)
  })
  const nodeCpuMs = (nodeTicks(fleet) - before) * TICK_MS
  for (const fd of [stdout, stderr, ...(typeof stdin === 'number' ? [stdin] : [])]) closeSync(fd)
  const timeLines = readFileSync(timeFile, 'utf8').trim().split('\n')
  const [, user, system, rss] = (timeLines.at(-1) ?? '').split(' ').map(Number)
  return {
    cpuMs: ((user ?? 0) + (system ?? 0)) * 1000,
    exit,
    nodeCpuMs,
    peakRssKiB: rss ?? 0,
    stderr: readFileSync(stderrFile, 'utf8'),
    stdoutFile,
    wallMs,
  }
}

/** argv of the built CLI. */
export function staticpodArgv(...args: string[]): string[] {
  return [process.execPath, runJs, ...args]
}

/** The machine's load averages, to say under which conditions the figures were taken. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
}

/** A command's failure, with the end of its stderr. */
export function failure(label: string, run: Measured): Error {
  return new Error(`${label} failed (exit ${run.exit}):\n${run.stderr.split('\n').slice(-15).join('\n')}`)
}

/** Per-node figures of one tool over its runs. */
export interface ToolFigures {
  cpuMsPerNode: number
  nodeCpuMsPerNode: number
  peakRssMiB: number
  runs: Measured[]
  wallMs: number
}

export function figures(runs: Measured[], nodes: number, median: (values: number[]) => number): ToolFigures {
  return {
    cpuMsPerNode: median(runs.map(run => run.cpuMs)) / nodes,
    nodeCpuMsPerNode: median(runs.map(run => run.nodeCpuMs)) / nodes,
    peakRssMiB: Math.max(...runs.map(run => run.peakRssKiB)) / 1024,
    runs,
    wallMs: median(runs.map(run => run.wallMs)),
  }
}

/** One table row: wall, CPU per node of the tool's own processes, CPU per node on the nodes, peak RSS. */
export function row(name: string, tool: ToolFigures, width: number): string {
  const wall = `${(tool.wallMs / 1000).toFixed(2)} s`.padStart(9)
  const cpu = `${tool.cpuMsPerNode.toFixed(1)} ms`.padStart(10)
  const nodeCpu = `${tool.nodeCpuMsPerNode.toFixed(0)} ms`.padStart(8)
  const rss = `${tool.peakRssMiB.toFixed(0)} MiB`.padStart(8)
  return `  ${name.padEnd(width)} ${wall} ${cpu} ${nodeCpu} ${rss}`
}

export function header(width: number): string {
  return `  ${''.padEnd(width)} ${'wall'.padStart(9)} ${'cpu/node'.padStart(10)} ${'node-side'.padStart(8)} ${'peak RSS'.padStart(8)}`
}
