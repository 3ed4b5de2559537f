// The systemd stand-in of a node: loads units (reloaded only on daemon-reload, as systemd does), starts their
// ExecStart= with the expanded environment, restarts them per Restart=/RestartSec=, stops them (SIGTERM to the
// process group, SIGKILL after TimeoutStopSec), and writes what systemd and the services say to the journal.
// The kubelet's ExecStart= binary (any path whose base name is `kubelet`) runs the kubelet stand-in.
import {type ChildProcess, spawn} from 'node:child_process'
import {
  existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, unlinkSync,
} from 'node:fs'
import {constants} from 'node:os'
import path from 'node:path'

import {killGroup} from '../shared/util.js'
import {Journal} from './journal.js'
import {
  expandCommandLine,
  findUnitFiles,
  type LoadedUnit,
  loadUnit,
  parseEnvironmentAssignments,
  parseEnvironmentFile,
  snapshotOf,
} from './units.js'

export type ActiveState = 'activating' | 'active' | 'deactivating' | 'failed' | 'inactive'

export interface ServiceStatus {
  activeState: ActiveState
  argv: string[]
  /** Microseconds since the epoch of the last state change. */
  changedAt: number
  description: string
  documentation: string[]
  dropIns: string[]
  enabled: boolean
  environment: string[]
  environmentFiles: {optional: boolean; path: string}[]
  execStartRaw: string
  fragmentPath: string
  lastExit?: {code: 'dumped' | 'exited' | 'killed'; pid: number; status: number}
  loadState: 'bad-setting' | 'loaded' | 'not-found'
  mainPid: number
  name: string
  needDaemonReload: boolean
  nRestarts: number
  result: string
  subState: string
}

const SUB_STATES: Record<ActiveState, string> = {
  activating: 'auto-restart',
  active: 'running',
  deactivating: 'stop-sigterm',
  failed: 'failed',
  inactive: 'dead',
}

/** Where `systemctl enable` puts the unit's symlink (WantedBy=multi-user.target). */
const WANTS_DIR = '/etc/systemd/system/multi-user.target.wants'

/** A unit played in-process by the node daemon (the container runtime): always running, never restarted. */
export interface BuiltinUnit {
  description: string
  documentation: string[]
  name: string
}

interface Service {
  /** Times of the automatic (Restart=) starts, for the start rate limit. */
  autoStarts: number[]
  builtin?: BuiltinUnit
  changedAt: number
  child?: ChildProcess
  exited?: Promise<void>
  lastArgv: string[]
  lastExit?: ServiceStatus['lastExit']
  loadError?: string
  mainPid: number
  nRestarts: number
  restartTimer?: NodeJS.Timeout
  result: string
  state: ActiveState
  stopping: boolean
  unit?: LoadedUnit
}

const SIGNAL_NAMES = Object.fromEntries(Object.entries(constants.signals).map(([name, number]) => [number, name.replace(/^SIG/, '')]))

function statusText(exit: NonNullable<ServiceStatus['lastExit']>): string {
  if (exit.code === 'exited') return `status=${exit.status}/${exit.status === 0 ? 'SUCCESS' : 'FAILURE'}`
  return `signal=${SIGNAL_NAMES[exit.status] ?? exit.status}`
}

export class Systemd {
  private readonly services = new Map<string, Service>()

  constructor(
    private readonly journal: Journal,
    private readonly builtins: BuiltinUnit[],
    /** Maps an ExecStart binary to what actually runs (the kubelet stand-in for `kubelet`). */
    private readonly resolveBinary: (binary: string) => undefined | {args: string[]; file: string},
  ) {
    for (const builtin of builtins) {
      this.services.set(builtin.name, {
        autoStarts: [], builtin, changedAt: Date.now() * 1000, lastArgv: [], mainPid: process.pid, nRestarts: 0, result: 'success', state: 'active', stopping: false,
      })
    }
  }

  /** Starts the enabled units, as at boot. */
  async boot(): Promise<void> {
    this.daemonReload()
    for (const builtin of this.builtins) this.log(builtin.name, `Started ${builtin.name} - ${builtin.description}.`)
    await Promise.all(this.knownUnits().filter(name => this.isEnabled(name)).map(name => this.start(name)))
  }

