import type {Duplex} from 'node:stream'
/**
 * NodeExec over SSH (ssh2). One connection per node per command, reused for all its runs, with at
 * most a few channels in flight (sshd's MaxSessions is 10). Jump hosts (ProxyJump) are one shared
 * connection each, carrying direct-tcpip channels to the nodes behind them. Every hop's host key is
 * checked against its own name. ssh2 is imported only when something connects.
 */
import type {
  AnyAuthMethod, BaseAgent, Client, ClientChannel, ConnectConfig, IdentityCallback, ParsedKey, SignCallback, SigningRequestOptions,
} from 'ssh2'

import {createPrivateKey, sign as cryptoSign, type KeyObject} from 'node:crypto'
import {readFileSync, statSync} from 'node:fs'
import os from 'node:os'

import type {NodeExec, RunOptions, RunResult} from './node.js'
import type {Endpoint, NodeTarget} from './target.js'

import {formatMs} from './duration.js'
import {
  AuthError, ConnectError, NodeError, NodeTimeoutError, SudoPasswordError,
} from './errors.js'
import {KnownHostsStore, preferredHostKeyTypes, verifyHostKey} from './host-keys.js'
import {remoteCommand, sudoMissing, sudoWantsPassword} from './remote-command.js'
import {Semaphore} from './semaphore.js'
import {quoteArgv} from './shell-quote.js'

type Ssh2 = typeof import('ssh2')

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
/** Under sshd's MaxSessions (10), with room for a jump or a stray channel. */
export const DEFAULT_CHANNELS_PER_CONNECTION = 6
/**
 * Handshakes in progress with one sshd (one address and port): its MaxStartups (default 10:30:100)
 * drops unauthenticated connections beyond 10. Different nodes are different sshds, so this never
 * slows a fan-out down; it matters when several names lead to one server.
 */
export const HANDSHAKES_PER_SERVER = 10

export interface SshConnectorOptions {
  channelsPerConnection?: number
  /** Overrides ConnectTimeout of the ssh config when given (--connect-timeout). */
  connectTimeoutMs?: number
  /** Shared known_hosts cache; a new one by default. */
  knownHosts?: KnownHostsStore
}

export interface ConnectContext {
  /** Absolute time (ms since epoch) after which this node's remote work is stopped. */
  deadline?: number
  /** Non-fatal things the user should know (new host key recorded, a key file skipped). */
  onWarning?: (message: string) => void
}

/** Connects nodes for one command; close() ends the shared jump-host connections. */
export class SshConnector {
  /** Identity files read and parsed once per command, not once per node. */
  private readonly identities = new Map<string, Identity>()
  private readonly jumpClients: Client[] = []
  private readonly jumps = new Map<string, Promise<Client>>()
  private readonly knownHosts: KnownHostsStore
  /** Per sshd (host:port): handshakes in progress, see HANDSHAKES_PER_SERVER. */
  private readonly servers = new Map<string, {semaphore: Semaphore; users: number}>()
  private ssh2?: Promise<Ssh2>

  constructor(private readonly options: SshConnectorOptions = {}) {
    this.knownHosts = options.knownHosts ?? new KnownHostsStore()
  }

  async close(): Promise<void> {
    await Promise.all(this.jumpClients.splice(0).map(client => endClient(client)))
    this.jumps.clear()
  }

  /** Connect, verify the host key(s), authenticate; the node is ready for run(). */
  async connect(target: NodeTarget, context: ConnectContext = {}): Promise<SshNode> {
    for (const endpoint of [...target.jump, target]) {
      if (endpoint.proxyCommand) {
        throw new NodeError(target.name, 'config', `the ssh config sets ProxyCommand for ${endpoint.name} ("${endpoint.proxyCommand}"), which staticpod does not run`, [
          'Use ProxyJump instead (e.g. `ProxyJump bastion` rather than `ProxyCommand ssh -W %h:%p bastion`).',
        ])
      }
    }

    const ssh2 = await this.loadSsh2()
    let sock: Duplex | undefined
    if (target.jump.length > 0) {
      const via = await this.jumpClient(ssh2, target.jump, target, context).catch((error: unknown) => {
        throw throughJump(target, target.jump.at(-1)!, error)
      })
      sock = await forwardOut(via, target, target.jump.at(-1)!, this.connectTimeout(target))
    }

    const client = await this.oneServer(target, async () => this.handshake(ssh2, target, target.name, sock, context))
    return new SshNode(target, client, {
      channels: this.options.channelsPerConnection ?? DEFAULT_CHANNELS_PER_CONNECTION,
      deadline: context.deadline,
    })
  }

