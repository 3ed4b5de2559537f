// Sandbox nodes: real OpenSSH sshd processes on loopback addresses, each in its own mount, UTS and PID
// namespaces, for end-to-end tests and the demo. See README.md next to this file.
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {
  chmod, mkdir, readFile, rm, writeFile,
} from 'node:fs/promises'
import path from 'node:path'

import {Semaphore} from '../../src/transport/semaphore.js'
import {generateEd25519} from './keys.js'
import {
  Node, type NodeUser, OVERLAY_DIRS, PRIVATE_DIRS, type SandboxNode,
} from './node.js'
import {run, settleAll, sleep} from './process.js'
import {
  allocateSandboxDir, cleanupStale, type LiveSandbox, SANDBOX_BASE, track, untrack,
} from './registry.js'

export {
  type NodeExecOptions, OVERLAY_DIRS, PRIVATE_DIRS, type SandboxNode,
} from './node.js'
export {type ExecResult, run, SandboxCommandError} from './process.js'
export {cleanupStale, SANDBOX_BASE} from './registry.js'

/** The accounts on every node. Root and the sudoers log in with the sandbox's keys; nobody logs in by password. */
export const USERS = {
  /** sudo asks for a password (USERS.sudoPassword): `sudo -n` fails with "a password is required". */
  passwordSudoer: 'sp-pass',
  root: 'root',
  /** Passwordless sudo (NOPASSWD in the node's /etc/sudoers.d). */
  sudoer: 'sp-admin',
  /** Login password of passwordSudoer, which its sudo asks for. */
  sudoPassword: 'sp-secret',
} as const

/** Passphrase of Sandbox.encryptedIdentityFile. */
export const KEY_PASSPHRASE = 'sp-key-passphrase'

/** sha512-crypt of 'sp-secret' (openssl passwd -6 -salt staticpodsandbx sp-secret). */
const SUDO_PASSWORD_HASH
  = '$6$staticpodsandbx$446DF/LbV/VaL/jQAZPTC0Z5mnzWgWRg8yv8TsllBOHBrQIf3ynkg9nwVDq687bZ.93Tn2iQgxU5xhxIHPcyj.'
const BASTION = 'bastion'
/** Nodes per /24 block: .1 to .253 (.254 is the bastion's in the first block). */
const BLOCK_SIZE = 253
/** Sandbox N owns 127.B.N.0/24 for B in FIRST_BLOCK .. FIRST_BLOCK + BLOCKS - 1. */
const FIRST_BLOCK = 77
const BLOCKS = 8
export const MAX_NODES = BLOCK_SIZE * BLOCKS
/** Nodes set up at once: hundreds at a time would starve each other past their start timeout on a small machine. */
const STARTING_AT_ONCE = 16

/** The address of the i-th node (0-based) of sandbox `index`: 127.77.N.1-253, then 127.78.N.1-253, and so on. */
export function nodeAddress(index: number, i: number): string {
  return `127.${FIRST_BLOCK + Math.floor(i / BLOCK_SIZE)}.${index}.${(i % BLOCK_SIZE) + 1}`
}

/** Environment variables of the test process that would leak the developer's own setup into the CLI under test. */
const FOREIGN_ENV = /^(?:KUBECONFIG|SSH_AGENT_PID|SSH_AUTH_SOCK|STATICPOD_.*|XDG_CONFIG_HOME)$/

export interface SandboxOptions {
  /**
   * Also start a node named 'bastion'; `true` puts every node behind it (ProxyJump bastion in ssh_config), a
   * list puts only those nodes behind it. On loopback the nodes stay directly reachable too.
   */
  bastion?: boolean | string[]
  /** How many nodes (named `${prefix}1`...), or their names. At most MAX_NODES (2024). */
  nodes: number | string[]
  /** Port of every sshd, each on its own address. Default 22 (2222 if a host sshd listens on *:22). */
  port?: number
  /** Default 'node'. */
  prefix?: string
  /** More per-node directories, visible under node.root (each under an OVERLAY_DIRS entry or a PRIVATE_DIRS one). */
  privateDirs?: string[]
  /** sshd_config lines put before the defaults: for sshd the first value of a keyword wins. No Match blocks. */
  sshdConfig?: string
  /** `User` of every host in ssh_config. Default 'root'. */
  user?: string
}

export interface SandboxAgent {
  pid: number
  socket: string
}