  daemonReload(): void {
    for (const name of this.knownUnits()) {
      const service = this.service(name)
      if (service.builtin) continue
      service.unit = loadUnit(name)
      service.loadError = service.unit && service.unit.execStart.length > 1
        ? 'Service has more than one ExecStart= setting, which is only allowed for Type=oneshot services. Refusing.'
        : (service.unit && service.unit.execStart.length === 0
          ? 'Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing.'
          : undefined)
      if (service.loadError) this.log(name, `${name}: ${service.loadError}`, 3)
    }
  }

  disable(name: string): string[] {
    const link = path.join(WANTS_DIR, name)
    if (!isSymlink(link)) return []
    unlinkSync(link)
    return [`Removed "${link}".`]
  }

  enable(name: string): string[] {
    const service = this.service(name)
    if (!service.unit) throw new Error(`Unit file ${name} does not exist.`)
    const link = path.join(WANTS_DIR, name)
    if (isSymlink(link)) return []
    mkdirSync(WANTS_DIR, {recursive: true})
    symlinkSync(service.unit.fragment.path, link)
    return [`Created symlink ${link} → ${service.unit.fragment.path}.`]
  }

  exists(name: string): boolean {
    const service = this.services.get(name)
    return Boolean(service?.builtin || service?.unit || findUnitFiles(name))
  }

  isEnabled(name: string): boolean {
    const service = this.services.get(name)
    if (service?.builtin) return true
    return isSymlink(path.join(WANTS_DIR, name))
  }

  /** Kills every service process (the node daemon is exiting). */
  killAll(): void {
    for (const service of this.services.values()) {
      if (service.restartTimer) clearTimeout(service.restartTimer)
      if (service.child) killGroup(service.mainPid, 'SIGKILL')
    }
  }

  async restart(name: string): Promise<void> {
    const service = this.service(name)
    if (service.builtin) {
      this.log(name, `Stopping ${name} - ${service.builtin.description}...`)
      this.log(name, `Stopped ${name} - ${service.builtin.description}.`)
      this.log(name, `Started ${name} - ${service.builtin.description}.`)
      return
    }

    await this.stop(name)
    await this.start(name)
  }

  async start(name: string): Promise<void> {
    const service = this.service(name)
    if (service.builtin) return
    if (service.restartTimer) {
      clearTimeout(service.restartTimer)
      service.restartTimer = undefined
    }

    if (service.state === 'active' || service.state === 'deactivating') return
    if (!service.unit) {
      service.unit = loadUnit(name)
      if (!service.unit) throw new Error(`Unit ${name} not found.`)
    }

    if (service.loadError) throw new Error(`Unit ${name} has a bad unit file setting.`)
    // A start by hand begins a new series for the restart counter and the start rate limit.
    service.autoStarts = []
    service.nRestarts = 0
    this.spawnMain(name, service)
  }

  status(name: string): ServiceStatus {
    const service = this.service(name)
    const {unit} = service
    const files = service.builtin ? undefined : findUnitFiles(name)
    const exit = service.lastExit
    const subState
      = service.state === 'active' ? (service.builtin || service.child ? 'running' : 'exited') : SUB_STATES[service.state]
    return {
      activeState: service.state,
      argv: service.lastArgv,
      changedAt: service.changedAt,
      description: service.builtin?.description ?? unit?.description ?? name,
      documentation: service.builtin?.documentation ?? unit?.documentation ?? [],
      dropIns: unit?.dropIns.map(file => file.path) ?? [],
      enabled: this.isEnabled(name),
      environment: unit?.environment ?? [],
      environmentFiles: unit?.environmentFiles ?? [],
      execStartRaw: unit?.execStart.map(e => e.raw).join(' ; ') ?? '',
      fragmentPath: unit?.fragment.path ?? (service.builtin ? `/usr/lib/systemd/system/${name}` : ''),
      ...(exit ? {lastExit: exit} : {}),
      loadState: service.builtin || unit ? (service.loadError ? 'bad-setting' : 'loaded') : 'not-found',
      mainPid: service.state === 'active' || service.state === 'deactivating' ? service.mainPid : 0,
      name,
      needDaemonReload: !service.builtin && unit !== undefined && snapshotOf(files) !== unit.snapshot,
      nRestarts: service.nRestarts,
      result: service.result,
      subState,
    }
  }

