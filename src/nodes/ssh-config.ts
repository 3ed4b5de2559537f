/**
 * The OpenSSH client configuration, computed for one host the way `ssh` does it: first value wins,
 * `Include` followed (globs, `~`, relative to ~/.ssh or /etc/ssh), tokens expanded, OpenSSH's
 * defaults applied. Host/Match evaluation itself is the ssh-config package's compute().
 */
import {readdirSync, readFileSync} from 'node:fs'
import os from 'node:os'
import {isAbsolute, join, resolve} from 'node:path'
import SSHConfig, {
  type Directive, type Line, LineType, type Section, glob as sshGlob,
} from 'ssh-config'

import type {StrictHostKeyChecking} from '../transport/host-keys.js'

import {UserError} from '../errors.js'

/** Everything staticpod needs from the OpenSSH config to connect to one host. */
export interface SshHostConfig {
  /** The name as given (ssh's "original host"). */
  alias: string
  connectTimeoutMs?: number
  globalKnownHostsFiles: string[]
  hashKnownHosts: boolean
  hostKeyAlias?: string
  /** What to connect to (HostName, tokens expanded; the alias when unset). */
  hostName: string
  identitiesOnly: boolean
  /** Agent socket: IdentityAgent, else SSH_AUTH_SOCK; undefined for none. */
  identityAgent?: string
  /** Absolute paths, in order. */
  identityFiles: string[]
  /** False when identityFiles are OpenSSH's defaults (a missing one is then not worth a warning). */
  identityFilesExplicit: boolean
  /** True when a Host block more specific than `Host *` matched: `ssh alias` means something. */
  matchedHostBlock: boolean
  port: number
  /** ProxyCommand, which staticpod does not run (ProxyJump is supported). */
  proxyCommand?: string
  /** ProxyJump hops in order, each `[user@]host[:port]` or an alias; empty for none. */
  proxyJump: string[]
  strictHostKeyChecking: StrictHostKeyChecking
  user: string
  userKnownHostsFiles: string[]
}

/** What the inventory (or the command line) says, which wins over the config. */
export interface SshOverrides {
  hostName?: string
  port?: number
  user?: string
}

export interface LoadSshConfigOptions {
  env?: NodeJS.ProcessEnv
  /** Defaults to os.homedir(). */
  home?: string
  /** Defaults to the passwd name of the current user. */
  localUser?: string
  /**
   * A config file given explicitly (--ssh-config, STATICPOD_SSH_CONFIG): like `ssh -F`, it must
   * exist and it replaces both ~/.ssh/config and /etc/ssh/ssh_config.
   */
  path?: string
  /** Defaults to /etc/ssh/ssh_config; read after the user's file unless `path` is given. */
  systemPath?: string
}

const MAX_INCLUDE_DEPTH = 16

interface ConfigFile {
  config: SSHConfig
  path: string
  system: boolean
}

export class SshConfig {
  /** Files read so far, in order (includes too). */
  readonly files: string[] = []
  private readonly cache = new Map<string, SSHConfig>()
  private readonly env: NodeJS.ProcessEnv
  private readonly home: string
  private readonly localUser: string
  private readonly roots: ConfigFile[]

  constructor(options: LoadSshConfigOptions = {}) {
    this.env = options.env ?? process.env
    this.home = options.home ?? os.homedir()
    this.localUser = options.localUser ?? localUserName(this.env)
    this.roots = []
    if (options.path) {
      const path = resolve(expandTilde(options.path, this.home))
      this.roots.push({config: this.parseFile(path, true), path, system: false})
    } else {
      const user = join(this.home, '.ssh', 'config')
      const system = options.systemPath ?? '/etc/ssh/ssh_config'
      this.roots.push({config: this.parseFile(user, false), path: user, system: false}, {
        config: this.parseFile(system, false),
        path: system,
        system: true,
      })
    }
  }