  private connectTimeout(endpoint: Endpoint): number {
    return this.options.connectTimeoutMs ?? endpoint.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  }

  private async handshake(ssh2: Ssh2, endpoint: Endpoint, label: string, sock: Duplex | undefined, context: ConnectContext): Promise<Client> {
    const warn = (message: string): void => context.onWarning?.(message)
    const auth = authMethods(ssh2, endpoint, warn, this.identities)
    const timeoutMs = this.connectTimeout(endpoint)
    const store = this.knownHosts
    const preferred = preferredHostKeyTypes(store, endpoint.hostKey, endpoint.host, endpoint.port)
    return new Promise<Client>((resolve, reject) => {
      const client = new ssh2.Client()
      let hostKeyError: unknown
      let settled = false
      const fail = (error: NodeError): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        client.destroy()
        reject(error)
      }

      // ssh2's readyTimeout covers TCP connect, key exchange and authentication; this is a backstop
      // for a jump channel that never answers.
      const timer = setTimeout(() => fail(connectTimedOut(label, endpoint, timeoutMs)), timeoutMs + 1000)
      client.once('ready', () => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(client)
      })
      client.on('error', (error: Error & {code?: string; level?: string}) => {
        if (hostKeyError instanceof NodeError) fail(hostKeyError)
        else fail(classifyConnectError(error, label, endpoint, auth, timeoutMs))
      })
      client.once('close', () => fail(new ConnectError(label, `${address(endpoint)} closed the connection before it was ready`)))
      const config: ConnectConfig = {
        algorithms: {serverHostKey: hostKeyAlgorithms(preferred)},
        authHandler(_methodsLeft, _partial, next) {
          const method = auth.methods.shift()
          if (method) auth.tried.push(method.label)
          next(method?.method ?? (false as unknown as AnyAuthMethod))
        },
        host: endpoint.host,
        hostVerifier(key: Buffer): boolean {
          try {
            const {notes} = verifyHostKey({
              host: endpoint.host, key, node: endpoint.name, policy: endpoint.hostKey, port: endpoint.port, store,
            })
            for (const note of notes) warn(note)
            return true
          } catch (error) {
            hostKeyError = error
            return false
          }
        },
        keepaliveCountMax: 3,
        keepaliveInterval: 15_000,
        port: endpoint.port,
        readyTimeout: timeoutMs,
        sock,
        username: endpoint.user,
      }
      client.connect(config)
    })
  }

  /** The shared connection to the last hop of `chain`, itself reached through the hops before it. */
  private async jumpClient(ssh2: Ssh2, chain: Endpoint[], target: NodeTarget, context: ConnectContext): Promise<Client> {
    const key = chain.map(hop => `${hop.user}@${hop.host}:${hop.port}`).join(' > ')
    let pending = this.jumps.get(key)
    if (!pending) {
      const hop = chain.at(-1)!
      pending = (async () => {
        let sock: Duplex | undefined
        if (chain.length > 1) {
          const via = await this.jumpClient(ssh2, chain.slice(0, -1), target, context)
          sock = await forwardOut(via, hop, chain.at(-2)!, this.connectTimeout(hop))
        }

        // A failed jump host stays failed for this command: retrying it per node would only
        // hammer it (and earn a PerSourcePenalties lock-out).
        const client = await this.handshake(ssh2, hop, hop.name, sock, {onWarning: context.onWarning})
        this.jumpClients.push(client)
        client.once('close', () => {
          // Gone (idle timeout, network): the next node connects afresh.
          this.jumps.delete(key)
          const index = this.jumpClients.indexOf(client)
          if (index !== -1) this.jumpClients.splice(index, 1)
        })
        return client
      })()
      this.jumps.set(key, pending)
    }

    return pending
  }

  private async loadSsh2(): Promise<Ssh2> {
    this.ssh2 ??= import('ssh2').then(module => ((module as {default?: Ssh2}).default ?? module) as Ssh2)
    return this.ssh2
  }

  /** Runs a handshake with at most HANDSHAKES_PER_SERVER others to the same sshd. */
  private async oneServer<T>(endpoint: Endpoint, handshake: () => Promise<T>): Promise<T> {
    const key = `${endpoint.host}:${endpoint.port}`
    let server = this.servers.get(key)
    if (!server) {
      server = {semaphore: new Semaphore(HANDSHAKES_PER_SERVER), users: 0}
      this.servers.set(key, server)
    }

    server.users++
    try {
      return await server.semaphore.use(handshake)
    } finally {
      if (--server.users === 0) this.servers.delete(key)
    }
  }
}

