// `systemctl` on a sandbox node, acting on the node's systemd stand-in: start, stop, restart, try-restart,
// status, is-active, is-enabled, is-failed, enable, disable, daemon-reload, cat, show, reset-failed.
import {hostname} from 'node:os'

import type {ServiceStatus} from '../systemd.js'

import {systemdTimespan, systemdTimestamp} from '../../shared/format.js'
import {formatShort, readJournal} from '../journal.js'
import {SYSTEMD_SOCKET} from '../paths.js'
import {rpc, RpcConnectError, RpcError} from '../rpc.js'
import {findUnitFiles} from '../units.js'
import {
  all, Exit, getopt, has, isRoot, last, type Output,
} from './common.js'

const NO_SYSTEMD = "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n"

function unitName(name: string): string {
  return name.includes('.') ? name : `${name}.service`
}

async function call<T>(route: string, unit?: string, method = 'POST'): Promise<T> {
  try {
    return await rpc<T>(SYSTEMD_SOCKET, method, unit ? `${route}?unit=${encodeURIComponent(unit)}` : route)
  } catch (error) {
    if (error instanceof RpcConnectError) throw new Exit(1, NO_SYSTEMD)
    throw error
  }
}

const reloadWarning = (unit: string) =>
  `Warning: The unit file, source configuration file or drop-ins of ${unit} changed on disk. Run 'systemctl daemon-reload' to reload units.\n`

function bullet(status: ServiceStatus): string {
  if (status.activeState === 'failed') return '×'
  if (status.activeState === 'inactive') return '○'
  return '●'
}

function exitText(exit: NonNullable<ServiceStatus['lastExit']>): string {
  if (exit.code === 'exited') return `code=exited, status=${exit.status}/${exit.status === 0 ? 'SUCCESS' : (exit.status === 203 ? 'EXEC' : 'FAILURE')}`
  const names: Record<number, string> = {
    1: 'HUP', 2: 'INT', 6: 'ABRT', 9: 'KILL', 15: 'TERM',
  }
  return `code=killed, signal=${names[exit.status] ?? exit.status}`
}

function renderStatus(status: ServiceStatus, lines: number): string {
  const out: string[] = []
  out.push(`${bullet(status)} ${status.name} - ${status.description}`)
  if (status.loadState === 'not-found') {
    out.push(`     Loaded: not-found (Reason: Unit ${status.name} not found.)`)
  } else {
    out.push(`     Loaded: ${status.loadState} (${status.fragmentPath}; ${status.enabled ? 'enabled' : 'disabled'}; preset: enabled)`)
  }

  const byDir = new Map<string, string[]>()
  for (const dropIn of status.dropIns) {
    const dir = dropIn.slice(0, dropIn.lastIndexOf('/'))
    byDir.set(dir, [...(byDir.get(dir) ?? []), dropIn.slice(dropIn.lastIndexOf('/') + 1)])
  }

  let first = true
  for (const [dir, files] of byDir) {
    out.push(`${first ? '    Drop-In: ' : '             '}${dir}`, `             └─${files.join(', ')}`)
    first = false
  }

  const since = status.changedAt / 1000
  const ago = `${systemdTimestamp(since)}; ${systemdTimespan(Date.now() - since)} ago`
  const result = status.result === 'success' ? '' : ` (Result: ${status.result})`
  switch (status.activeState) {
  case 'activating': {
    out.push(`     Active: activating (auto-restart)${result} since ${ago}`)
    break
  }

  case 'active': {
    out.push(`     Active: active (${status.subState}) since ${ago}`)
    break
  }

  case 'deactivating': {
    out.push(`     Active: deactivating (stop-sigterm) since ${ago}`)
    break
  }

  case 'failed': {
    out.push(`     Active: failed${result} since ${ago}`)
    break
  }

  case 'inactive': {
    out.push(status.lastExit ? `     Active: inactive (dead) since ${ago}` : '     Active: inactive (dead)')
    break
  }
  }

  if (status.documentation.length > 0) out.push(`       Docs: ${status.documentation.join('\n             ')}`)
  const exit = status.lastExit
  if (exit && status.activeState !== 'active') {
    out.push(`    Process: ${exit.pid} ExecStart=${status.execStartRaw} (${exitText(exit)})`, `   Main PID: ${exit.pid} (${exitText(exit)})`)
  } else if (status.activeState === 'active' && status.mainPid) {
    const command = status.name === 'kubelet.service' ? 'kubelet' : status.name.replace(/\.service$/, '')
    out.push(`   Main PID: ${status.mainPid} (${command})`, `     CGroup: /system.slice/${status.name}`, `             └─${status.mainPid} ${status.argv.join(' ') || command}`)
  }

  if (lines > 0) {
    const entries = readableJournal().filter(entry => entry.unit === status.name)
    if (entries.length > 0) {
      out.push('', ...entries.slice(-lines).map(entry => formatShort(entry, hostname())))
    }
  }

  return out.join('\n') + '\n'
}