  /** Host aliases that are not patterns (no `*`, `?`, `!`), across all files and includes, in order. */
  aliases(): string[] {
    const names: string[] = []
    const visit = (lines: Iterable<Line>, system: boolean, depth: number): void => {
      for (const line of lines) {
        if (line.type !== LineType.DIRECTIVE) continue
        if (/^host$/i.test(line.param)) {
          for (const value of values(line)) {
            if (!/[!*?]/.test(value) && !names.includes(value)) names.push(value)
          }
        }

        if ('config' in line) visit(line.config, system, depth)
        if (/^include$/i.test(line.param) && depth < MAX_INCLUDE_DEPTH) {
          for (const file of this.includeFiles(line, system)) visit(this.parseFile(file, false), system, depth + 1)
        }
      }
    }

    for (const root of this.roots) visit(root.config, root.system, 0)
    return names
  }

  /** The effective configuration for `alias`, as `ssh -G alias` would compute it (for what we use). */
  resolve(alias: string, overrides: SshOverrides = {}): SshHostConfig {
    const flat = new SSHConfig()
    for (const root of this.roots) flat.push(...this.expand(root.config, alias, root.system, 0))
    // ssh's command line (-l, -p, -o HostName=) wins over every file: we put it first.
    const preset: Line[] = []
    if (overrides.user) preset.push(directive('User', overrides.user))
    if (overrides.port) preset.push(directive('Port', String(overrides.port)))
    if (overrides.hostName) preset.push(directive('HostName', overrides.hostName))
    flat.unshift(...preset)
    const computed = flat.compute(alias, {ignoreCase: true})
    const first = (key: string): string | undefined => {
      const value = computed[key]
      return Array.isArray(value) ? value[0] : value
    }

    const list = (key: string): string[] | undefined => {
      const value = computed[key]
      if (value === undefined) return undefined
      return Array.isArray(value) ? value : value.split(/\s+/).filter(Boolean)
    }

    const hostName = expandTokens(first('hostname') ?? alias, {'%': '%', h: alias})
    const portText = first('port') ?? '22'
    const port = Number(portText)
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new UserError(`ssh config: invalid Port "${portText}" for ${alias}`)
    }

    const user = first('user') ?? this.localUser
    const tokens: Record<string, string> = {
      '%': '%',
      d: this.home,
      h: hostName,
      i: String(process.getuid?.() ?? ''),
      L: os.hostname().split('.')[0] ?? '',
      l: os.hostname(),
      n: alias,
      p: String(port),
      r: user,
      u: this.localUser,
    }
    const path = (value: string): string => resolve(expandTilde(expandTokens(value, tokens), this.home))

    const identityValues = list('identityfile')
    const identityFilesExplicit = identityValues !== undefined
    const identityFiles = identityValues
      ? identityValues.filter(value => value.toLowerCase() !== 'none').map(value => path(value))
      : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map(name => join(this.home, '.ssh', name))

    const knownHosts = list('userknownhostsfile') ?? ['~/.ssh/known_hosts', '~/.ssh/known_hosts2']
    const globalKnownHosts = list('globalknownhostsfile') ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']
    const agentSetting = first('identityagent')
    let identityAgent: string | undefined
    if (agentSetting === undefined || agentSetting === 'SSH_AUTH_SOCK') identityAgent = this.env.SSH_AUTH_SOCK || undefined
    else if (agentSetting.toLowerCase() !== 'none') {
      identityAgent = agentSetting.startsWith('$') ? this.env[agentSetting.slice(1)] || undefined : path(agentSetting)
    }

    const jump = first('proxyjump')
    const proxyCommand = computed.proxycommand === undefined ? undefined : String(computed.proxycommand)
    const timeout = first('connecttimeout')
    const hostKeyAlias = first('hostkeyalias')

