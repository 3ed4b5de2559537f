import {type ChildProcess, spawn} from 'node:child_process'
import {
  closeSync, existsSync, openSync, readFileSync,
} from 'node:fs'
import {
  chmod, chown, copyFile, mkdir, readdir, readFile, rm, stat, writeFile,
} from 'node:fs/promises'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {fingerprint, generateEd25519} from './keys.js'
import {
  childPids,
  type ExecResult,
  kill,
  mountNamespace,
  pidsInMountNamespace,
  run,
  type RunOptions,
  sleep,
} from './process.js'

/** The script each node boots with; passed inline, so that it is found whatever /tmp becomes. */
const INIT_SCRIPT = readFileSync(new URL('node-init.sh', import.meta.url), 'utf8')
/** Generous: on a loaded 2-CPU machine ten nodes starting at once take seconds each. */
const START_TIMEOUT_MS = 30_000
/** This checkout, which the simulator's programs run from inside the nodes. */
const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/** Inside /var, a per-node overlay: a place to hold the project while the private directories are mounted. */
const PROJECT_STAGE = '/var/tmp/staticpod-project'
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** Directories that are copy-on-write per node (when they exist on the host): what the node writes there stays in it. */
export const OVERLAY_DIRS = ['/etc', '/opt', '/usr/local', '/var'] as const

/** Directories that are the node's own and that the host sees under `node.root`. */
export const PRIVATE_DIRS = [
  '/etc/default',
  '/etc/kubernetes',
  '/etc/ssh',
  '/etc/sudoers.d',
  '/etc/sysconfig',
  '/etc/systemd/system',
  '/home',
  '/root',
  '/run',
  '/tmp',
  '/var/lib/kubelet',
  '/var/lib/staticpod',
] as const

/** Files of host directories copied into a new node's private directory of the same name (as a fresh install has). */
const SEEDED_DIRS: Record<string, (file: string) => boolean> = {
  '/etc/default': () => true,
  '/etc/ssh': file => !/^(?:ssh_host_|sshd_config)/.test(file),
}

export interface NodeUser {
  name: string
  /** Crypted password for the node's /etc/shadow ('*': no password, but not locked). */
  passwordHash: string
  uid: number
}

export interface NodeSpec {
  address: string
  /** Directory of this node inside the sandbox: holds `fs/` (node.root), overlay layers, fstab and sshd.log. */
  dir: string
  hostname: string
  name: string
  port: number
  privateDirs: string[]
  /** Lines put before the defaults of the node's sshd_config (for sshd the first value of a keyword wins). */
  sshdConfig: string
  /** The node's /etc/sudoers.d/ content, file name -> text. */
  sudoers: Record<string, string>
  /** Users besides root, created in the node's own /etc. */
  users: NodeUser[]
}

export interface NodeExecOptions extends Omit<RunOptions, 'env'> {
  /** Added to a clean login-like environment (PATH, HOME, USER, LOGNAME, LANG). */
  env?: Record<string, string>
  /** Run as this user of the node instead of root. */
  user?: string
}

export interface SandboxNode {
  readonly address: string
  /** Regenerates the node's host key and makes its sshd use it (the sandbox's known_hosts is left as it was). */
  changeHostKey(): Promise<void>
  /** Runs a command inside the node's namespaces (not over SSH), as root unless `user` is given. */
  exec(argv: string[], options?: NodeExecOptions): Promise<ExecResult>
  readonly hostKeyFingerprint: string
  readonly hostname: string
  readonly knownHostsLine: string
  /** The node's sshd log (its stderr, `sshd -e`), kept across restarts. */
  readonly logPath: string
  readonly name: string
  /** Stops the node's sshd from answering (SIGSTOP): connections are accepted by the kernel but never greeted. */
  pause(): Promise<void>
  /** Host pid of the node's pid 1 (its sshd) while it runs. */
  readonly pid: number | undefined
  readonly port: number
  /** Undoes pause(). */
  resume(): Promise<void>
  /** Host-side directory holding the node's private directories: `${root}/etc/kubernetes` is its /etc/kubernetes. */
  readonly root: string
  readonly running: boolean
  /** Boots the node again after stop(), with the same address, host key and files (/run is emptied, as by a reboot). */
  start(): Promise<void>
  /** Kills every process of the node; its mounts go with its namespaces. Connections are then refused. */
  stop(): Promise<void>
}