export interface Sandbox {
  /** Set by startAgent(); env() then exports its socket as SSH_AUTH_SOCK. */
  readonly agent: SandboxAgent | undefined
  /** The bastion node, when SandboxOptions.bastion was given; not in `nodes`. */
  readonly bastion: SandboxNode | undefined
  /** The sandbox's directory: /tmp/staticpod-sandbox/N. */
  readonly dir: string
  /** Passphrase-protected ed25519 key (passphrase: `passphrase`), authorized on every node for every user. */
  readonly encryptedIdentityFile: string
  /** The environment to run the CLI in, as a user would: HOME is `home` (so ~/.ssh/config is sshConfigPath), the test process's SSH agent, KUBECONFIG, XDG_CONFIG_HOME and STATICPOD_* are removed, and SSH_AUTH_SOCK is the sandbox agent's once started. A complete environment, not overrides. */
  env(): Record<string, string>
  /** HOME for env(): holds .ssh/config, .ssh/known_hosts and the keys. */
  readonly home: string
  /** Unencrypted ed25519 key, authorized on every node for every user, and the IdentityFile of ssh_config. */
  readonly identityFile: string
  /** `${home}/.ssh/known_hosts`: the current host key of every node (see writeKnownHosts). */
  readonly knownHostsPath: string
  /** A node (or the bastion) by name; throws for an unknown name. */
  node(name: string): SandboxNode
  readonly nodes: SandboxNode[]
  readonly passphrase: string
  /** `${home}/.ssh/config`: a Host block per node, with HostName, Port, User, IdentityFile, UserKnownHostsFile, StrictHostKeyChecking yes (and ProxyJump bastion). */
  readonly sshConfigPath: string
  /** Starts an ssh-agent holding identityFile (or encryptedIdentityFile, decrypted, when `encrypted`). */
  startAgent(options?: {encrypted?: boolean}): Promise<SandboxAgent>
  /** Stops every node and the agent and removes `dir`. Safe to call twice. */
  stop(): Promise<void>
  readonly users: typeof USERS
  /** Rewrites known_hosts with the current host keys of the given nodes (default: all, and the bastion). */
  writeKnownHosts(nodes?: SandboxNode[]): Promise<void>
}

function nodeNames(options: SandboxOptions): string[] {
  const names
    = typeof options.nodes === 'number'
      ? Array.from({length: options.nodes}, (_, i) => `${options.prefix ?? 'node'}${i + 1}`)
      : options.nodes
  if (names.length === 0 || names.length > MAX_NODES) throw new Error(`a sandbox has 1 to ${MAX_NODES} nodes, not ${names.length}`)
  for (const name of names) {
    if (!/^[a-z\d][a-z\d-]*$/i.test(name)) throw new Error(`sandbox node name ${JSON.stringify(name)} is not a hostname`)
  }

  if (new Set(names).size !== names.length) throw new Error('sandbox node names must be unique')
  if (options.bastion && names.includes(BASTION)) throw new Error(`'${BASTION}' is the bastion's name`)
  return names
}

function privateDirs(extra: string[]): string[] {
  // Not under /tmp: that is where the node's own files are, and it is mounted over last.
  const bases = [...PRIVATE_DIRS, ...OVERLAY_DIRS].filter(base => !SANDBOX_BASE.startsWith(`${base}/`))
  for (const dir of extra) {
    if (path.posix.normalize(dir) !== dir || /\s/.test(dir) || !bases.some(base => dir.startsWith(`${base}/`))) {
      throw new Error(`private directory ${dir} must be a normal absolute path without spaces under one of ${bases.join(' ')}`)
    }
  }

  return [...new Set([...extra, ...PRIVATE_DIRS])]
}

/** Ports that something listens on for every address (like a host sshd on 0.0.0.0:22): ours cannot bind them. */
function wildcardPorts(): Set<number> {
  const ports = new Set<number>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = existsSync(table) ? readFileSync(table, 'utf8').split('\n').slice(1) : []
    for (const line of lines) {
      const [, local, , state] = line.trim().split(/\s+/)
      const [address, port] = (local ?? '').split(':')
      if (state === '0A' && /^0+$/.test(address ?? '')) ports.add(Number.parseInt(port ?? '', 16))
    }
  }

  return ports
}

/** 22, unless a host sshd holds it on every address: then the first port from 2222 that is free there. */
function defaultPort(): number {
  const taken = wildcardPorts()
  if (!taken.has(22)) return 22
  let port = 2222
  while (taken.has(port)) port++
  return port
}