  async stop(name: string): Promise<void> {
    const service = this.service(name)
    if (service.builtin) return
    if (service.restartTimer) {
      clearTimeout(service.restartTimer)
      service.restartTimer = undefined
      this.setState(service, 'inactive')
      return
    }

    const {child, exited} = service
    if (!child || service.state !== 'active') {
      if (service.state === 'failed' || service.state === 'activating') this.setState(service, 'inactive')
      return
    }

    const description = service.unit?.description ?? name
    this.log(name, `Stopping ${name} - ${description}...`)
    service.stopping = true
    this.setState(service, 'deactivating')
    killGroup(service.mainPid, 'SIGTERM')
    const timer = setTimeout(() => {
      this.log(name, `${name}: State 'stop-sigterm' timed out. Killing.`, 4)
      killGroup(service.mainPid, 'SIGKILL')
    }, service.unit?.timeoutStopMs ?? 90_000)
    await exited
    clearTimeout(timer)
  }

  private knownUnits(): string[] {
    return [...new Set(['kubelet.service', ...this.services.keys()])]
  }

  private log(unit: string, msg: string, pri = 6): void {
    this.journal.write({
      ident: 'systemd', msg, pid: 1, pri, unit,
    })
  }

  private onExit(name: string, service: Service, pid: number, code: null | number, signal: NodeJS.Signals | null): void {
    service.child = undefined
    const exit: NonNullable<ServiceStatus['lastExit']>
      = code === null ? {code: 'killed', pid, status: signal ? constants.signals[signal] : 0} : {code: 'exited', pid, status: code}
    service.lastExit = exit
    const description = service.unit?.description ?? name
    if (service.stopping) {
      service.stopping = false
      // SIGTERM is a clean exit for systemd when it asked for the stop.
      const clean = exit.code === 'exited' ? exit.status === 0 || exit.status === 143 : exit.status === constants.signals.SIGTERM
      if (clean) {
        service.result = 'success'
        this.log(name, `${name}: Deactivated successfully.`)
      } else {
        service.result = exit.code === 'exited' ? 'exit-code' : 'signal'
        this.log(name, `${name}: Main process exited, code=${exit.code}, ${statusText(exit)}`, 4)
        this.log(name, `${name}: Failed with result '${service.result}'.`, 4)
      }

      this.log(name, `Stopped ${name} - ${description}.`)
      this.setState(service, 'inactive')
      return
    }

    const failed = !(exit.code === 'exited' && exit.status === 0)
    service.result = failed ? (exit.code === 'exited' ? 'exit-code' : 'signal') : 'success'
    if (failed) {
      this.log(name, `${name}: Main process exited, code=${exit.code}, ${statusText(exit)}`, exit.code === 'exited' ? 6 : 4)
      this.log(name, `${name}: Failed with result '${service.result}'.`, 4)
    } else this.log(name, `${name}: Deactivated successfully.`)
    this.scheduleRestartOrSettle(name, service, failed)
  }

  private scheduleRestartOrSettle(name: string, service: Service, failed: boolean): void {
    const policy = service.unit?.restart ?? 'no'
    const restart = policy === 'always' || (failed && ['on-abnormal', 'on-failure'].includes(policy))
    if (!restart) {
      this.setState(service, failed ? 'failed' : 'inactive')
      return
    }

    this.setState(service, 'activating')
    service.restartTimer = setTimeout(() => {
      service.restartTimer = undefined
      service.nRestarts++
      this.log(name, `${name}: Scheduled restart job, restart counter is at ${service.nRestarts}.`)
      this.log(name, `Stopped ${name} - ${service.unit?.description ?? name}.`)
      // StartLimitBurst= automatic starts within StartLimitIntervalSec= at most (0 disables the limit).
      const unit = service.unit!
      const now = Date.now()
      service.autoStarts = service.autoStarts.filter(t => now - t < unit.startLimitIntervalMs)
      if (unit.startLimitIntervalMs > 0 && unit.startLimitBurst > 0 && service.autoStarts.length >= unit.startLimitBurst) {
        this.log(name, `${name}: Start request repeated too quickly.`, 4)
        this.log(name, `${name}: Failed with result '${service.result}'.`, 4)
        this.log(name, `Failed to start ${name} - ${unit.description}.`, 3)
        this.setState(service, 'failed')
        return
      }

      service.autoStarts.push(now)
      this.setState(service, 'inactive')
      this.spawnMain(name, service)
    }, service.unit?.restartSecMs ?? 100)
  }

  private service(name: string): Service {
    let service = this.services.get(name)
    if (!service) {
      service = {
        autoStarts: [], changedAt: Date.now() * 1000, lastArgv: [], mainPid: 0, nRestarts: 0, result: 'success', state: 'inactive', stopping: false,
      }
      this.services.set(name, service)
    }

    return service
  }