function sshdConfig(spec: NodeSpec): string {
  const extra = spec.sshdConfig.trim()
  return [
    `# sshd_config of sandbox node ${spec.name}`,
    ...(extra ? [extra] : []),
    `ListenAddress ${spec.address}:${spec.port}`,
    'HostKey /etc/ssh/ssh_host_ed25519_key',
    'PidFile /run/sshd.pid',
    'PermitRootLogin prohibit-password',
    // No PAM: nothing of pam_systemd/pam_loginuid to fail in a namespace, no PAM session to slow logins down.
    // Then sshd itself refuses accounts whose password is locked ('!'): the node's users have '*' or a hash.
    // sudo still uses PAM, against the node's own /etc/shadow.
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n')
}

/** Parents before children, except that a directory hiding `root` (/tmp, where the sandbox lives) comes last. */
function mountOrder(dirs: string[], root: string): string[] {
  const hidesRoot = (dir: string): number => Number(root.startsWith(`${dir}/`))
  return [...dirs].sort((a, b) => hidesRoot(a) - hidesRoot(b) || a.localeCompare(b))
}

/** The node's copy of a host /etc file (same mode and owner), with `extra` appended and `edit` applied. */
async function etcFile(upper: string, name: string, extra: string[], edit = (text: string) => text): Promise<void> {
  const source = path.join('/etc', name)
  if (!existsSync(source)) return
  const [text, info] = await Promise.all([readFile(source, 'utf8'), stat(source)])
  const target = path.join(upper, name)
  await writeFile(target, edit(text) + extra.map(line => `${line}\n`).join(''))
  await chown(target, info.uid, info.gid)
  await chmod(target, info.mode)
}

export class Node implements SandboxNode {
  readonly root: string
  private child: ChildProcess | undefined
  private exited: Promise<void> | undefined
  private hostPublicKey = ''
  private initPid: number | undefined
  private namespace: string | undefined

  constructor(private readonly spec: NodeSpec) {
    this.root = path.join(spec.dir, 'fs')
  }

  get address(): string {
    return this.spec.address
  }

  get hostKeyFingerprint(): string {
    return fingerprint(this.hostPublicKey)
  }

  get hostname(): string {
    return this.spec.hostname
  }

  get knownHostsLine(): string {
    const host = this.port === 22 ? this.address : `[${this.address}]:${this.port}`
    const [type, key] = this.hostPublicKey.trim().split(/\s+/)
    return `${host} ${type} ${key}`
  }

  get logPath(): string {
    return path.join(this.spec.dir, 'sshd.log')
  }

  get name(): string {
    return this.spec.name
  }

  get pid(): number | undefined {
    return this.initPid
  }

  get port(): number {
    return this.spec.port
  }

  get running(): boolean {
    return this.initPid !== undefined
  }

  /** Host pid of the unshare process that holds the node (parent of its pid 1). */
  get unsharePid(): number | undefined {
    return this.child?.pid
  }

  /** Lets these public keys log in as root and as every user of the node. */
  async authorize(publicKeys: string): Promise<void> {
    await Promise.all([
      this.writeAuthorizedKeys('/root', publicKeys, 0),
      ...this.spec.users.map(user => this.writeAuthorizedKeys(`/home/${user.name}`, publicKeys, user.uid)),
    ])
  }

  async changeHostKey(): Promise<void> {
    await this.generateHostKey()
    const pid = this.initPid
    if (pid === undefined) return
    // On SIGHUP sshd re-executes itself (same pid, same namespaces) and so reads its host keys again; it writes
    // its pid file once it listens again.
    const pidFile = path.join(this.root, 'run/sshd.pid')
    await rm(pidFile, {force: true})
    kill(pid, 'SIGHUP')
    await this.waitForListening(pidFile)
  }

  async exec(argv: string[], options: NodeExecOptions = {}): Promise<ExecResult> {
    const pid = this.initPid
    if (pid === undefined) throw new Error(`sandbox node ${this.name} is not running`)
    const user = options.user ?? 'root'
    const asUser = user === 'root' ? [] : ['setpriv', `--reuid=${user}`, `--regid=${user}`, '--init-groups', '--']
    return run('nsenter', ['-t', String(pid), '-m', '-u', '-p', '--', ...asUser, ...argv], {
      check: options.check,
      env: {
        HOME: user === 'root' ? '/root' : `/home/${user}`,
        LANG: 'C.UTF-8',
        LOGNAME: user,
        PATH,
        USER: user,
        ...options.env,
      },
      input: options.input,
    })
  }

  /** Creates the node's directories, files and host key (not its authorized keys: see authorize()). */
  async init(): Promise<void> {
    const {spec} = this
    const overlays = OVERLAY_DIRS.filter(dir => existsSync(dir))
    await Promise.all([
      ...overlays.map(dir => this.makeOverlay(dir)),
      ...spec.privateDirs.map(dir => mkdir(path.join(this.root, dir), {recursive: true})),
    ])
    // Before the overlay is first mounted its upper layer may be written to directly: the node's own
    // /etc/passwd and friends (with its users), /etc/hosts and /etc/hostname.
    const etc = this.upper('/etc')
    const {users} = spec
    await Promise.all([
      ...Object.entries(SEEDED_DIRS).map(([dir, filter]) => this.seed(dir, filter)),
      etcFile(etc, 'passwd', users.map(u => `${u.name}:x:${u.uid}:${u.uid}::/home/${u.name}:/bin/bash`)),
      etcFile(etc, 'group', users.map(u => `${u.name}:x:${u.uid}:`)),
      // Without PAM, sshd refuses every login (even by key) to an account whose password starts with '!'.
      etcFile(etc, 'shadow', users.map(u => `${u.name}:${u.passwordHash}:19000:0:99999:7:::`), text =>
        text.replace(/^root:![^:]*:/m, 'root:*:')),
      etcFile(etc, 'gshadow', users.map(u => `${u.name}:!::`)),
      writeFile(path.join(etc, 'hostname'), `${spec.hostname}\n`),
      // sudo resolves the hostname on every call: without this line it waits for DNS and then warns.
      writeFile(
        path.join(etc, 'hosts'),
        `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${spec.address}\t${spec.hostname}\n`,
      ),
      writeFile(path.join(spec.dir, 'fstab'), this.fstab(overlays)),
      this.generateHostKey(),
    ])
    await chmod(path.join(this.root, 'root'), 0o700)
    await chmod(path.join(this.root, 'tmp'), 0o1777)
    await Promise.all(Object.entries(spec.sudoers).map(async ([file, text]) => {
      const target = path.join(this.root, 'etc/sudoers.d', file)
      await writeFile(target, text)
      await chmod(target, 0o440)
    }))
    await writeFile(path.join(this.root, 'etc/ssh/sshd_config'), sshdConfig(spec))
  }

  async pause(): Promise<void> {
    if (this.initPid !== undefined) kill(this.initPid, 'SIGSTOP')
  }

  async resume(): Promise<void> {
    if (this.initPid !== undefined) kill(this.initPid, 'SIGCONT')
  }

  async start(): Promise<void> {
    if (this.child) return
    const {spec} = this
    const runDir = path.join(this.root, 'run')
    await Promise.all((await readdir(runDir)).map(entry => rm(path.join(runDir, entry), {force: true, recursive: true})))
    await mkdir(path.join(runDir, 'sshd'), {mode: 0o755}) // sshd's privilege separation directory
    const log = openSync(this.logPath, 'a')
    let child: ChildProcess
    try {
      child = spawn(
        'setpriv',
        [
          '--pdeathsig=KILL', // if the test process dies, so does unshare, and with it (--kill-child) the node
          '--',
          'unshare',
          '--mount',
          '--uts',
          '--pid',
          '--fork',
          '--kill-child=SIGKILL',
          '--mount-proc',
          '--propagation=private',
          '--',
          '/bin/sh',
          '-c',
          INIT_SCRIPT,
          'node-init',
          spec.dir,
          spec.hostname,
        ],
        {
          cwd: '/', detached: true, env: {PATH}, stdio: ['ignore', log, log],
        },
      )
    } finally {
      closeSync(log)
    }

    this.child = child
    this.exited = new Promise(resolve => {
      child.once('exit', () => {
        this.child = undefined
        this.initPid = undefined
        resolve()
      })
    })
    try {
      await this.waitForListening(path.join(runDir, 'sshd.pid'))
      const unsharePid = child.pid ?? 0
      const init = childPids(unsharePid)[0]
      if (init === undefined) throw new Error(`sandbox node ${this.name}: cannot find its init process`)
      this.initPid = init
      this.namespace = mountNamespace(init)
      await writeFile(path.join(spec.dir, 'unshare.pid'), `${unsharePid}\n`)
    } catch (error) {
      await this.stop()
      throw error
    }
  }

  async stop(): Promise<void> {
    const {child, exited, initPid, namespace} = this
    if (!child) return
    // Killing pid 1 of the node's PID namespace kills every process in it (sshd, sessions, exec'd commands);
    // the unshare parent then exits, and the mount namespace, with all the node's mounts, goes with them.
    if (initPid === undefined || !kill(initPid, 'SIGKILL')) kill(child.pid ?? 0, 'SIGKILL')
    await exited
    // A process that entered only the mount namespace (nsenter -m without -p) would keep it alive.
    if (namespace) await killMountNamespace(namespace)
    this.namespace = undefined
  }

  /**
   * Overlays first, then the private directories. When the project itself lies under a private
   * directory (a checkout in /tmp or /root), it is bound into the node at the same path, by way of
   * a stage in the node's own /var, so that programs the tests run inside the node (the simulator)
   * find their files.
   */
  private fstab(overlays: string[]): string {
    const dirs = mountOrder(this.spec.privateDirs, this.root)
    const hidden = dirs.some(dir => PROJECT === dir || PROJECT.startsWith(`${dir}/`))
    return [
      ...overlays.map(dir =>
        `overlay ${dir} overlay lowerdir=${dir},upperdir=${this.upper(dir)},workdir=${path.join(this.spec.dir, 'overlay', dir, 'work')} 0 0`),
      ...(hidden ? [`${PROJECT} ${PROJECT_STAGE} none bind,X-mount.mkdir 0 0`] : []),
      ...dirs.map(dir => `${path.join(this.root, dir)} ${dir} none bind,X-mount.mkdir 0 0`),
      ...(hidden ? [`${PROJECT_STAGE} ${PROJECT} none bind,X-mount.mkdir 0 0`] : []),
      '',
    ].join('\n')
  }

  private async generateHostKey(): Promise<void> {
    const key = path.join(this.root, 'etc/ssh/ssh_host_ed25519_key')
    const {privateKey, publicKey} = generateEd25519(`root@${this.hostname}`)
    await rm(key, {force: true})
    await writeFile(key, privateKey, {mode: 0o600})
    await writeFile(`${key}.pub`, publicKey, {mode: 0o644})
    this.hostPublicKey = publicKey
  }

  private async makeOverlay(dir: string): Promise<void> {
    const upper = this.upper(dir)
    await mkdir(upper, {recursive: true})
    await mkdir(path.join(this.spec.dir, 'overlay', dir, 'work'), {recursive: true})
    // The overlay's root directory takes its owner and mode from the upper layer.
    const info = await stat(dir)
    await chown(upper, info.uid, info.gid)
    await chmod(upper, info.mode)
  }

  /** Copies the regular files of a host directory into the node's private directory of the same name. */
  private async seed(dir: string, filter: (file: string) => boolean): Promise<void> {
    const entries = await readdir(dir, {withFileTypes: true})
    await Promise.all(entries
    .filter(entry => entry.isFile() && filter(entry.name))
    .map(entry => copyFile(path.join(dir, entry.name), path.join(this.root, dir, entry.name))))
  }

  private upper(dir: string): string {
    return path.join(this.spec.dir, 'overlay', dir, 'upper')
  }

  private async waitForListening(pidFile: string): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8') === '') {
      if (!this.child || Date.now() > deadline) {
        const log = existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8').trim().split('\n').slice(-5) : []
        const why = this.child ? `sshd not listening after ${START_TIMEOUT_MS / 1000}s` : 'exited'
        throw new Error(`sandbox node ${this.name} (${this.spec.dir}) did not start (${why}): ${log.join(' | ')}`)
      }

      // eslint-disable-next-line no-await-in-loop
      await sleep(5)
    }
  }

  private async writeAuthorizedKeys(home: string, publicKeys: string, uid: number): Promise<void> {
    const dir = path.join(this.root, home)
    const sshDir = path.join(dir, '.ssh')
    const file = path.join(sshDir, 'authorized_keys')
    await mkdir(sshDir, {mode: 0o700, recursive: true})
    await writeFile(file, publicKeys, {mode: 0o600})
    await Promise.all([dir, sshDir, file].map(p => chown(p, uid, uid)))
  }
}

/** SIGKILLs every process in a mount namespace until none is left. */
export async function killMountNamespace(namespace: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS
  for (let pids = pidsInMountNamespace(namespace); pids.length > 0; pids = pidsInMountNamespace(namespace)) {
    if (Date.now() > deadline) throw new Error(`processes ${pids.join(' ')} in ${namespace} do not die`)
    for (const pid of pids) kill(pid, 'SIGKILL')
    // eslint-disable-next-line no-await-in-loop
    await sleep(5)
  }
}
