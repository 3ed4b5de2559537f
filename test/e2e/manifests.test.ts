// `staticpod add / ls / rm / disable / enable` end to end: the built CLI, run as a user would (HOME
// with ~/.ssh/config and known_hosts), against real sshd sandbox nodes. What is on the nodes is
// checked from inside them (not over SSH).
import {expect} from 'chai'
import {
  existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {sha256} from '../../src/ops/node-scripts.js'
import {FIXTURES, ROOT} from '../helpers/fixtures.js'
import {
  flat, nodeDir, type NodeDirEntry, nodeFile, type Run, staticpod, writeNodeFile,
} from '../helpers/sandbox-cli.js'
import {relayHostBlock, startRelay} from '../helpers/tcp-relay.js'
import {type Sandbox, type SandboxNode, startSandbox} from '../sandbox/index.js'

const MANIFESTS = path.join(FIXTURES, 'manifests-on-nodes')
const manifest = (name: string): string => path.join(MANIFESTS, name)
const text = (name: string): string => readFileSync(manifest(name), 'utf8')
const DEFAULT_DIR = '/etc/kubernetes/manifests'

/** The guide's node: Fedora's kubelet unit and environment files, --pod-manifest-path=/etc/kubelet.d/. */
async function fedoraNode(node: SandboxNode): Promise<void> {
  const fixture = path.join(FIXTURES, 'kubelet/fedora')
  await writeNodeFile(node, '/etc/kubernetes/config', readFileSync(path.join(fixture, 'etc/kubernetes/config'), 'utf8'))
  await writeNodeFile(node, '/etc/kubernetes/kubelet', readFileSync(path.join(fixture, 'etc/kubernetes/kubelet'), 'utf8'))
  // /usr is the host's in a sandbox node: the unit goes where systemd looks first, as an admin's copy would.
  await writeNodeFile(node, '/etc/systemd/system/kubelet.service', readFileSync(path.join(fixture, 'usr/lib/systemd/system/kubelet.service'), 'utf8'))
}

/** Everything staticpod may touch on a node: the manifest directory, the disabled and backup directories. */
async function snapshot(node: SandboxNode, dir = DEFAULT_DIR): Promise<Record<string, NodeDirEntry[]>> {
  const backups = await nodeDir(node, '/var/lib/staticpod/backups')
  const nested = await Promise.all(backups.map(async b => nodeDir(node, `/var/lib/staticpod/backups/${b.name}`)))
  return {
    backups: nested.flat(),
    dir: await nodeDir(node, dir),
    disabled: await nodeDir(node, '/var/lib/staticpod/disabled'),
  }
}

/** Progress lines (stderr) by node: `node1 changed`. */
function statuses(run: Run): string[] {
  return run.stderr.split('\n').map(line => /^\[\d+\/\d+] (\S+) (\w+) \(/.exec(line)).filter(m => m !== null).map(m => `${m[1]} ${m[2]}`).sort()
}

describe('e2e: manifests on nodes (add, ls, rm, disable, enable)', function () {
  this.timeout(180_000)
  let sandbox: Sandbox
  let env: Record<string, string>
  let work: string

  before(async () => {
    if (!existsSync(path.join(ROOT, 'dist/commands/add.js'))) throw new Error('build first: npm run build')
    sandbox = await startSandbox({nodes: ['my-node1', 'my-node2', ...Array.from({length: 10}, (_, i) => `node${i + 1}`)]})
    env = sandbox.env()
    work = mkdtempSync(path.join(tmpdir(), 'staticpod-e2e-manifests-'))
    await fedoraNode(sandbox.node('my-node1'))
  })

  after(async () => {
    await sandbox?.stop()
    if (work) rmSync(work, {force: true, recursive: true})
  })

  it('the static pod guide\'s walkthrough: add static-web to my-node1, ls shows it there only, disable and enable, rm, add again', async () => {
    const node = sandbox.node('my-node1')
    const web = text('static-web.yaml')
    const added = await staticpod(['add', 'my-node1', manifest('static-web.yaml')], env)
    expect(added.code, added.stderr).to.equal(0)
    expect(added.stdout).to.match(/^NODE +POD +PATH +RESULT +SHA +BACKUP\nmy-node1 +default\/static-web +\/etc\/kubelet\.d\/static-web\.yaml +created +[\da-f]{12} +-\n$/)
    expect(statuses(added)).to.deep.equal(['my-node1 changed'])
    // Exactly one file, the manifest, mode 0600, in a directory created 0700 like kubeadm's; no temp file left.
    expect(await nodeDir(node, '/etc/kubelet.d')).to.deep.equal([{
      mode: '600', name: 'static-web.yaml', sha256: sha256(web), size: web.length, type: 'regular file',
    }])
    expect((await node.exec(['stat', '-c', '%a', '/etc/kubelet.d'])).stdout.trim()).to.equal('700')

    const listed = await staticpod(['ls', 'my-node1,my-node2'], env)
    expect(listed.code, listed.stderr).to.equal(0)
    const rows = listed.stdout.trimEnd().split('\n')
    expect(rows[0]).to.match(/^NODE +NAME +NAMESPACE +FILE +AGE +SHA$/)
    expect(rows.slice(1)).to.have.length(1)
    expect(rows[1]).to.match(new RegExp(`^my-node1 +static-web +default +static-web\\.yaml +\\d+s +${sha256(web).slice(0, 12)}$`))
    expect(listed.stderr).to.include('warning my-node2: no kubelet configuration was found; assuming /etc/kubernetes/manifests')
    const json = JSON.parse((await staticpod(['ls', 'my-node1,my-node2', '--json'], env)).stdout) as Array<Record<string, unknown>>
    expect(json).to.have.length(1)
    expect(json[0]).to.deep.include({
      disabled: false, file: 'static-web.yaml', manifestDir: '/etc/kubelet.d/', name: 'static-web', namespace: 'default', node: 'my-node1', path: '/etc/kubelet.d/static-web.yaml', sha256: sha256(web), size: web.length, status: 'valid',
    })
    expect(Date.parse(json[0]!.modified as string)).to.be.closeTo(Date.now(), 120_000)

    // The guide's `mv /etc/kubelet.d/static-web.yaml /tmp` and back.
    const disabled = await staticpod(['disable', 'my-node1', 'static-web'], env)
    expect(disabled.code, disabled.stderr).to.equal(0)
    expect(disabled.stdout).to.match(/my-node1 +\/etc\/kubelet\.d\/static-web\.yaml +\/var\/lib\/staticpod\/disabled\/static-web\.yaml +disabled/)
    expect(await nodeDir(node, '/etc/kubelet.d')).to.deep.equal([])
    expect((await nodeDir(node, '/var/lib/staticpod/disabled')).map(e => [e.name, e.sha256])).to.deep.equal([['static-web.yaml', sha256(web)]])
    const whileDisabled = await staticpod(['ls', 'my-node1'], env)
    expect(whileDisabled.stdout).to.match(/my-node1 +static-web +default +static-web\.yaml \(disabled\) +\d+s/)
    expect(whileDisabled.stderr).to.include('warning my-node1: /var/lib/staticpod/disabled/static-web.yaml: disabled: the kubelet does not run it; `staticpod enable my-node1 static-web` brings it back')
    expect((await staticpod(['disable', 'my-node1', 'static-web'], env)).stdout).to.match(/my-node1 +- +- +already disabled/)

    const enabled = await staticpod(['enable', 'my-node1', 'static-web'], env)
    expect(enabled.code, enabled.stderr).to.equal(0)
    expect((await nodeDir(node, '/etc/kubelet.d')).map(e => [e.name, e.sha256])).to.deep.equal([['static-web.yaml', sha256(web)]])
    expect(await nodeDir(node, '/var/lib/staticpod/disabled')).to.deep.equal([])

    // rm needs --yes without a terminal; the pod is backed up outside the manifest directory first.
    const refused = await staticpod(['rm', 'my-node1', 'static-web'], env)
    expect(refused.code).to.equal(2)
    expect(flat(refused.stderr)).to.include('standard input is not a terminal, so rm cannot ask for confirmation')
    expect(await nodeFile(node, '/etc/kubelet.d/static-web.yaml')).to.equal(web)
    const removed = await staticpod(['rm', 'my-node1,my-node2', 'static-web', '--yes'], env)
    expect(removed.code, removed.stderr).to.equal(0)
    expect(removed.stdout).to.match(/my-node1 +static-web +\/etc\/kubelet\.d\/static-web\.yaml +removed +\/var\/lib\/staticpod\/backups\/\d{8}T\d{6}Z\/static-web\.yaml/)
    expect(removed.stdout).to.match(/my-node2 +static-web +- +absent +-/)
    expect(statuses(removed)).to.deep.equal(['my-node1 changed', 'my-node2 unchanged'])
    expect(await nodeDir(node, '/etc/kubelet.d')).to.deep.equal([])
    const backup = /(\/var\/lib\/staticpod\/backups\/\S+)/.exec(removed.stdout)![1]!
    expect(await nodeFile(node, backup)).to.equal(web)
    const empty = await staticpod(['ls', 'my-node1'], env)
    expect(empty.stdout).to.equal('')
    expect(empty.stderr).to.include('No static pods found.')

    // Again: created; again: unchanged (same sha256); a new version of the pod under another file name replaces it in place.
    expect((await staticpod(['add', 'my-node1', manifest('static-web.yaml')], env)).stdout).to.match(/ created /)
    const same = await staticpod(['add', 'my-node1', manifest('static-web.yaml')], env)
    expect(same.code).to.equal(0)
    expect(same.stdout).to.match(/ unchanged /)
    expect(statuses(same)).to.deep.equal(['my-node1 unchanged'])
    const v2 = await staticpod(['add', 'my-node1', manifest('static-web-v2.yaml')], env)
    expect(v2.code, v2.stderr).to.equal(0)
    expect(v2.stdout).to.match(/my-node1 +default\/static-web +\/etc\/kubelet\.d\/static-web\.yaml +replaced +[\da-f]{12} +\/var\/lib\/staticpod\/backups\/\S+\/static-web\.yaml/)
    expect(v2.stderr).to.include('warning my-node1: static-web-v2.yaml: pod default/static-web is already defined in static-web.yaml; replacing that file (keeping its name)')
    expect((await nodeDir(node, '/etc/kubelet.d')).map(e => [e.name, e.sha256])).to.deep.equal([['static-web.yaml', sha256(text('static-web-v2.yaml'))]])
  })

  it('adds to 10 nodes at once: every node changed, each with the file; a node that is down fails alone and is named', async () => {
    const nodes = Array.from({length: 10}, (_, i) => `node${i + 1}`)
    const run = await staticpod(['add', 'node*', manifest('static-web.yaml'), manifest('etcd-backup.yaml')], env)
    expect(run.code, run.stderr).to.equal(0)
    expect(statuses(run)).to.deep.equal(nodes.map(n => `${n} changed`).sort())
    expect(run.stdout.trimEnd().split('\n')).to.have.length(21)
    for (const node of nodes) {
      // eslint-disable-next-line no-await-in-loop
      const entries = await nodeDir(sandbox.node(node), DEFAULT_DIR)
      expect(entries.map(e => [e.name, e.mode, e.sha256]), node).to.deep.equal([
        ['etcd-backup.yaml', '600', sha256(text('etcd-backup.yaml'))],
        ['static-web.yaml', '600', sha256(text('static-web.yaml'))],
      ])
    }

    console.log(`      (add 2 manifests to 10 nodes: ${run.ms} ms wall time)`)
    const down = sandbox.node('node10')
    await down.stop()
    try {
      const again = await staticpod(['add', 'node*', manifest('static-web-v2.yaml')], env)
      expect(again.code).to.equal(1)
      expect(statuses(again)).to.deep.equal([...nodes.slice(0, 9).map(n => `${n} changed`), 'node10 unreachable'].sort())
      expect(again.stderr).to.include('1 of 10 nodes failed:')
      expect(again.stderr).to.include(`  node10: unreachable: connection refused by ${down.address}`)
    } finally {
      await down.start()
    }
  })

  it('--dry-run changes nothing: add shows a unified diff per node, rm, disable and enable show what they would do', async () => {
    const a = sandbox.node('node1')
    const b = sandbox.node('node2')
    await writeNodeFile(a, `${DEFAULT_DIR}/web.yaml`, text('static-web.yaml'), '0600')
    await writeNodeFile(a, '/var/lib/staticpod/disabled/parked.yaml', text('web.json'), '0600')
    await b.exec(['rm', '-rf', DEFAULT_DIR])
    const before = {a: await snapshot(a), b: await snapshot(b)}

    const add = await staticpod(['add', 'node1,node2', manifest('static-web-v2.yaml'), '--dry-run'], env)
    expect(add.code, add.stderr).to.equal(0)
    expect(add.stdout).to.include([
      `--- node1:${DEFAULT_DIR}/web.yaml`,
      `+++ node1:${DEFAULT_DIR}/web.yaml`,
      '@@ -1,3 +1,4 @@',
      '+# The guide\'s static-web, a newer image: the same pod (default/static-web) as static-web.yaml.',
    ].join('\n'))
    expect(add.stdout).to.include(['-      image: nginx', '+      image: nginx:1.27'].join('\n'))
    expect(add.stdout).to.include(['--- /dev/null', `+++ node2:${DEFAULT_DIR}/static-web-v2.yaml`].join('\n'))
    expect(add.stdout).to.match(/node1 +default\/static-web +\/etc\/kubernetes\/manifests\/web\.yaml +would be replaced/)
    expect(add.stdout).to.match(/node2 +default\/static-web +\/etc\/kubernetes\/manifests\/static-web-v2\.yaml +would be created/)

    const stdin = await staticpod(['add', 'node2', '-', '--dry-run'], env, {input: text('etcd-backup.yaml')})
    expect(stdin.code, stdin.stderr).to.equal(0)
    expect(stdin.stdout).to.include(['--- /dev/null', `+++ node2:${DEFAULT_DIR}/etcd-backup.yaml`].join('\n'))

    const rm = await staticpod(['rm', 'node1,node2', 'static-web', 'parked.yaml', '--dry-run'], env)
    expect(rm.code, rm.stderr).to.equal(0)
    expect(rm.stdout).to.match(/node1 +static-web +\/etc\/kubernetes\/manifests\/web\.yaml +would be removed/)
    expect(rm.stdout).to.match(/node1 +parked\.yaml +\/var\/lib\/staticpod\/disabled\/parked\.yaml \(disabled\) +would be removed/)
    expect(rm.stdout).to.match(/node2 +static-web +- +absent/)
    const disable = await staticpod(['disable', 'node1', 'static-web', '--dry-run'], env)
    expect(disable.stdout).to.match(/node1 +\/etc\/kubernetes\/manifests\/web\.yaml +\/var\/lib\/staticpod\/disabled\/web\.yaml +would be disabled/)
    const enable = await staticpod(['enable', 'node1', 'web/web-json', '--dry-run'], env)
    expect(enable.stdout).to.match(/node1 +\/var\/lib\/staticpod\/disabled\/parked\.yaml +\/etc\/kubernetes\/manifests\/parked\.yaml +would be enabled/)
    expect({a: await snapshot(a), b: await snapshot(b)}).to.deep.equal(before)
  })

  it('an invalid manifest is refused before any node is touched; bad names never reach a node', async () => {
    const node = sandbox.node('node3')
    const before = await snapshot(node)
    const run = await staticpod(['add', 'node3,node4', manifest('etcd-backup.yaml'), manifest('invalid-static-web.yaml')], env)
    expect(run.code).to.equal(1)
    expect(run.stderr).to.include(`${manifest('invalid-static-web.yaml')}:9:7: error schema/unknown-field: unknown field "imagePullPolcy" (did you mean "imagePullPolicy"?)`)
    expect(run.stderr).to.include('refused: a manifest is invalid; no node was touched')
    expect(statuses(run)).to.deep.equal([])
    expect(await snapshot(node)).to.deep.equal(before)
    const json = await staticpod(['add', 'node3', manifest('invalid-static-web.yaml'), '--json'], env)
    expect(json.code).to.equal(1)
    expect((JSON.parse(json.stdout) as {summary: {invalid: number}}).summary.invalid).to.equal(1)

    for (const pod of ['../../etc/passwd', 'x;touch /tmp/pwned', '$(id)', 'a\nb', '.hidden']) {
      // eslint-disable-next-line no-await-in-loop
      const bad = await staticpod(['rm', 'node3', pod, '--yes'], env)
      expect(bad.code, pod).to.equal(2)
      expect(flat(bad.stderr), pod).to.match(/invalid pod/)
      expect(statuses(bad)).to.deep.equal([])
    }

    expect(await snapshot(node)).to.deep.equal(before)
  })

  it('killing the SSH connection in the middle of an upload leaves no file the kubelet would load and the old manifest intact', async () => {
    const node = sandbox.node('node5')
    const old = text('static-web.yaml')
    await node.exec(['rm', '-rf', DEFAULT_DIR])
    await writeNodeFile(node, `${DEFAULT_DIR}/static-web.yaml`, old, '0600')
    // The same pod, 4 MiB of it: the upload takes many SSH window updates.
    const big = text('static-web-v2.yaml') + `# ${'x'.repeat(1000)}\n`.repeat(4 * 1024)
    writeFileSync(path.join(work, 'static-web.yaml'), big)

    // A TCP relay to the node that cuts both sides once 1 MiB went towards the node.
    const relay = await startRelay(node, {afterBytes: 1024 * 1024, mode: 'cut'})
    try {
      const knownHostsFile = path.join(work, 'known_hosts_cut')
      const {block, knownHosts} = relayHostBlock('cut-node5', relay, node, {identityFile: sandbox.identityFile, knownHostsFile})
      writeFileSync(knownHostsFile, knownHosts)
      const sshConfig = path.join(work, 'ssh_config_cut')
      writeFileSync(sshConfig, block)
      const run = await staticpod(['add', 'cut-node5', path.join(work, 'static-web.yaml'), '--ssh-config', sshConfig], env)
      expect(relay.faulted, 'the relay cut the connection').to.equal(true)
      expect(run.code, run.stderr).to.equal(1)
      expect(run.stderr).to.match(/cut-node5 failed/)
      expect(run.stderr).to.match(/1 of 1 node failed:\n {2}cut-node5: failed: connection to cut-node5 (?:closed by the node|lost: \w+)/)
      // The watchdog stops the script once its session is gone; its EXIT trap removes the temp file.
      let entries: NodeDirEntry[] = []
      for (let i = 0; i < 50; i++) {
        // eslint-disable-next-line no-await-in-loop
        entries = await nodeDir(node, DEFAULT_DIR)
        if (entries.length === 1) break
        // eslint-disable-next-line no-await-in-loop
        await new Promise(resolve => {
          setTimeout(resolve, 100)
        })
      }

      expect(entries.map(e => [e.name, e.sha256])).to.deep.equal([['static-web.yaml', sha256(old)]])
      // And the same upload through the node directly goes through.
      const direct = await staticpod(['add', 'node5', path.join(work, 'static-web.yaml')], env)
      expect(direct.code, direct.stderr).to.equal(0)
      expect((await nodeDir(node, DEFAULT_DIR)).map(e => [e.name, e.sha256])).to.deep.equal([['static-web.yaml', sha256(big)]])
    } finally {
      await relay.close()
    }
  })

  it('two concurrent adds of the same pod end with one complete file, whatever the file names', async () => {
    const node = sandbox.node('node6')
    mkdirSync(path.join(work, 'a'), {recursive: true})
    mkdirSync(path.join(work, 'b'), {recursive: true})
    const a = text('static-web.yaml')
    const b = text('static-web-v2.yaml')
    writeFileSync(path.join(work, 'a', 'static-web.yaml'), a)
    writeFileSync(path.join(work, 'b', 'web.yaml'), b)
    writeFileSync(path.join(work, 'b', 'static-web.yaml'), b)
    for (const other of ['web.yaml', 'static-web.yaml']) {
      for (let round = 0; round < 2; round++) {
        // eslint-disable-next-line no-await-in-loop
        await node.exec(['rm', '-rf', DEFAULT_DIR])
        // eslint-disable-next-line no-await-in-loop
        const runs = await Promise.all([
          staticpod(['add', 'node6', path.join(work, 'a', 'static-web.yaml')], env),
          staticpod(['add', 'node6', path.join(work, 'b', other)], env),
        ])
        for (const run of runs) expect(run.code, run.stderr).to.equal(0)
        // eslint-disable-next-line no-await-in-loop
        const entries = await nodeDir(node, DEFAULT_DIR)
        expect(entries, `${other} round ${round}`).to.have.length(1)
        expect([sha256(a), sha256(b)]).to.include(entries[0]!.sha256)
        expect(entries[0]!.mode).to.equal('600')
      }
    }
  })
})