  private serviceLine(unit: string, ident: string, pid: number, line: string): void {
    const severity = line[0]
    const pri = severity === 'E' || severity === 'F' ? 3 : (severity === 'W' ? 4 : 6)
    this.journal.write({
      ident, msg: line, pid, pri, unit,
    })
  }

  private setState(service: Service, state: ActiveState): void {
    service.state = state
    service.changedAt = Date.now() * 1000
  }

  private spawnMain(name: string, service: Service): void {
    const unit = service.unit!
    const {description} = unit
    const fail = (msg: string, result: string, exit?: ServiceStatus['lastExit']) => {
      this.log(name, msg, 3)
      service.result = result
      if (exit) service.lastExit = exit
      this.log(name, `${name}: Failed with result '${result}'.`, 4)
      this.log(name, `Failed to start ${name} - ${description}.`, 3)
      this.scheduleRestartOrSettle(name, service, true)
    }

    // Environment=, then EnvironmentFile= (files win, and are read at every start).
    const env: Record<string, string> = parseEnvironmentAssignments(unit.environment)
    for (const file of unit.environmentFiles) {
      try {
        Object.assign(env, parseEnvironmentFile(readFileSync(file.path, 'utf8')))
      } catch {
        if (file.optional) continue
        fail(`${name}: Failed to load environment files: No such file or directory`, 'resources')
        this.log(name, `${name}: Failed to spawn 'start' task: No such file or directory`, 3)
        return
      }
    }

    const {argv, unset} = expandCommandLine(unit.execStart[0]!.raw, env)
    service.lastArgv = argv
    const binary = argv[0] ?? ''
    const resolved = this.resolveBinary(binary)
    if (!resolved && !existsSync(binary)) {
      fail(`${name}: Failed to locate executable ${binary}: No such file or directory`, 'exit-code', {code: 'exited', pid: 0, status: 203})
      return
    }

    const file = resolved?.file ?? binary
    const args = resolved ? [...resolved.args, ...argv.slice(1)] : argv.slice(1)
    const child = spawn(file, args, {
      argv0: binary,
      cwd: '/',
      detached: true,
      env: {
        LANG: 'C.UTF-8', PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...env, INVOCATION_ID: randomHex(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const pid = child.pid ?? 0
    service.child = child
    service.mainPid = pid
    service.stopping = false
    this.setState(service, 'active')
    this.log(name, `Started ${name} - ${description}.`)
    for (const variable of unset) {
      this.journal.write({
        ident: `(${name.replace(/\.service$/, '')})`, msg: `${name}: Referenced but unset environment variable evaluates to an empty string: ${variable}`, pid, pri: 6, unit: name,
      })
    }

    const ident = path.basename(binary)
    const pipe = (stream: NodeJS.ReadableStream | null) => {
      if (!stream) return Promise.resolve()
      let pending = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk: string) => {
        pending += chunk
        let newline = pending.indexOf('\n')
        while (newline !== -1) {
          this.serviceLine(name, ident, pid, pending.slice(0, newline))
          pending = pending.slice(newline + 1)
          newline = pending.indexOf('\n')
        }
      })
      return new Promise<void>(resolve => {
        stream.once('end', () => {
          if (pending) this.serviceLine(name, ident, pid, pending)
          resolve()
        })
        stream.once('error', () => resolve())
      })
    }

    const streams = Promise.all([pipe(child.stdout), pipe(child.stderr)])
    service.exited = new Promise<void>(resolve => {
      child.once('error', () => {
        // ENOENT and the like: systemd reports status=203/EXEC.
        service.child = undefined
        fail(`${name}: Failed at step EXEC spawning ${binary}: No such file or directory`, 'exit-code', {code: 'exited', pid, status: 203})
        resolve()
      })
      child.once('exit', (code, signal) => {
        // KillMode=control-group: whatever the service left behind goes with it.
        killGroup(pid, 'SIGKILL', true)
        streams.then(() => {
          this.onExit(name, service, pid, code, signal)
          resolve()
        })
      })
    })
  }
}

function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink() && readlinkSync(file) !== ''
  } catch {
    return false
  }
}

function randomHex(): string {
  return Array.from({length: 32}).map(() => Math.floor(Math.random() * 16).toString(16)).join('')
}