/** The first `count` consecutive ids from 2001 that are neither a uid nor a gid on the host. */
function freeIds(count: number): number[] {
  const used = new Set(['/etc/passwd', '/etc/group'].flatMap(file =>
    readFileSync(file, 'utf8')
    .split('\n')
    .map(line => Number(line.split(':')[2]))))
  let first = 2001
  while (Array.from({length: count}, (_, i) => first + i).some(id => used.has(id))) first++
  return Array.from({length: count}, (_, i) => first + i)
}

/** Writes an ed25519 key pair (file, file.pub) and returns the public key line. */
async function generateUserKey(file: string, passphrase: string): Promise<string> {
  const comment = `sandbox-${path.basename(file)}`
  if (passphrase === '') {
    const {privateKey, publicKey} = generateEd25519(comment)
    await writeFile(file, privateKey, {mode: 0o600})
    await writeFile(`${file}.pub`, publicKey)
    return publicKey
  }

  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', comment, '-f', file], {check: true})
  return readFile(`${file}.pub`, 'utf8')
}

class SandboxImpl implements LiveSandbox, Sandbox {
  agent: SandboxAgent | undefined
  bastion: Node | undefined
  readonly encryptedIdentityFile: string
  readonly home: string
  readonly identityFile: string
  readonly knownHostsPath: string
  nodes: Node[] = []
  readonly passphrase = KEY_PASSPHRASE
  readonly sshConfigPath: string
  readonly users = USERS
  private agentProcess: ChildProcess | undefined

  constructor(
    readonly dir: string,
    private readonly index: number,
  ) {
    this.home = path.join(dir, 'home')
    this.identityFile = path.join(this.home, '.ssh/id_ed25519')
    this.encryptedIdentityFile = path.join(this.home, '.ssh/id_ed25519_encrypted')
    this.knownHostsPath = path.join(this.home, '.ssh/known_hosts')
    this.sshConfigPath = path.join(this.home, '.ssh/config')
  }

  private get allNodes(): Node[] {
    return this.bastion ? [...this.nodes, this.bastion] : this.nodes
  }

  env(): Record<string, string> {
    const env: Record<string, string> = {}
    for (const [name, value] of Object.entries(process.env)) {
      if (value !== undefined && !FOREIGN_ENV.test(name)) env[name] = value
    }

    env.HOME = this.home
    if (this.agent) env.SSH_AUTH_SOCK = this.agent.socket
    return env
  }

  node(name: string): SandboxNode {
    const node = this.allNodes.find(candidate => candidate.name === name)
    if (!node) throw new Error(`no sandbox node ${name}`)
    return node
  }

  pids(): number[] {
    return [
      ...this.allNodes.flatMap(node => [node.pid, node.unsharePid]),
      this.agentProcess?.pid,
    ].filter((pid): pid is number => pid !== undefined)
  }

  async setUp(options: SandboxOptions): Promise<void> {
    const names = nodeNames(options)
    const behindBastion = options.bastion === true ? names : options.bastion || []
    for (const name of behindBastion) {
      if (!names.includes(name)) throw new Error(`bastion: no sandbox node ${name}`)
    }

    await mkdir(path.join(this.home, '.ssh'), {mode: 0o700, recursive: true})
    const [sudoerId, passwordSudoerId] = freeIds(2) as [number, number]
    const users: NodeUser[] = [
      {name: USERS.sudoer, passwordHash: '*', uid: sudoerId},
      {name: USERS.passwordSudoer, passwordHash: SUDO_PASSWORD_HASH, uid: passwordSudoerId},
    ]
    const dirs = privateDirs(options.privateDirs ?? [])
    const sudoers = {
      'staticpod-sandbox': `${USERS.sudoer} ALL=(ALL:ALL) NOPASSWD: ALL\n${USERS.passwordSudoer} ALL=(ALL:ALL) ALL\n`,
    }
    const port = options.port ?? defaultPort()
    const nodeOf = (name: string, address: string) =>
      new Node({
        address,
        dir: path.join(this.dir, 'nodes', name),
        hostname: name,
        name,
        port,
        privateDirs: dirs,
        sshdConfig: options.sshdConfig ?? '',
        sudoers,
        users,
      })
    this.nodes = names.map((name, i) => nodeOf(name, nodeAddress(this.index, i)))
    if (options.bastion) this.bastion = nodeOf(BASTION, `127.${FIRST_BLOCK}.${this.index}.254`)
    // The passphrase-protected key takes ssh-keygen a while (bcrypt): make it while the nodes start. Wait for
    // everything even when something fails, so that stop() finds every node that got started.
    let publicKeys = ''
    const starting = new Semaphore(STARTING_AT_ONCE)
    await settleAll([
      (async () => {
        const keys = await Promise.all([
          generateUserKey(this.identityFile, ''),
          generateUserKey(this.encryptedIdentityFile, this.passphrase),
        ])
        publicKeys = keys.join('')
      })(),
      ...this.allNodes.map(async node => starting.use(async () => {
        await node.init()
        await node.start()
      })),
    ])
    await Promise.all(this.allNodes.map(node => node.authorize(publicKeys)))
    await this.writeSshConfig(options.user ?? 'root', new Set(behindBastion))
    await this.writeKnownHosts()
  }