/** A connected node. run() is safe to call concurrently; channels are capped per connection. */
export class SshNode implements NodeExec {
  readonly name: string
  private readonly channels: Semaphore
  private closed = false
  private readonly deadline?: number
  /** The connection is closed (by us or the node). */
  private gone = false
  private lost?: NodeError

  constructor(
    readonly target: NodeTarget,
    private readonly client: Client,
    options: {channels: number; deadline?: number},
  ) {
    this.name = target.name
    this.channels = new Semaphore(options.channels)
    this.deadline = options.deadline
    client.on('error', (error: Error) => {
      this.lost ??= new ConnectError(this.name, `connection to ${this.name} lost: ${error.message}`)
    })
    client.once('close', () => {
      this.gone = true
      if (!this.closed) this.lost ??= new ConnectError(this.name, `connection to ${this.name} closed by the node`)
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (!this.gone) await endClient(this.client)
  }

  async run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new Error('run: empty argv')
    const sudo = options.root === true && this.target.sudo
    const timeoutMs = this.timeoutFor(options.timeoutMs)
    // The node stops the command a little after we give up on it, and at once if we disconnect.
    const line = remoteCommand(argv, {deadlineSeconds: timeoutMs === undefined ? 0 : (timeoutMs / 1000) + 1, sudo, watchdog: options.readOnly !== true})
    const result = await this.channels.use(async () => this.exec(argv, line, options, timeoutMs))
    if (sudo && sudoWantsPassword(result)) throw new SudoPasswordError(this.name, this.target.user)
    if (sudo && sudoMissing(result)) {
      throw new NodeError(this.name, 'sudo', `sudo is not installed on ${this.name}, and ${this.target.user} is not root`, [
        `Connect as root (User root for ${this.name}), or install sudo.`,
      ])
    }

    return result
  }

  /** run() as root: `sudo -n` unless the node's user is root. */
  async runAsRoot(argv: string[], options: Omit<RunOptions, 'root'> = {}): Promise<RunResult> {
    return this.run(argv, {...options, root: true})
  }

  private async exec(argv: string[], line: string, options: RunOptions, timeoutMs: number | undefined): Promise<RunResult> {
    if (this.lost) throw this.lost
    if (this.closed) throw new ConnectError(this.name, `connection to ${this.name} is closed`)
    return new Promise<RunResult>((resolve, reject) => {
      this.client.exec(line, (error: Error | undefined, stream: ClientChannel) => {
        if (error) {
          reject(this.lost ?? new ConnectError(this.name, `${this.name} refused a session channel: ${error.message}`, [
            'sshd limits sessions per connection (MaxSessions); this is a bug if it happens.',
          ]))
          return
        }

        const stdout: Buffer[] = []
        const stderr: Buffer[] = []
        let code: null | number = null
        let signal: string | undefined
        let done = false
        const timer = timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
            if (done) return
            done = true
            stream.close()
            reject(new NodeTimeoutError(this.name, `\`${quoteArgv(argv)}\` on ${this.name} did not finish within ${formatMs(timeoutMs)}; stopped it`))
          }, timeoutMs)
        stream.on('data', options.onStdout ?? ((chunk: Buffer) => stdout.push(chunk)))
        stream.stderr.on('data', options.onStderr ?? ((chunk: Buffer) => stderr.push(chunk)))
        stream.on('exit', (exitCode: null | number, exitSignal?: string) => {
          if (typeof exitCode === 'number') code = exitCode
          else if (exitSignal) signal = exitSignal
        })
        stream.on('close', () => {
          clearTimeout(timer)
          if (done) return
          done = true
          if (code === null && signal === undefined && this.lost) {
            reject(this.lost)
            return
          }

          resolve({
            code, signal, stderr: Buffer.concat(stderr).toString('utf8'), stdout: Buffer.concat(stdout).toString('utf8'),
          })
        })
        stream.on('error', () => {})
        if (options.stdin === undefined) stream.end()
        else stream.end(options.stdin)
      })
    })
  }

  private timeoutFor(timeoutMs: number | undefined): number | undefined {
    if (this.deadline === undefined) return timeoutMs
    const left = this.deadline - Date.now()
    if (left <= 0) throw new NodeTimeoutError(this.name, `${this.name} ran out of time`)
    return timeoutMs === undefined ? left : Math.min(timeoutMs, left)
  }
}

