import {expect} from 'chai'
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {readFile, writeFile} from 'node:fs/promises'
import {hostname} from 'node:os'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

import {
  cleanupStale,
  type ExecResult,
  PRIVATE_DIRS,
  run,
  type Sandbox,
  SANDBOX_BASE,
  SandboxCommandError,
  startSandbox,
} from '../sandbox/index.js'
import {
  isRunning, mountNamespace, pids, pidsInMountNamespace, processCommandLine, sleep,
} from '../sandbox/process.js'

const CLI = fileURLToPath(new URL('../sandbox/cli.ts', import.meta.url))

/** The real OpenSSH client with the sandbox's ssh_config, as a user would run it. */
function ssh(sandbox: Sandbox, args: string[], input?: string): Promise<ExecResult> {
  return run('ssh', ['-F', sandbox.sshConfigPath, '-o', 'BatchMode=yes', ...args], {
    env: sandbox.env(),
    input,
  })
}

function hostMounts(): string {
  return readFileSync('/proc/self/mounts', 'utf8')
}

/** Host processes whose command line names the directory: nodes' unshare processes, the agent. */
function processesOf(dir: string): number[] {
  return pids().filter(pid => processCommandLine(pid)?.includes(`${dir}/`))
}

async function waitFor(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    // eslint-disable-next-line no-await-in-loop
    await sleep(20)
  }
}

interface CliSandbox {
  child: ChildProcess
  dir: string
  nodes: {name: string; pid: number}[]
}

/** Sandbox processes started by a test; whatever a failing test leaves running is interrupted after it. */
const cliChildren = new Set<ChildProcess>()

/** Starts a sandbox in a separate process (test/sandbox/cli.ts), like a test run that gets interrupted or killed. */
async function startCliSandbox(): Promise<CliSandbox> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '2'], {stdio: ['ignore', 'pipe', 'pipe']})
  cliChildren.add(child)
  child.once('exit', () => cliChildren.delete(child))
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({input: child.stdout}).once('line', resolve)
    child.once('exit', code => reject(new Error(`sandbox cli exited with ${code}: ${stderr}`)))
  })
  return {child, ...(JSON.parse(first) as Omit<CliSandbox, 'child'>)}
}