  async startAgent(options: {encrypted?: boolean} = {}): Promise<SandboxAgent> {
    if (this.agent) return this.agent
    const socket = path.join(this.dir, 'agent.sock')
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'ssh-agent', '-D', '-a', socket], {
      cwd: '/',
      stdio: 'ignore',
    })
    this.agentProcess = child
    const {pid} = child
    if (pid === undefined) throw new Error('ssh-agent did not start')
    await writeFile(path.join(this.dir, 'agent.pid'), `${pid}\n`)
    for (let waited = 0; !existsSync(socket); waited += 5) {
      if (waited > 5000 || child.exitCode !== null) throw new Error('ssh-agent did not start')
      // eslint-disable-next-line no-await-in-loop
      await sleep(5)
    }

    const askpass = path.join(this.dir, 'askpass')
    await writeFile(askpass, `#!/bin/sh\necho '${this.passphrase}'\n`, {mode: 0o700})
    await run('ssh-add', ['-q', options.encrypted ? this.encryptedIdentityFile : this.identityFile], {
      check: true,
      env: {
        ...process.env,
        DISPLAY: process.env.DISPLAY ?? ':0',
        SSH_ASKPASS: askpass,
        SSH_ASKPASS_REQUIRE: 'force',
        SSH_AUTH_SOCK: socket,
      },
    })
    this.agent = {pid, socket}
    return this.agent
  }

  async stop(): Promise<void> {
    await Promise.all(this.allNodes.map(node => node.stop()))
    const agent = this.agentProcess
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      const exited = new Promise(resolve => {
        agent.once('exit', resolve)
      })
      agent.kill('SIGKILL')
      await exited
    }

    this.agent = undefined
    this.agentProcess = undefined
    await rm(this.dir, {force: true, recursive: true})
    untrack(this)
  }

  async writeKnownHosts(nodes: SandboxNode[] = this.allNodes): Promise<void> {
    await writeFile(this.knownHostsPath, nodes.map(node => `${node.knownHostsLine}\n`).join(''), {mode: 0o600})
  }

  private async writeSshConfig(user: string, behindBastion: Set<string>): Promise<void> {
    const block = (node: Node) =>
      [
        `Host ${node.name}`,
        `  HostName ${node.address}`,
        `  Port ${node.port}`,
        `  User ${user}`,
        `  IdentityFile ${this.identityFile}`,
        `  UserKnownHostsFile ${this.knownHostsPath}`,
        '  StrictHostKeyChecking yes',
        ...(behindBastion.has(node.name) ? [`  ProxyJump ${BASTION}`] : []),
        '',
      ].join('\n')
    const text = [`# staticpod sandbox ${this.dir}`, '', ...this.allNodes.map(node => block(node))].join('\n')
    await writeFile(this.sshConfigPath, text, {mode: 0o600})
    await chmod(this.sshConfigPath, 0o600)
  }
}

/**
 * Starts a sandbox: one sshd per node on 127.77.N.i (N: the sandbox's number, i: 1..253 for the nodes, then
 * 127.78.N.i and so on for more than 253 nodes; 127.77.N.254 for the bastion), with ssh_config, known_hosts and keys written under `dir`. Needs root. Reaps stale sandboxes first.
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  cleanupStale()
  const {dir, index} = await allocateSandboxDir()
  const sandbox = new SandboxImpl(dir, index)
  track(sandbox)
  try {
    await sandbox.setUp(options)
  } catch (error) {
    await sandbox.stop()
    throw error
  }

  return sandbox
}