interface AuthPlan {
  /** Encrypted key files that were skipped: no passphrase can be asked for. */
  encrypted: string[]
  methods: Array<{label: string; method: AnyAuthMethod}>
  /** No agent socket was usable. */
  noAgent: boolean
  tried: string[]
}

/** An identity file as read: its key (with the private half decoded once), or why it cannot be used. */
type Identity = {encrypted: true} | {error: string; unreadable: boolean} | {key: ParsedKey}

function readIdentity(ssh2: Ssh2, file: string): Identity {
  let data: Buffer
  try {
    data = readFileSync(file)
  } catch (error) {
    return {error: (error as NodeJS.ErrnoException).code ?? (error as Error).message, unreadable: true}
  }

  const parsed = ssh2.utils.parseKey(data)
  const key: Error | ParsedKey | undefined = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed
  if (key instanceof Error || key === undefined) {
    if (key && /encrypted|passphrase/i.test(key.message)) return {encrypted: true}
    return {error: key?.message ?? 'no key in it', unreadable: false}
  }

  return {key: signingOnce(key)}
}

/**
 * The key, signing with its private half decoded once: ssh2 hands its PEM text to OpenSSL on every
 * signature, one per connection, and decoding costs more than signing.
 */
function signingOnce(key: ParsedKey): ParsedKey {
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(key.getPrivatePEM())
  } catch {
    return key
  }

  const eddsa = key.type === 'ssh-ed25519'
  return Object.create(key, {
    sign: {
      value(data: Buffer, algo?: string): Buffer | Error {
        // ssh2 names the hash for RSA and ECDSA signatures; Ed25519 takes none.
        if (!eddsa && !algo) return key.sign(data, algo)
        try {
          return cryptoSign(eddsa ? null : algo!, data, privateKey)
        } catch (error) {
          return error as Error
        }
      },
    },
  }) as ParsedKey
}

/** ssh's order, simplified: the agent's keys, then each identity file that exists and is not encrypted. */
function authMethods(ssh2: Ssh2, endpoint: Endpoint, warn: (message: string) => void, identities: Map<string, Identity>): AuthPlan {
  const plan: AuthPlan = {
    encrypted: [], methods: [], noAgent: true, tried: [],
  }
  const username = endpoint.user
  if (endpoint.identityAgent) {
    if (isSocket(endpoint.identityAgent)) {
      plan.noAgent = false
      const agent = endpoint.identitiesOnly
        ? agentLimitedTo(ssh2, endpoint.identityAgent, new Set(endpoint.identityFiles.map(file => publicKeyOf(ssh2, file)).filter(key => key !== undefined)))
        : endpoint.identityAgent
      plan.methods.push({label: `ssh-agent (${endpoint.identityAgent})`, method: {agent, type: 'agent', username}})
    } else warn(`${endpoint.name}: ssh-agent socket ${endpoint.identityAgent} does not exist; not using an agent`)
  }

  for (const file of endpoint.identityFiles) {
    let identity = identities.get(file)
    if (!identity) {
      identity = readIdentity(ssh2, file)
      identities.set(file, identity)
    }

    if ('key' in identity) plan.methods.push({label: tildify(file), method: {key: identity.key, type: 'publickey', username}})
    else if ('encrypted' in identity) plan.encrypted.push(file)
    else if (!identity.unreadable) warn(`${endpoint.name}: cannot use identity file ${tildify(file)}: ${identity.error}`)
    else if (endpoint.identityFilesExplicit) warn(`${endpoint.name}: identity file ${tildify(file)} not accessible: ${identity.error}`)
  }

  return plan
}

