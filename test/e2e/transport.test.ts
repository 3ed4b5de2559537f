// The SSH transport end to end, against real sshd sandbox nodes: authentication, host keys, jump
// hosts through the built CLI as a user would meet them; sudo, stdin, channel limits and stopping
// remote work through the transport API that the commands use.
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {
  existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {resolveNodes} from '../../src/nodes/resolve.js'
import {NodeTimeoutError, SudoPasswordError} from '../../src/transport/errors.js'
import {fingerprint} from '../../src/transport/known-hosts.js'
import {type ConnectedNode, runOnNodes} from '../../src/transport/run-on-nodes.js'
import {ROOT} from '../helpers/fixtures.js'
import {staticpod} from '../helpers/sandbox-cli.js'
import {type Sandbox, type SandboxNode, startSandbox} from '../sandbox/index.js'

async function sleep(ms: number): Promise<void> {
  await new Promise(resolve => {
    setTimeout(resolve, ms)
  })
}

/** Is a process whose command line contains `marker` running on the node? */
async function runningOn(node: SandboxNode, marker: string): Promise<boolean> {
  const result = await node.exec(['pgrep', '-f', marker])
  return result.code === 0
}

async function goneWithin(node: SandboxNode, marker: string, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 250) {
    // eslint-disable-next-line no-await-in-loop
    if (!(await runningOn(node, marker))) return true
    // eslint-disable-next-line no-await-in-loop
    await sleep(250)
  }

  return false
}