    return {
      alias,
      connectTimeoutMs: timeout && Number(timeout) > 0 ? Number(timeout) * 1000 : undefined,
      globalKnownHostsFiles: knownFiles(globalKnownHosts, path),
      hashKnownHosts: yes(first('hashknownhosts')),
      hostKeyAlias,
      hostName,
      identitiesOnly: yes(first('identitiesonly')),
      identityAgent,
      identityFiles,
      identityFilesExplicit,
      matchedHostBlock: this.matchesHostBlock(flat, alias),
      port,
      proxyCommand: proxyCommand && proxyCommand.toLowerCase() !== 'none' ? proxyCommand : undefined,
      proxyJump: !jump || jump.toLowerCase() === 'none' ? [] : jump.split(',').map(hop => hop.trim()).filter(Boolean),
      strictHostKeyChecking: strictness(first('stricthostkeychecking'), alias),
      user,
      userKnownHostsFiles: knownFiles(knownHosts, path),
    }
  }

  /** Replace Include directives by the lines of the files they name, for one host. */
  private expand(lines: Iterable<Line>, host: string, system: boolean, depth: number): Line[] {
    const out: Line[] = []
    for (const line of lines) {
      if (line.type !== LineType.DIRECTIVE) continue
      if (/^include$/i.test(line.param)) {
        out.push(...this.included(line, host, system, depth))
        continue
      }

      if (!('config' in line) || !line.config.some(sub => isInclude(sub))) {
        out.push(line)
        continue
      }

      // A Host/Match block with an Include inside. When the block does not apply to this host
      // nothing in the included files can (OpenSSH reads them with SSHCONF_NEVERMATCH).
      const section = line as Section
      if (/^host$/i.test(section.param) && !sshGlob(values(section), host)) {
        out.push(withConfig(section, section.config.filter(sub => !isInclude(sub))))
        continue
      }

      // It applies: directives stay in (copies of) the block, blocks the include brings are
      // hoisted after it, and the rest of the outer block follows in another copy.
      let pending: Line[] = []
      for (const sub of section.config) {
        if (!isInclude(sub)) {
          pending.push(sub)
          continue
        }

        const included = this.included(sub as Directive, host, system, depth)
        const firstBlock = included.findIndex(item => 'config' in item)
        const leading = firstBlock === -1 ? included : included.slice(0, firstBlock)
        pending.push(...leading)
        out.push(withConfig(section, pending))
        pending = []
        if (firstBlock !== -1) out.push(...included.slice(firstBlock))
      }

      out.push(withConfig(section, pending))
    }

    return out
  }

  private included(line: Directive, host: string, system: boolean, depth: number): Line[] {
    if (depth >= MAX_INCLUDE_DEPTH) throw new UserError(`ssh config: Include nested more than ${MAX_INCLUDE_DEPTH} deep`)
    return this.includeFiles(line, system).flatMap(file => this.expand(this.parseFile(file, false), host, system, depth + 1))
  }

  /** The files an Include names: tokens and `~` expanded, relative to ~/.ssh (or /etc/ssh), globbed, sorted. */
  private includeFiles(line: Directive, system: boolean): string[] {
    const base = system ? '/etc/ssh' : join(this.home, '.ssh')
    return values(line).flatMap(value => {
      const expanded = expandTilde(expandTokens(value, {'%': '%', d: this.home, u: this.localUser}), this.home)
      const absolute = isAbsolute(expanded) ? expanded : join(base, expanded)
      return expandGlob(absolute)
    })
  }

  private matchesHostBlock(lines: Iterable<Line>, host: string): boolean {
    for (const line of lines) {
      if (line.type !== LineType.DIRECTIVE || !/^host$/i.test(line.param)) continue
      const patterns = values(line)
      if (patterns.some(pattern => pattern !== '*' && !pattern.startsWith('!')) && sshGlob(patterns, host)) return true
    }

    return false
  }

  private parseFile(path: string, mustExist: boolean): SSHConfig {
    const cached = this.cache.get(path)
    if (cached) return cached
    let text = ''
    try {
      text = readFileSync(path, 'utf8')
      this.files.push(path)
    } catch (error) {
      const {code} = error as NodeJS.ErrnoException
      if (mustExist || (code !== 'ENOENT' && code !== 'ENOTDIR')) {
        throw new UserError(`cannot read ssh config ${path}: ${(error as Error).message}`, {
          hints: mustExist ? ['Check --ssh-config / STATICPOD_SSH_CONFIG.'] : [],
        })
      }
    }

    let config: SSHConfig
    try {
      config = SSHConfig.parse(text)
    } catch (error) {
      throw new UserError(`ssh config ${path}: ${(error as Error).message}`)
    }

    this.cache.set(path, config)
    return config
  }
}