/** The journal if this user may read it (as for systemctl, no journal lines for others). */
function readableJournal(): ReturnType<typeof readJournal> {
  try {
    return readJournal()
  } catch {
    return []
  }
}

function execStartProperty(status: ServiceStatus): string {
  if (!status.execStartRaw) return ''
  const path = status.execStartRaw.split(/\s+/)[0]
  const pid = status.lastExit?.pid ?? status.mainPid
  const code = status.lastExit ? status.lastExit.code : '(null)'
  const st = status.lastExit ? `${status.lastExit.status}/${status.lastExit.status === 0 ? 'SUCCESS' : 'FAILURE'}` : '0/0'
  return `{ path=${path} ; argv[]=${status.execStartRaw} ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=${pid} ; code=${code} ; status=${st} }`
}

function properties(status: ServiceStatus): [string, string][] {
  return [
    ['Type', 'simple'],
    ['Restart', status.name === 'kubelet.service' ? 'always' : 'no'],
    ['NRestarts', String(status.nRestarts)],
    ['MainPID', String(status.mainPid)],
    ['ExecMainPID', String(status.lastExit?.pid ?? status.mainPid)],
    ['ExecMainCode', String(status.lastExit ? (status.lastExit.code === 'exited' ? 1 : 2) : 0)],
    ['ExecMainStatus', String(status.lastExit?.status ?? 0)],
    ['ExecStart', execStartProperty(status)],
    ['Result', status.result],
    ['Environment', status.environment.join(' ')],
    ['EnvironmentFiles', status.environmentFiles.map(file => `${file.path} (ignore_errors=${file.optional ? 'yes' : 'no'})`).join(' ')],
    ['Id', status.name],
    ['Names', status.name],
    ['Description', status.description],
    ['LoadState', status.loadState],
    ['ActiveState', status.activeState],
    ['SubState', status.subState],
    ['FragmentPath', status.fragmentPath],
    ['DropInPaths', status.dropIns.join(' ')],
    ['UnitFileState', status.enabled ? 'enabled' : 'disabled'],
    ['StateChangeTimestamp', systemdTimestamp(status.changedAt / 1000)],
    ['NeedDaemonReload', status.needDaemonReload ? 'yes' : 'no'],
  ]
}

function requireRoot(verb: string, unit?: string): void {
  if (isRoot()) return
  if (unit) throw new Exit(1, `Failed to ${verb} ${unit}: Interactive authentication required.\nSee system logs and 'systemctl status ${unit}' for details.\n`)
  throw new Exit(1, `Failed to ${verb}: Interactive authentication required.\n`)
}

async function status(unit: string): Promise<ServiceStatus | undefined> {
  try {
    return await call<ServiceStatus>('/status', unit, 'GET')
  } catch (error) {
    if (error instanceof RpcError && error.status === 404) return undefined
    throw error
  }
}