describe('sandbox nodes', function () {
  this.timeout(60_000)
  const mountsBefore = hostMounts()
  let sandbox: Sandbox

  before(async () => {
    sandbox = await startSandbox({nodes: 10})
  })

  afterEach(async () => {
    await Promise.all([...cliChildren].map(child => {
      const exited = new Promise(resolve => {
        child.once('exit', resolve)
      })
      child.kill('SIGINT')
      return exited
    }))
  })

  after(async () => {
    await sandbox?.stop()
  })

  it('starts 10 sshd on their own loopback addresses, reached by name through the written ssh_config', async () => {
    const addresses = sandbox.nodes.map(node => node.address)
    expect(sandbox.nodes.map(node => node.name)).to.deep.equal(Array.from({length: 10}, (_, i) => `node${i + 1}`))
    expect(new Set(addresses).size).to.equal(10)
    for (const address of addresses) expect(address).to.match(/^127\.77\.\d+\.\d+$/)
    const config = await readFile(sandbox.sshConfigPath, 'utf8')
    const node3 = sandbox.node('node3')
    expect(config).to.include(`Host node3\n  HostName ${node3.address}\n  Port ${node3.port}\n  User root\n`)
    expect(path.join(sandbox.env().HOME ?? '', '.ssh/config')).to.equal(sandbox.sshConfigPath)

    expect(await ssh(sandbox, ['node3', 'hostname'])).to.include({code: 0, stdout: 'node3\n'})
    const all = await Promise.all(sandbox.nodes.map(node => ssh(sandbox, [node.name, 'hostname'])))
    expect(all.map(result => result.stdout.trim())).to.deep.equal(sandbox.nodes.map(node => node.name))
  })

  it('gives each node its own files, hostname and processes', async () => {
    const [node1, node2] = sandbox.nodes as [Sandbox['nodes'][0], Sandbox['nodes'][0]]
    await node1.exec(['sh', '-c', 'echo one > /etc/kubernetes/x'], {check: true})
    expect(await ssh(sandbox, ['node1', 'cat', '/etc/kubernetes/x'])).to.include({code: 0, stdout: 'one\n'})
    const missing = await ssh(sandbox, ['node2', 'cat', '/etc/kubernetes/x'])
    expect(missing.code).to.equal(1)
    expect(missing.stderr).to.include('No such file or directory')
    expect(await readFile(path.join(node1.root, 'etc/kubernetes/x'), 'utf8')).to.equal('one\n')
    expect(existsSync('/etc/kubernetes/x')).to.equal(false)

    // Files written on the host side under node.root are the node's, at once.
    await writeFile(path.join(node2.root, 'etc/default/kubelet'), 'KUBELET_EXTRA_ARGS=--v=2\n')
    expect((await ssh(sandbox, ['node2', 'cat /etc/default/kubelet'])).stdout).to.equal('KUBELET_EXTRA_ARGS=--v=2\n')
    expect((await ssh(sandbox, ['node1', 'test -e /etc/default/kubelet'])).code).to.equal(1)

    // Every private directory, and the copy-on-write rest of /etc and /var.
    const probes = [...PRIVATE_DIRS, '/etc', '/opt', '/usr/local', '/var/lib'].map(dir => `${dir}/probe-node1`)
    const existing = ['sh', '-c', 'for f; do test -e "$f" && echo "$f"; done; true', 'sh', ...probes]
    await node1.exec(['touch', ...probes], {check: true})
    expect((await node1.exec(existing)).stdout.split('\n').filter(Boolean)).to.deep.equal(probes)
    expect((await node2.exec(existing)).stdout).to.equal('')
    expect(probes.filter(probe => existsSync(probe)), 'on the host').to.deep.equal([])

    for (const dir of PRIVATE_DIRS) expect(existsSync(path.join(node1.root, dir, 'probe-node1')), dir).to.equal(true)

    expect((await node2.exec(['hostname'])).stdout).to.equal('node2\n')
    expect(hostname()).to.not.equal('node2')
    expect((await node2.exec(['cat', '/etc/hostname'])).stdout).to.equal('node2\n')
    expect((await node2.exec(['cat', '/proc/1/comm'])).stdout).to.equal('sshd\n')
    const processes = await node2.exec(['ps', '-e', '-o', 'comm='])
    expect(processes.stdout.split('\n').filter(Boolean)).to.deep.equal(['sshd', 'ps'])
  })

  it('lets root log in by key, and has a passwordless sudoer and one whose sudo asks for a password', async () => {
    expect(await ssh(sandbox, ['node3', 'id -un; ls -A ~'])).to.include({code: 0, stdout: 'root\n.ssh\n'})
    expect(await ssh(sandbox, ['-l', 'sp-admin', 'node3', 'id -un; ls -A ~; sudo -n id -u'])).to.include({
      code: 0,
      stdout: 'sp-admin\n.ssh\n0\n',
    })
    expect(sandbox.users).to.deep.include({passwordSudoer: 'sp-pass', sudoer: 'sp-admin', sudoPassword: 'sp-secret'})

    const noPassword = await ssh(sandbox, ['-l', 'sp-pass', 'node2', 'sudo -n true'])
    expect(noPassword.code).to.equal(1)
    expect(noPassword.stderr).to.include('a password is required')
    const withPassword = await ssh(sandbox, ['-l', 'sp-pass', 'node2', "sudo -S -p '' id -u"], 'sp-secret\n')
    expect(withPassword).to.include({code: 0, stdout: '0\n'})

    const password = await ssh(sandbox, ['-o', 'PreferredAuthentications=password', '-l', 'sp-pass', 'node2', 'true'])
    expect(password.code).to.equal(255)
    expect(password.stderr).to.include('Permission denied')
  })

  it('configures sshd like a stock one: default MaxStartups, no PAM, no AcceptEnv', async () => {
    const {stdout} = await sandbox.node('node1').exec(['/usr/sbin/sshd', '-T', '-f', '/etc/ssh/sshd_config'], {
      check: true,
    })
    const settings = stdout.split('\n')
    expect(settings).to.include.members([
      'maxstartups 10:30:100',
      'maxsessions 10',
      'usepam no',
      'permitrootlogin without-password',
      'passwordauthentication no',
    ])
    expect(settings.filter(line => line.startsWith('acceptenv'))).to.deep.equal([])
  })

  it('writes known_hosts, and real ssh rejects a changed or an unknown host key', async () => {
    const node4 = sandbox.node('node4')
    const knownHosts = await readFile(sandbox.knownHostsPath, 'utf8')
    for (const node of sandbox.nodes) expect(knownHosts).to.include(`${node.knownHostsLine}\n`)
    const listed = await run('ssh-keygen', ['-l', '-f', '-'], {input: node4.knownHostsLine})
    expect(listed.stdout).to.include(node4.hostKeyFingerprint)
    const scanned = await run('ssh-keyscan', ['-t', 'ed25519', node4.address])
    expect(scanned.stdout.trim()).to.equal(node4.knownHostsLine)

    const before = node4.hostKeyFingerprint
    await node4.changeHostKey()
    expect(node4.hostKeyFingerprint).to.not.equal(before)
    const changed = await ssh(sandbox, ['node4', 'true'])
    expect(changed.code).to.equal(255)
    expect(changed.stderr).to.include('REMOTE HOST IDENTIFICATION HAS CHANGED')

    await sandbox.writeKnownHosts(sandbox.nodes.filter(node => node.name !== 'node5'))
    expect((await ssh(sandbox, ['node4', 'true'])).code).to.equal(0)
    const unknown = await ssh(sandbox, ['node5', 'true'])
    expect(unknown.code).to.equal(255)
    expect(unknown.stderr).to.include('Host key verification failed')
    await sandbox.writeKnownHosts()
    expect((await ssh(sandbox, ['node5', 'true'])).code).to.equal(0)
  })

  it('takes a node down and up again, with its host key and files', async () => {
    const node6 = sandbox.node('node6')
    await node6.exec(['sh', '-c', 'echo kept > /var/lib/kubelet/config.yaml; echo gone > /run/gone'], {check: true})
    await node6.stop()
    expect(node6.running).to.equal(false)
    expect(node6.pid).to.equal(undefined)
    const down = await ssh(sandbox, ['node6', 'true'])
    expect(down.code).to.equal(255)
    expect(down.stderr).to.include('Connection refused')
    let error: unknown
    await node6.exec(['true']).catch((error_: unknown) => {
      error = error_
    })
    expect(String(error)).to.include('node6 is not running')

    await node6.start()
    expect(await ssh(sandbox, ['node6', 'cat /var/lib/kubelet/config.yaml; ls /run'])).to.include({
      code: 0,
      stdout: 'kept\nsshd\nsshd.pid\n',
    })
  })

  it('pauses a node: connections hang until it resumes', async () => {
    const node7 = sandbox.node('node7')
    await node7.pause()
    const hung = await ssh(sandbox, ['-o', 'ConnectTimeout=1', 'node7', 'true'])
    expect(hung.code).to.equal(255)
    expect(hung.stderr).to.include('timed out')
    await node7.resume()
    expect((await ssh(sandbox, ['node7', 'true'])).code).to.equal(0)
  })

  it('runs commands inside a node with exec(): as a user, with input, checked', async () => {
    const node8 = sandbox.node('node8')
    expect(await node8.exec(['id', '-un'], {user: 'sp-admin'})).to.include({code: 0, stdout: 'sp-admin\n'})
    expect(await node8.exec(['sh', '-c', 'echo $HOME'], {user: 'sp-pass'})).to.include({stdout: '/home/sp-pass\n'})
    expect(await node8.exec(['cat'], {input: 'hello'})).to.include({code: 0, stdout: 'hello'})
    expect(await node8.exec(['sh', '-c', 'exit 3'])).to.include({code: 3})
    let error: unknown
    await node8.exec(['sh', '-c', 'echo oops >&2; exit 3'], {check: true}).catch((error_: unknown) => {
      error = error_
    })
    expect(error).to.be.instanceOf(SandboxCommandError)
    expect(String(error)).to.include('exited with 3: oops')
  })

  it('has a passphrase-protected key, and an ssh-agent that holds a key', async () => {
    const publicKey = (await readFile(`${sandbox.encryptedIdentityFile}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ')
    const wrong = await run('ssh-keygen', ['-y', '-P', 'wrong', '-f', sandbox.encryptedIdentityFile])
    expect(wrong.code).to.not.equal(0)
    const right = await run('ssh-keygen', ['-y', '-P', sandbox.passphrase, '-f', sandbox.encryptedIdentityFile])
    expect(right.stdout.split(' ').slice(0, 2).join(' ')).to.equal(publicKey)

    const agent = await sandbox.startAgent({encrypted: true})
    expect(sandbox.env().SSH_AUTH_SOCK).to.equal(agent.socket)
    const listed = await run('ssh-add', ['-L'], {env: sandbox.env()})
    expect(listed.stdout).to.include(publicKey)
    // Only the agent can sign with this key: its file is encrypted and BatchMode never asks for a passphrase.
    const node9 = sandbox.node('node9')
    const viaAgent = await run(
      'ssh',
      [
        '-F',
        '/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        `IdentityFile=${sandbox.encryptedIdentityFile}`,
        '-o',
        `UserKnownHostsFile=${sandbox.knownHostsPath}`,
        `root@${node9.address}`,
        'hostname',
      ],
      {env: sandbox.env()},
    )
    expect(viaAgent).to.include({code: 0, stdout: 'node9\n'})
  })

  it('puts nodes behind a bastion with ProxyJump, next to another sandbox', async () => {
    const behind = await startSandbox({bastion: ['edge2'], nodes: ['edge1', 'edge2']})
    try {
      expect(behind.node('edge1').address.split('.')[2]).to.not.equal(sandbox.node('node1').address.split('.')[2])
      const config = await readFile(behind.sshConfigPath, 'utf8')
      expect(config).to.match(/Host edge2\n(?: {2}.*\n)* {2}ProxyJump bastion\n/)
      expect(config).to.not.match(/Host edge1\n(?: {2}.*\n)* {2}ProxyJump/)
      expect(await ssh(behind, ['edge2', 'hostname'])).to.include({code: 0, stdout: 'edge2\n'})
      await behind.bastion?.stop()
      expect((await ssh(behind, ['edge2', 'hostname'])).code).to.equal(255)
      expect((await ssh(behind, ['edge1', 'hostname'])).code).to.equal(0)
    } finally {
      await behind.stop()
    }
  })

  it('stop() leaves no process, mount or directory behind, even with sessions open', async () => {
    const short = await startSandbox({nodes: 3})
    const namespaces = short.nodes.map(node => mountNamespace(node.pid ?? 0) ?? 'none')
    const session = spawn('ssh', ['-F', short.sshConfigPath, 'node1', 'sleep 600'], {env: short.env(), stdio: 'ignore'})
    const sessionExit = new Promise(resolve => {
      session.once('exit', resolve)
    })
    await short.node('node2').exec(['sh', '-c', 'sleep 600 > /dev/null 2>&1 &'], {check: true})
    await waitFor(() => short.nodes.every((_, i) => pidsInMountNamespace(namespaces[i] ?? '').length > 0), 'nodes')
    await waitFor(() => pidsInMountNamespace(namespaces[0] ?? '').length >= 3, 'the ssh session')

    await short.stop()
    for (const namespace of namespaces) expect(pidsInMountNamespace(namespace), namespace).to.deep.equal([])
    expect(existsSync(short.dir)).to.equal(false)
    expect(hostMounts()).to.equal(mountsBefore)
    // The ssh client loses its connection and exits; then nothing mentions the sandbox any more.
    await sessionExit
    expect(processesOf(short.dir)).to.deep.equal([])
    expect((await ssh(sandbox, ['node1', 'true'])).code, 'the other sandbox').to.equal(0)
  })

  it('fails to start with the reason from the sshd log, and leaves nothing behind', async () => {
    let error: unknown
    await startSandbox({nodes: 2, sshdConfig: 'NoSuchOption yes'}).catch((error_: unknown) => {
      error = error_
    })
    const message = String(error)
    expect(message).to.match(/sandbox node node\d \(.*\) did not start \(exited\): .*Bad configuration option: NoSuchOption/)
    const dir = path.dirname(path.dirname(/\((\/.*?)\)/.exec(message)?.[1] ?? '/'))
    expect(dir.startsWith(`${SANDBOX_BASE}/`)).to.equal(true)
    expect(existsSync(dir)).to.equal(false)
    expect(processesOf(dir)).to.deep.equal([])
  })

  it('cleans up after a test process that is interrupted or killed', async () => {
    const [interrupted, killed] = await Promise.all([startCliSandbox(), startCliSandbox()])
    const interruptedPids = interrupted.nodes.map(node => node.pid)
    interrupted.child.kill('SIGINT')
    await new Promise(resolve => {
      interrupted.child.once('exit', resolve)
    })
    expect(existsSync(interrupted.dir)).to.equal(false)
    expect(interruptedPids.filter(pid => isRunning(pid))).to.deep.equal([])

    const killedPids = killed.nodes.map(node => node.pid)
    killed.child.kill('SIGKILL')
    // The nodes die with their owner (parent-death signal), even though it could not clean up...
    await waitFor(() => !killedPids.some(pid => isRunning(pid)), 'the nodes to die')
    expect(existsSync(killed.dir)).to.equal(true)
    // ...and the next sandbox (or cleanupStale) removes what it left.
    // (A sandbox started meanwhile by another test process may have done it already.)
    cleanupStale()
    expect(existsSync(killed.dir)).to.equal(false)
    expect(hostMounts()).to.equal(mountsBefore)
  })
})