/** The agent, showing only the keys whose public blobs (base64) are in `allowed` (IdentitiesOnly). */
function agentLimitedTo(ssh2: Ssh2, socket: string, allowed: Set<string>): BaseAgent {
  const inner = new ssh2.OpenSSHAgent(socket)
  class LimitedAgent extends ssh2.BaseAgent<ParsedKey> {
    getIdentities(cb: IdentityCallback<ParsedKey>): void {
      inner.getIdentities((error, keys) => cb(error, keys?.filter(key => allowed.has(publicBlob(key)))))
    }

    sign(pubKey: ParsedKey, data: Buffer, options: unknown, cb?: unknown): void {
      inner.sign(pubKey, data, options as SigningRequestOptions, cb as SignCallback)
    }
  }
  return new LimitedAgent()
}

function publicBlob(key: ParsedKey | {pubKey: unknown}): string {
  const parsed = ('pubKey' in key ? key.pubKey : key) as ParsedKey | {pubKey: ParsedKey}
  const inner = 'getPublicSSH' in parsed ? parsed : parsed.pubKey
  return typeof inner.getPublicSSH === 'function' ? inner.getPublicSSH().toString('base64') : ''
}

/** The public key blob (base64) of an identity file: from FILE.pub, else from the key if it is not encrypted. */
function publicKeyOf(ssh2: Ssh2, file: string): string | undefined {
  try {
    const [, blob] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/)
    if (blob) return blob
  } catch {
    // no .pub next to it
  }

  try {
    const parsed = ssh2.utils.parseKey(readFileSync(file))
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed
    return key && !(key instanceof Error) ? key.getPublicSSH().toString('base64') : undefined
  } catch {
    return undefined
  }
}

function classifyConnectError(error: Error & {code?: string; level?: string}, label: string, endpoint: Endpoint, auth: AuthPlan, timeoutMs: number): NodeError {
  const where = address(endpoint)
  if (error.level === 'client-authentication') {
    if (auth.encrypted.length > 0) {
      const [file] = auth.encrypted.map(path => tildify(path))
      return new AuthError(label, `${endpoint.user}@${where}: the key ${file} needs a passphrase, and no ssh-agent holds it${auth.tried.length > 0 ? ` (also tried ${auth.tried.join(', ')})` : ''}`, [
        `Add the key to your agent: ssh-add ${file}${auth.noAgent ? ' (start an agent first: eval "$(ssh-agent)")' : ''}`,
      ])
    }

    if (auth.tried.length === 0) {
      return new AuthError(label, `${endpoint.user}@${where}: no SSH key to offer (no ssh-agent, and none of ${endpoint.identityFiles.map(file => tildify(file)).join(', ') || 'the identity files'} exists)`, [
        'Start ssh-agent and add your key (ssh-add), or set IdentityFile for the host in the ssh config.',
      ])
    }

    return new AuthError(label, `${endpoint.user}@${where} refused the keys offered (tried ${auth.tried.join(', ')})`, [
      `Check that ${endpoint.user} on ${endpoint.name} has one of these keys in ~/.ssh/authorized_keys, and the User for the host in the ssh config or the inventory.`,
    ])
  }

  if (error.level === 'client-timeout') return connectTimedOut(label, endpoint, timeoutMs)
  if (error.level === 'agent') return new AuthError(label, `ssh-agent at ${endpoint.identityAgent}: ${error.message}`, ['Check SSH_AUTH_SOCK.'])
  switch (error.code) {
  case 'EAI_AGAIN':
  case 'ENOTFOUND': {
    return new ConnectError(label, `cannot resolve host name ${endpoint.host}`)
  }

  case 'ECONNREFUSED': {
    return new ConnectError(label, `connection refused by ${where}`, [`Is sshd running on ${endpoint.name} and listening on port ${endpoint.port}?`])
  }

  case 'ECONNRESET': {
    return new ConnectError(label, `${where} reset the connection during the handshake`, [
      'sshd drops connections beyond its MaxStartups limit: lower --parallel, or raise MaxStartups on the node.',
    ])
  }

  case 'EHOSTUNREACH':
  case 'ENETUNREACH':
  case 'ETIMEDOUT': {
    return new ConnectError(label, `${where} is unreachable (${error.code})`)
  }
  }

  if (/before handshake/i.test(error.message)) {
    return new ConnectError(label, `${where} closed the connection during the handshake`, [
      'sshd drops connections beyond its MaxStartups limit: lower --parallel, or raise MaxStartups on the node.',
    ])
  }

  return new ConnectError(label, `${where}: ${error.message}`)
}