/** OpenSSH tokens: `%x` replaced from the table; unknown ones are left as written. */
export function expandTokens(value: string, tokens: Record<string, string>): string {
  return value.replaceAll(/%(.)/g, (whole, key: string) => tokens[key] ?? whole)
}

/** `~` and `~/...` become the home directory. */
export function expandTilde(value: string, home: string): string {
  if (value === '~') return home
  if (value.startsWith('~/')) return join(home, value.slice(2))
  return value
}

/** glob(3) for Include: `*`, `?` and `[...]` in any path component; leading dots must be explicit. */
export function expandGlob(pattern: string): string[] {
  if (!/[*?[]/.test(pattern)) return [pattern]
  const parts = pattern.split('/').filter((part, index) => part !== '' || index === 0)
  let paths = [parts[0] === '' ? '/' : '.']
  for (const part of parts[0] === '' ? parts.slice(1) : parts) {
    if (!/[*?[]/.test(part)) {
      paths = paths.map(path => join(path, part))
      continue
    }

    const matcher = globComponent(part)
    paths = paths.flatMap(path => {
      let names: string[]
      try {
        names = readdirSync(path)
      } catch {
        return []
      }

      return names
      .filter(name => matcher.test(name) && (!name.startsWith('.') || part.startsWith('.')))
      .sort()
      .map(name => join(path, name))
    })
  }

  return paths
}

function globComponent(part: string): RegExp {
  let source = ''
  for (let i = 0; i < part.length; i++) {
    const char = part[i]!
    switch (char) {
    case '*': {
      source += '[^/]*'
      break;
    }

    case '?': {
      source += '[^/]'
      break;
    }

    case '[': {
      const end = part.indexOf(']', i + 2)
      if (end === -1) source += String.raw`\[`
      else {
        const body = part.slice(i + 1, end).replace(/^!/, '^').replaceAll('\\', '\\\\')
        source += `[${body}]`
        i = end
      }

      break;
    }

    default: {source += char.replaceAll(/[$()*+.?[\\\]^{|}]/g, String.raw`\$&`)
    }
    }
  }

  return new RegExp(`^${source}$`)
}

function values(line: Directive): string[] {
  return typeof line.value === 'string' ? line.value.split(/\s+/).filter(Boolean) : line.value.map(item => item.val)
}

function isInclude(line: Line): boolean {
  return line.type === LineType.DIRECTIVE && /^include$/i.test(line.param)
}

function withConfig(section: Section, lines: Line[]): Section {
  const config = new SSHConfig()
  config.push(...lines)
  return {...section, config}
}

function directive(param: string, value: string): Directive {
  return {
    after: '\n', before: '', param, separator: ' ', type: LineType.DIRECTIVE, value,
  }
}

function yes(value: string | undefined): boolean {
  return value?.toLowerCase() === 'yes' || value?.toLowerCase() === 'true'
}

function strictness(value: string | undefined, alias: string): StrictHostKeyChecking {
  switch (value?.toLowerCase()) {
  case 'accept-new': {
    return 'accept-new'
  }

  case 'ask':
  case undefined: {
    return 'ask'
  }

  case 'false':
  case 'no':
  case 'off': {
    return 'no'
  }

  case 'true':
  case 'yes': {
    return 'yes'
  }

  default: {
    throw new UserError(`ssh config: invalid StrictHostKeyChecking "${value}" for ${alias}`, {
      hints: ['Use yes, accept-new, no or ask.'],
    })
  }
  }
}

function knownFiles(list: string[], path: (value: string) => string): string[] {
  return list.filter(value => value.toLowerCase() !== 'none').map(value => path(value))
}

function localUserName(env: NodeJS.ProcessEnv): string {
  try {
    return os.userInfo().username
  } catch {
    return env.USER ?? env.LOGNAME ?? 'root'
  }
}