describe('e2e: SSH transport', function () {
  this.timeout(180_000)
  let sandbox: Sandbox
  let work: string

  /** The sandbox's ssh config with `edit` applied to the block of each named host. */
  function sshConfig(name: string, edit: (block: string, host: string) => string): string {
    const text = readFileSync(sandbox.sshConfigPath, 'utf8')
    const edited = text.replaceAll(/^Host (\S+)\n(?:[ \t]+.*\n?)*/gm, (block, host: string) => edit(block, host))
    const file = path.join(work, name)
    writeFileSync(file, edited)
    return file
  }

  before(async () => {
    if (!existsSync(path.join(ROOT, 'dist/commands/nodes.js'))) throw new Error('build first: npm run build')
    sandbox = await startSandbox({bastion: ['node4'], nodes: 5})
    work = mkdtempSync(path.join(tmpdir(), 'staticpod-e2e-transport-'))
  })

  after(async () => {
    await sandbox?.stop()
    if (work) rmSync(work, {force: true, recursive: true})
  })

  afterEach(async () => sandbox.writeKnownHosts())

  describe('authentication', () => {
    it('uses the IdentityFile of the ssh config when there is no agent', async () => {
      const env = sandbox.env()
      expect(env.SSH_AUTH_SOCK).to.equal(undefined)
      const run = await staticpod(['nodes', 'node1,node4'], env)
      expect(run.code, run.stderr).to.equal(0)
      expect(run.stdout).to.match(/^node4 .* bastion +reachable +node4 /m)
    })

    it('says which key needs a passphrase and how to add it, when no agent holds it', async () => {
      const config = sshConfig('encrypted', block => block.replace(sandbox.identityFile, sandbox.encryptedIdentityFile))
      const run = await staticpod(['nodes', 'node1', '--ssh-config', config], sandbox.env())
      expect(run.code).to.equal(1)
      expect(run.stderr).to.include('node1: unreachable: root@')
      expect(run.stderr).to.include('the key ~/.ssh/id_ed25519_encrypted needs a passphrase, and no ssh-agent holds it')
      expect(run.stderr).to.include('hint: Add the key to your agent: ssh-add ~/.ssh/id_ed25519_encrypted')
    })

    it('authenticates with the ssh-agent (SSH_AUTH_SOCK) holding that key', async () => {
      await sandbox.startAgent({encrypted: true})
      const config = sshConfig('encrypted', block => block.replace(sandbox.identityFile, sandbox.encryptedIdentityFile))
      const run = await staticpod(['nodes', 'node1,node2,node4', '--ssh-config', config], sandbox.env())
      expect(run.code, run.stderr).to.equal(0)
      expect(run.stdout.match(/reachable/g)).to.have.length(3)
    })

    it('IdentitiesOnly: offers only those of the agent\'s keys that are IdentityFiles', async () => {
      await sandbox.startAgent({encrypted: true})
      const stranger = path.join(work, 'stranger')
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'not authorised anywhere', '-f', stranger])
      const only = (file: string): string =>
        sshConfig(`only-${path.basename(file)}`, block => `${block.replace(sandbox.identityFile, file).trimEnd()}\n  IdentitiesOnly yes\n\n`)
      const inAgent = await staticpod(['nodes', 'node1', '--ssh-config', only(sandbox.encryptedIdentityFile)], sandbox.env())
      expect(inAgent.code, inAgent.stderr).to.equal(0)
      // The agent's (authorised) key is not the IdentityFile: it must not be offered.
      const notInAgent = await staticpod(['nodes', 'node1', '--ssh-config', only(stranger)], sandbox.env())
      expect(notInAgent.code).to.equal(1)
      expect(notInAgent.stderr).to.include(`refused the keys offered (tried ssh-agent (${sandbox.agent!.socket}), ${stranger})`)
    })
  })

  describe('jump hosts', () => {
    it('goes through two hops (ProxyJump bastion,node1), checking each hop\'s key', async () => {
      const node2 = sandbox.node('node2')
      const base = readFileSync(sandbox.sshConfigPath, 'utf8')
      const config = path.join(work, 'two-hops')
      writeFileSync(config, `${base}\nHost two-hops\n  HostName ${node2.address}\n  ProxyJump bastion,node1\n  User root\n  IdentityFile ${sandbox.identityFile}\n  UserKnownHostsFile ${sandbox.knownHostsPath}\n  StrictHostKeyChecking yes\n`)
      const run = await staticpod(['nodes', 'two-hops', '--ssh-config', config, '--json'], sandbox.env())
      expect(run.code, run.stderr).to.equal(0)
      expect(JSON.parse(run.stdout)[0]).to.include({
        address: node2.address, hostname: 'node2', reachable: true, via: 'bastion > node1',
      })
      // the middle hop's key is checked against the middle hop's own name
      await sandbox.writeKnownHosts([...sandbox.nodes.filter(node => node.name !== 'node1'), sandbox.bastion!])
      const refused = await staticpod(['nodes', 'two-hops', '--ssh-config', config, '--json'], sandbox.env())
      expect(refused.code).to.equal(1)
      expect(JSON.parse(refused.stdout)[0].error).to.include(`cannot reach two-hops through jump host node1: the host key of node1 (${sandbox.node('node1').address}) is not known`)
    })
  })

  describe('host keys', () => {
    it('refuses an unknown host key, with its fingerprint and the line to add', async () => {
      const node2 = sandbox.node('node2')
      await sandbox.writeKnownHosts(sandbox.nodes.filter(node => node.name !== 'node2'))
      const run = await staticpod(['nodes', 'node1,node2'], sandbox.env())
      expect(run.code).to.equal(1)
      expect(run.stdout).to.match(/^node1 .* reachable/m)
      expect(run.stderr).to.include(`node2: unreachable: the host key of node2 (${node2.address}) is not known: ED25519 key ${node2.hostKeyFingerprint}; StrictHostKeyChecking is yes`)
      const keyPart = node2.knownHostsLine.split(' ').slice(-2).join(' ')
      expect(run.stderr).to.include(`${node2.address} ${keyPart}`)
    })

    it('records it under accept-new, as OpenSSH reads it, and knows it next time', async () => {
      const node2 = sandbox.node('node2')
      await sandbox.writeKnownHosts(sandbox.nodes.filter(node => node.name !== 'node2'))
      const acceptNew = sshConfig('accept-new', block => block.replace('StrictHostKeyChecking yes', 'StrictHostKeyChecking accept-new'))
      const first = await staticpod(['nodes', 'node2', '--ssh-config', acceptNew], sandbox.env())
      expect(first.code, first.stderr).to.equal(0)
      expect(first.stderr).to.match(new RegExp(`warning node2: node2 \\(${node2.address.replaceAll('.', String.raw`\.`)}\\): new ED25519 host key ${node2.hostKeyFingerprint.replaceAll('+', String.raw`\+`)} recorded in ${sandbox.knownHostsPath}:\\d+ \\(StrictHostKeyChecking accept-new\\)`))
      // OpenSSH finds the recorded key and connects with StrictHostKeyChecking yes
      expect(execFileSync('ssh-keygen', ['-F', node2.address, '-f', sandbox.knownHostsPath], {encoding: 'utf8'})).to.include(node2.knownHostsLine.split(' ').at(-1))
      const ssh = execFileSync('ssh', ['-F', sandbox.sshConfigPath, '-o', 'BatchMode=yes', 'node2', 'uname', '-n'], {encoding: 'utf8'})
      expect(ssh.trim()).to.equal('node2')
      const second = await staticpod(['nodes', 'node2', '--ssh-config', acceptNew], sandbox.env())
      expect(second.code).to.equal(0)
      expect(second.stderr).not.to.include('recorded')
    })

    it('refuses a changed host key loudly, even under accept-new, naming both keys and the old line', async () => {
      const node3 = sandbox.node('node3')
      const old = node3.hostKeyFingerprint
      const lineOfOld = readFileSync(sandbox.knownHostsPath, 'utf8').split('\n').findIndex(line => line.startsWith(`${node3.address} `)) + 1
      await node3.changeHostKey()
      try {
        expect(node3.hostKeyFingerprint).not.to.equal(old)
        const acceptNew = sshConfig('accept-new-changed', block => block.replace('StrictHostKeyChecking yes', 'StrictHostKeyChecking accept-new'))
        const run = await staticpod(['nodes', 'node3,node1', '--ssh-config', acceptNew], sandbox.env())
        expect(run.code).to.equal(1)
        expect(run.stdout).to.match(/^node1 .* reachable/m)
        expect(run.stderr).to.include('@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @')
        expect(run.stderr).to.include(`The ED25519 host key of node3 (${node3.address}) has changed; refusing to connect.`)
        expect(run.stderr).to.include(`${old} (${sandbox.knownHostsPath}:${lineOfOld})`)
        expect(run.stderr).to.include(node3.hostKeyFingerprint)
        expect(run.stderr).to.include(`ssh-keygen -f ${sandbox.knownHostsPath} -R '${node3.address}'`)
        // nothing was written
        expect(readFileSync(sandbox.knownHostsPath, 'utf8')).not.to.include(node3.knownHostsLine.split(' ').at(-1))
      } finally {
        await sandbox.writeKnownHosts()
      }
    })

    it('checks the jump host against its own name: an unknown bastion key stops the nodes behind it', async () => {
      const bastion = sandbox.bastion!
      await sandbox.writeKnownHosts(sandbox.nodes)
      const run = await staticpod(['nodes', 'node4,node5', '--json'], sandbox.env())
      expect(run.code).to.equal(1)
      const [node4, node5] = JSON.parse(run.stdout) as Array<{error?: string; reachable: boolean; via: null | string}>
      expect(node5!.reachable).to.equal(true)
      expect(node4).to.include({reachable: false, via: 'bastion'})
      expect(node4!.error).to.include(`cannot reach node4 through jump host bastion: the host key of bastion (${bastion.address}) is not known`)
      expect(node4!.error).to.include(bastion.hostKeyFingerprint)
    })
  })

  describe('running commands (transport API)', () => {
    let inventory: string

    before(() => {
      const node1 = sandbox.node('node1')
      inventory = path.join(work, 'inventory.yaml')
      writeFileSync(
        inventory,
        [
          'nodes:',
          `  as-root: {host: ${node1.address}, user: root}`,
          `  as-admin: {host: ${node1.address}, user: ${sandbox.users.sudoer}}`,
          `  as-pass: {host: ${node1.address}, user: ${sandbox.users.passwordSudoer}}`,
          `  behind-bastion: {host: ${sandbox.node('node4').address}}`,
          '',
        ].join('\n'),
      )
    })

    async function targets(spec: string) {
      const env = sandbox.env()
      const resolved = await resolveNodes({
        configPath: inventory, env, home: sandbox.home, spec, sshConfigPath: sandbox.sshConfigPath,
      })
      return resolved.targets
    }

    async function onNode<T>(spec: string, job: (node: ConnectedNode) => Promise<T>, timeoutMs?: number) {
      const [outcome] = await runOnNodes(await targets(spec), job, {timeoutMs})
      return outcome!
    }

    it('runs as root through sudo -n for a sudoer, directly for root', async () => {
      const admin = await onNode('as-admin', async node => ({
        root: (await node.run(['id', '-un'], {root: true})).stdout.trim(),
        user: (await node.run(['id', '-un'])).stdout.trim(),
      }))
      expect(admin.status, admin.error).to.equal('ok')
      expect(admin.result).to.deep.equal({root: 'root', user: sandbox.users.sudoer})
      const root = await onNode('as-root', async node => ({sudo: node.target.sudo, user: (await node.run(['id', '-un'], {root: true})).stdout.trim()}))
      expect(root.result).to.deep.equal({sudo: false, user: 'root'})
    })

    it('fails clearly when sudo wants a password', async () => {
      let thrown: unknown
      const outcome = await onNode('as-pass', async node => {
        expect((await node.run(['id', '-un'])).stdout.trim()).to.equal(sandbox.users.passwordSudoer)
        try {
          return await node.run(['id', '-un'], {root: true})
        } catch (error) {
          thrown = error
          throw error
        }
      })
      expect(thrown).to.be.instanceOf(SudoPasswordError)
      expect(outcome.status).to.equal('failed')
      expect(outcome.errorKind).to.equal('sudo')
      expect(outcome.error).to.equal(`sudo on as-pass requires a password for ${sandbox.users.passwordSudoer}; configure NOPASSWD or connect as root`)
    })

    it('passes stdin, stdout, stderr and exit status through intact (1 MiB, unicode, hostile arguments)', async () => {
      const big = `${'staticpod ✓ 名前 '.repeat(70_000)}\n`
      const outcome = await onNode('behind-bastion', async node => {
        const echo = await node.run(['sh', '-c', 'printf "%s|" "$@"; echo err >&2; exit 3', 'sh', '$(touch /tmp/pwned)', "a'b", '; rm -rf /', ''])
        const cat = await node.run(['sha256sum'], {stdin: big})
        const pwned = await node.run(['test', '-e', '/tmp/pwned'])
        return {cat: cat.stdout.split(' ')[0], echo, pwned: pwned.code}
      })
      expect(outcome.status, outcome.error).to.equal('ok')
      const {cat, echo, pwned} = outcome.result!
      expect(echo).to.deep.include({code: 3, stderr: 'err\n', stdout: "$(touch /tmp/pwned)|a'b|; rm -rf /||"})
      expect(pwned).to.equal(1)
      const expected = execFileSync('sha256sum', {input: big}).toString().split(' ')[0]
      expect(cat).to.equal(expected)
    })

    it('keeps 30 concurrent commands on one connection under sshd MaxSessions', async () => {
      const outcome = await onNode('as-root', async node =>
        Promise.all(Array.from({length: 30}, async (_, i) => (await node.run(['sh', '-c', `sleep 0.2; echo ${i}`])).stdout.trim())))
      expect(outcome.status, outcome.error).to.equal('ok')
      expect(outcome.result).to.deep.equal(Array.from({length: 30}, (_, i) => String(i)))
    })

    it('a command timeout stops the remote command (as root through sudo too)', async () => {
      const node1 = sandbox.node('node1')
      for (const [spec, marker] of [['as-root', 'sleep 300.25'], ['as-admin', 'sleep 300.75']] as const) {
        let thrown: unknown
        // eslint-disable-next-line no-await-in-loop
        const outcome = await onNode(spec, async node => {
          try {
            await node.run(['sh', '-c', marker], {root: true, timeoutMs: 1500})
          } catch (error) {
            thrown = error
          }

          return (await node.run(['echo', 'still usable'])).stdout
        })
        expect(thrown, spec).to.be.instanceOf(NodeTimeoutError)
        expect(outcome.result).to.equal('still usable\n')
        // eslint-disable-next-line no-await-in-loop
        expect(await goneWithin(node1, marker, 6000), `${spec}: ${marker} is gone`).to.equal(true)
      }
    })

    it('a node timeout closes the connection, and that stops the remote command', async () => {
      const node1 = sandbox.node('node1')
      const marker = 'sleep 301.5'
      const started = Date.now()
      const outcome = await onNode('as-admin', async node => node.run(['sh', '-c', `${marker}; echo done`], {root: true}), 1500)
      expect(Date.now() - started).to.be.lessThan(5000)
      expect(outcome.status).to.equal('failed')
      expect(outcome.errorKind).to.equal('timeout')
      expect(outcome.error).to.include('as-admin did not finish within 1.5s')
      expect(await goneWithin(node1, marker, 6000), `${marker} is gone`).to.equal(true)
    })

    it('reports the fingerprint ssh-keygen computes for the node', async () => {
      const node1 = sandbox.node('node1')
      const line = node1.knownHostsLine.split(' ')
      expect(fingerprint(Buffer.from(line.at(-1)!, 'base64'))).to.equal(node1.hostKeyFingerprint)
    })
  })
})