function connectTimedOut(label: string, endpoint: Endpoint, timeoutMs: number): ConnectError {
  return new ConnectError(label, `timed out after ${formatMs(timeoutMs)} connecting to ${address(endpoint)}`, [
    `Check that ${endpoint.name} is up and reachable; ConnectTimeout in the ssh config or --connect-timeout sets the limit.`,
  ])
}

function throughJump(target: NodeTarget, hop: Endpoint, error: unknown): NodeError {
  if (!(error instanceof NodeError)) return new ConnectError(target.name, `cannot reach ${target.name} through ${hop.name}: ${(error as Error).message}`)
  const copy = new NodeError(target.name, error.kind, `cannot reach ${target.name} through jump host ${error.node}: ${error.message}`, error.hints)
  copy.name = error.name
  return copy
}

/** A direct-tcpip channel through `via` to the endpoint. */
async function forwardOut(via: Client, endpoint: Endpoint, hop: Endpoint, timeoutMs: number): Promise<Duplex> {
  return new Promise<Duplex>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ConnectError(endpoint.name, `jump host ${hop.name} did not open a connection to ${address(endpoint)} within ${formatMs(timeoutMs)}`)), timeoutMs)
    via.forwardOut('127.0.0.1', 0, endpoint.host, endpoint.port, (error: Error | undefined, stream: ClientChannel) => {
      clearTimeout(timer)
      if (error) {
        reject(new ConnectError(endpoint.name, `jump host ${hop.name} could not connect to ${address(endpoint)}: ${error.message}`, [
          `${hop.name} must allow TCP forwarding (AllowTcpForwarding) and reach ${endpoint.host}:${endpoint.port}.`,
        ]))
        return
      }

      resolve(stream)
    })
  })
}

/** Known key types first (as ssh does, to avoid a needless "unknown key"), then ssh2's fast defaults. */
function hostKeyAlgorithms(knownTypes: string[]): NonNullable<NonNullable<ConnectConfig['algorithms']>['serverHostKey']> {
  const defaults = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']
  const preferred = knownTypes.flatMap(type => (type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type]))
  return [...new Set([...defaults, ...preferred.filter(type => defaults.includes(type))])] as NonNullable<NonNullable<ConnectConfig['algorithms']>['serverHostKey']>
}

async function endClient(client: Client): Promise<void> {
  await new Promise<void>(resolve => {
    const timer = setTimeout(() => {
      client.destroy()
      resolve()
    }, 1000)
    client.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
    client.end()
  })
}

function address(endpoint: Endpoint): string {
  return endpoint.port === 22 ? endpoint.host : `${endpoint.host}:${endpoint.port}`
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket()
  } catch {
    return false
  }
}

function tildify(path: string): string {
  const home = os.homedir()
  return path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path
}