export async function systemctl(argv: string[], io: Output): Promise<number> {
  const args = getopt(argv, {values: ['property', 'p', 'lines', 'n', 'output', 'o', 'type', 't', 'state', 'signal', 's']}, {
    l: 'full',
    n: 'lines',
    o: 'output',
    p: 'property',
    q: 'quiet',
    s: 'signal',
    t: 'type',
  })
  const [verb, ...operands] = args.positional
  const quiet = has(args, 'quiet')
  const units = operands.map(operand => unitName(operand))
  switch (verb) {
  case 'cat': {
    let code = 0
    for (const unit of units) {
      const files = findUnitFiles(unit)
      if (!files) {
        io.err(`No files found for ${unit}.\n`)
        code = 1
        continue
      }

      const sections = [files.fragment, ...files.dropIns].map(file => `# ${file.path}\n${file.content.replace(/\n$/, '')}\n`)
      io.out(sections.join('\n'))
    }

    return code
  }

  case 'daemon-reexec':
  case 'daemon-reload': {
    requireRoot('reload daemon')
    await call('/daemon-reload')
    return 0
  }

  case 'disable':
  case 'enable': {
    requireRoot(`${verb} unit`)
    for (const unit of units) {
      try {
        // eslint-disable-next-line no-await-in-loop
        const result = await call<{messages: string[]}>(`/${verb}`, unit)
        if (!quiet) for (const message of result.messages) io.err(`${message}\n`)
        // eslint-disable-next-line no-await-in-loop
        if (has(args, 'now')) await call(verb === 'enable' ? '/start' : '/stop', unit)
      } catch (error) {
        if (error instanceof RpcError) throw new Exit(1, `Failed to ${verb} unit: Unit file ${unit} does not exist.\n`)
        throw error
      }
    }

    return 0
  }

  case 'is-active':
  case 'is-enabled':
  case 'is-failed': {
    let ok = false
    for (const unit of units) {
      // eslint-disable-next-line no-await-in-loop
      const s = await status(unit)
      let word: string
      if (verb === 'is-enabled') {
        if (!s || s.loadState === 'not-found') {
          io.err(`Failed to get unit file state for ${unit}: No such file or directory\n`)
          return 1
        }

        word = s.enabled ? 'enabled' : 'disabled'
        ok ||= s.enabled
      } else {
        word = s?.activeState ?? 'inactive'
        ok ||= verb === 'is-active' ? word === 'active' : word === 'failed'
      }

      if (!quiet) io.out(`${word}\n`)
    }

    if (ok) return 0
    return verb === 'is-active' ? 3 : 1
  }

  case 'reload-or-restart':
  case 'restart':
  case 'start':
  case 'stop':
  case 'try-restart': {
    for (const unit of units) {
      requireRoot(verb === 'reload-or-restart' || verb === 'try-restart' ? 'restart' : verb, unit)
      // eslint-disable-next-line no-await-in-loop
      const s = await status(unit)
      if (!s) {
        if (verb === 'stop') throw new Exit(5, `Failed to stop ${unit}: Unit ${unit} not loaded.\n`)
        throw new Exit(5, `Failed to ${verb === 'start' ? 'start' : 'restart'} ${unit}: Unit ${unit} not found.\n`)
      }

      if (s.needDaemonReload) io.err(reloadWarning(unit))
      if (verb === 'try-restart' && s.activeState !== 'active') continue
      const route = verb === 'start' || verb === 'stop' ? `/${verb}` : '/restart'
      try {
        // eslint-disable-next-line no-await-in-loop
        await call(route, unit)
      } catch (error) {
        if (error instanceof RpcError) {
          throw new Exit(1, `Failed to ${verb === 'stop' ? 'stop' : (verb === 'start' ? 'start' : 'restart')} ${unit}: ${error.message}\nSee system logs and 'systemctl status ${unit}' for details.\n`)
        }

        throw error
      }
    }

    return 0
  }

  case 'reset-failed': {
    return 0
  }

  case 'show': {
    const wanted = all(args, 'property').flatMap(p => p.split(','))
    const valueOnly = has(args, 'value')
    const blocks: string[] = []
    for (const unit of units) {
      // eslint-disable-next-line no-await-in-loop
      const s = await status(unit)
      const props: [string, string][] = s
        ? properties(s)
        : [
          ['Id', unit],
          ['LoadState', 'not-found'],
          ['ActiveState', 'inactive'],
          ['SubState', 'dead'],
        ]
      const chosen = wanted.length > 0 ? wanted.map(name => props.find(([key]) => key === name) ?? [name, '']) : props
      blocks.push(chosen.map(([key, value]) => (valueOnly ? `${value}\n` : `${key}=${value}\n`)).join(''))
    }

    io.out(blocks.join('\n'))
    return 0
  }

  case 'status': {
    const lines = Number(last(args, 'lines') ?? 10)
    let code = 0
    const rendered: string[] = []
    for (const unit of units) {
      // eslint-disable-next-line no-await-in-loop
      const s = await status(unit)
      if (!s) {
        io.err(`Unit ${unit} could not be found.\n`)
        code = 4
        continue
      }

      rendered.push(renderStatus(s, lines))
      if (s.needDaemonReload) rendered.push(reloadWarning(unit))
      if (s.activeState !== 'active' && code === 0) code = 3
    }

    io.out(rendered.join('\n'))
    return code
  }

  case undefined: {
    io.out('  UNIT                 LOAD   ACTIVE SUB     DESCRIPTION\n')
    return 0
  }

  default: {
    io.err(`Unknown command verb ${verb}.\n`)
    return 1
  }
  }
}
