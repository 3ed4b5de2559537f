// Faults and hostile input end to end (docs/faults.md): the built CLI against real sshd sandbox
// nodes that fill up, turn read-only, refuse sudo, change their host key, go down, hang or get
// interrupted in the middle of a run. The promise: a clear error naming the node and the cause,
// exit 1, no partial or temp file the kubelet would load, the previous manifest intact, the other
// nodes done. What is on the nodes is checked from inside them (not over SSH).
import {expect} from 'chai'
import {
  existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {sha256} from '../../src/ops/node-scripts.js'
import {eventually} from '../helpers/eventually.js'
import {FIXTURES, ROOT} from '../helpers/fixtures.js'
import {
  flat, type Run, staticpod, writeNodeFile,
} from '../helpers/sandbox-cli.js'
import {relayHostBlock, startRelay, type TcpRelay} from '../helpers/tcp-relay.js'
import {type Sandbox, type SandboxNode, startSandbox} from '../sandbox/index.js'

const MANIFESTS = path.join(FIXTURES, 'manifests-on-nodes')
const DIR = '/etc/kubernetes/manifests'
/** What the nodes hold before a run: the guide's static-web. */
const OLD = readFileSync(path.join(MANIFESTS, 'static-web.yaml'), 'utf8')
/** The same pod (default/static-web), a newer image, padded with comment lines to `bytes`. */
const newer = (bytes: number): string => {
  const text = readFileSync(path.join(MANIFESTS, 'static-web-v2.yaml'), 'utf8')
  const line = `# ${'x'.repeat(1021)}\n`
  return text + line.repeat(Math.max(0, Math.ceil((bytes - text.length) / line.length)))
}

/** The apply script's temp file: a dot file in the manifest directory. */
const TEMP = /^\.staticpod-static-web\.yaml\.[\da-f]+\.tmp$/

/** Progress lines (stderr) by node: `node1 changed`. */
function statuses(run: Run): string[] {
  return run.stderr.split('\n').map(line => /^\[\d+\/\d+] (\S+) (\w+) \(/.exec(line)).filter(m => m !== null).map(m => `${m[1]} ${m[2]}`).sort()
}

/** Name and sha256 of every entry of a directory inside the node, dot files included, in byte order ([] if absent). */
async function contents(node: SandboxNode, dir = DIR): Promise<string[][]> {
  // NUL-separated: a name may hold a newline.
  const script = [
    '[ -d "$1" ] || exit 0',
    'cd "$1"',
    'for f in .* *; do',
    '  case $f in .|..) continue ;; esac',
    '  [ -e "$f" ] || continue',
    '  s=$(sha256sum < "$f" | cut -d " " -f 1)',
    String.raw`  printf '%s\0%s\0' "$f" "$s"`,
    'done',
  ].join('\n')
  const {stdout} = await node.exec(['sh', '-c', script, 'sh', dir], {check: true, env: {LC_ALL: 'C'}})
  const fields = stdout.split('\0')
  return Array.from({length: Math.floor(fields.length / 2)}, (_, i) => [fields[2 * i]!, fields[(2 * i) + 1]!])
}

/** The node's manifest directory holds exactly OLD (mode 0600). */
async function seed(node: SandboxNode): Promise<void> {
  await node.exec(['rm', '-rf', DIR])
  await writeNodeFile(node, `${DIR}/static-web.yaml`, OLD, '0600')
}

/** A pod manifest named `pod`. */
function podManifest(pod: string): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${pod}\nspec:\n  containers:\n  - name: main\n    image: nginx:1.27\n`
}

/** Is a process whose command line contains `marker` running on the node? */
async function running(node: SandboxNode, marker: string): Promise<boolean> {
  return (await node.exec(['pgrep', '-f', marker])).code === 0
}

describe('e2e: faults and hostile input', function () {
  this.timeout(120_000)
  let sandbox: Sandbox
  let env: Record<string, string>
  let work: string

  /** A local manifest file of `bytes` (same pod as OLD), named static-web.yaml. */
  function newerFile(name: string, bytes: number): {file: string; text: string} {
    const dir = path.join(work, name)
    mkdirSync(dir, {recursive: true})
    const text = newer(bytes)
    const file = path.join(dir, 'static-web.yaml')
    writeFileSync(file, text)
    return {file, text}
  }

  /** An ssh config: the sandbox's, plus `alias` reaching `node` through a relay that stalls after `afterBytes` towards it. */
  async function stalledAlias(alias: string, node: SandboxNode, afterBytes: number): Promise<{relay: TcpRelay; sshConfig: string}> {
    const relay = await startRelay(node, {afterBytes, mode: 'stall'})
    const knownHostsFile = path.join(work, `known_hosts_${alias}`)
    const {block, knownHosts} = relayHostBlock(alias, relay, node, {identityFile: sandbox.identityFile, knownHostsFile})
    writeFileSync(knownHostsFile, knownHosts)
    const sshConfig = path.join(work, `ssh_config_${alias}`)
    writeFileSync(sshConfig, `${readFileSync(sandbox.sshConfigPath, 'utf8')}\n${block}`)
    return {relay, sshConfig}
  }

  before(async () => {
    if (!existsSync(path.join(ROOT, 'dist/commands/add.js'))) throw new Error('build first: npm run build')
    sandbox = await startSandbox({nodes: 6})
    env = sandbox.env()
    work = mkdtempSync(path.join(tmpdir(), 'staticpod-e2e-faults-'))
  })

  after(async () => {
    await sandbox?.stop()
    if (work) rmSync(work, {force: true, recursive: true})
  })

  it('one add meets a full disk, a read-only directory, no sudo, sudo with a password, no permission, a changed host key, a node down: each fails alone with its cause; node1 is done', async () => {
    const [node1, node2, node3, node4, node5, node6] = sandbox.nodes as [SandboxNode, SandboxNode, SandboxNode, SandboxNode, SandboxNode, SandboxNode]
    await Promise.all([node1, node2, node3, node4, node5, node6].map(async node => seed(node)))
    // node2: a 16 KiB tmpfs over the manifest directory, inside the node's own mount namespace, holding OLD.
    await node2.exec(['sh', '-c', `mount -t tmpfs -o size=16k,mode=0700 tmpfs ${DIR} && printf '%s' "$1" > ${DIR}/static-web.yaml && chmod 0600 ${DIR}/static-web.yaml`, 'sh', OLD], {check: true})
    // node3: the manifest directory bound read-only onto itself.
    await node3.exec(['sh', '-c', `mount --bind ${DIR} ${DIR} && mount -o remount,ro,bind ${DIR}`], {check: true})
    // node4: a user that may not sudo at all (the sandbox's sp-admin may, sp-pass with a password).
    const plain = 'useradd -m -s /bin/sh sp-plain && usermod -p "*" sp-plain && install -d -o sp-plain -m 0700 /home/sp-plain/.ssh'
    await node4.exec(['sh', '-c', `${plain} && install -o sp-plain -m 0600 /root/.ssh/authorized_keys /home/sp-plain/.ssh/`], {check: true})
    const inventory = path.join(work, 'inventory.yaml')
    writeFileSync(inventory, [
      'nodes:',
      `  no-sudo: {host: ${node4.address}, user: sp-plain}`,
      `  sudo-password: {host: ${node4.address}, user: ${sandbox.users.passwordSudoer}}`,
      // A sudoer told not to use sudo: the scripts run as sp-admin and meet root's files.
      `  no-permission: {host: ${node4.address}, user: ${sandbox.users.sudoer}, sudo: false}`,
      '',
    ].join('\n'))
    const oldKey = node5.hostKeyFingerprint
    await node5.changeHostKey()
    await node6.stop()
    const {file, text} = newerFile('fault-mix', 64 * 1024)
    try {
      const run = await staticpod(['add', 'node1,node2,node3,no-sudo,sudo-password,no-permission,node5,node6', file, '--config', inventory], env)
      expect(run.code, run.stderr).to.equal(1)
      expect(statuses(run)).to.deep.equal([
        'no-permission failed', 'no-sudo failed', 'node1 changed', 'node2 failed', 'node3 failed', 'node5 unreachable', 'node6 unreachable', 'sudo-password failed',
      ])
      const summary = flat(run.stderr)
      expect(summary).to.include('7 of 8 nodes failed:')
      expect(summary).to.include(`  node2: failed: changing ${DIR} failed: cat: write error: No space left on device`)
      expect(summary).to.match(new RegExp(`  node3: failed: changing ${DIR} failed: .*cannot create ${DIR}/\\.staticpod-static-web\\.yaml\\.[\\da-f]+\\.tmp: Read-only file system`))
      expect(summary).to.include('  no-sudo: failed: sudo on no-sudo requires a password for sp-plain; configure NOPASSWD or connect as root')
      expect(summary).to.include('hint: Allow it in sudoers, e.g. `sp-plain ALL=(root) NOPASSWD: ALL`')
      expect(summary).to.include(`  sudo-password: failed: sudo on sudo-password requires a password for ${sandbox.users.passwordSudoer}; configure NOPASSWD or connect as root`)
      expect(summary).to.match(/ {2}no-permission: failed: changing \/etc\/kubernetes\/manifests failed: .*cannot create \/var\/lib\/staticpod\/lock: Permission denied/)
      expect(summary).to.match(/ {2}node5: unreachable: /)
      expect(summary).to.include(`The ED25519 host key of node5 (${node5.address}) has changed; refusing to connect.`)
      expect(summary).to.include(oldKey)
      expect(summary).to.include(`  node6: unreachable: connection refused by ${node6.address}`)

      expect(await contents(node1)).to.deep.equal([['static-web.yaml', sha256(text)]])
      // A manifest directory this user cannot read is an error, not an empty listing.
      await node4.exec(['chmod', '0700', DIR], {check: true})
      const ls = await staticpod(['ls', 'no-permission', '--config', inventory], env)
      await node4.exec(['chmod', '0755', DIR], {check: true})
      expect(ls.code, ls.stderr).to.equal(1)
      expect(flat(ls.stderr)).to.include(`no-permission: failed: reading the kubelet's files and the manifest directory failed: cannot list ${DIR}: permission denied (run as root or with sudo)`)
      for (const node of [node2, node3, node4, node5]) {
        // eslint-disable-next-line no-await-in-loop
        expect(await contents(node), node.name).to.deep.equal([['static-web.yaml', sha256(OLD)]])
      }
    } finally {
      await node2.exec(['umount', DIR])
      await node3.exec(['umount', DIR])
      await sandbox.writeKnownHosts()
      await node6.start()
    }

    expect(await contents(node6)).to.deep.equal([['static-web.yaml', sha256(OLD)]])
  })

  it('a node so slow that --timeout fires: it fails, named; its remote work is stopped on the node; the other node is done', async () => {
    const [node1, node2] = sandbox.nodes as [SandboxNode, SandboxNode]
    await Promise.all([seed(node1), seed(node2)])
    // The test holds staticpod's lock on node1: its apply script waits there, as on a node that hangs.
    const holder = await node1.exec(['sh', '-c', 'mkdir -p /var/lib/staticpod && { flock --no-fork /var/lib/staticpod/lock sleep 120 >/dev/null 2>&1 & echo $!; }'], {check: true})
    const {file, text} = newerFile('slow', 1024)
    try {
      const pending = staticpod(['add', 'node1,node2', file, '--timeout', '4s'], env)
      await eventually('the apply script waiting on node1', async () => {
        expect(await running(node1, 'staticpod-apply')).to.equal(true)
      })
      const run = await pending
      expect(run.code, run.stderr).to.equal(1)
      expect(statuses(run)).to.deep.equal(['node1 failed', 'node2 changed'])
      expect(flat(run.stderr)).to.include('  node1: failed: node1 did not finish within 4s; its remote commands were stopped')
      await eventually('the apply script gone from node1', async () => {
        expect(await running(node1, 'staticpod-apply')).to.equal(false)
      }, {timeoutMs: 10_000})
      expect(await contents(node1)).to.deep.equal([['static-web.yaml', sha256(OLD)]])
      expect(await contents(node2)).to.deep.equal([['static-web.yaml', sha256(text)]])
    } finally {
      await node1.exec(['kill', holder.stdout.trim()])
    }
  })

  it('a node that goes down in the middle of an upload fails alone, named; back up, it holds the old manifest, and the next run clears the temp file', async () => {
    const [node1, node2, node3] = sandbox.nodes as [SandboxNode, SandboxNode, SandboxNode]
    await Promise.all([seed(node1), seed(node2), seed(node3)])
    const {relay, sshConfig} = await stalledAlias('hanging-node3', node3, 256 * 1024)
    const {file, text} = newerFile('down', 1024 * 1024)
    try {
      const pending = staticpod(['add', 'node1,node2,hanging-node3', file, '--ssh-config', sshConfig], env)
      // The upload to node3 has begun (its temp file is there) and hangs: the node goes down now.
      await eventually('the upload to node3 under way', async () => {
        expect((await contents(node3)).some(([name]) => TEMP.test(name!))).to.equal(true)
      })
      await node3.stop()
      const run = await pending
      expect(relay.faulted).to.equal(true)
      expect(run.code, run.stderr).to.equal(1)
      expect(statuses(run)).to.deep.equal(['hanging-node3 failed', 'node1 changed', 'node2 changed'])
      expect(run.stderr).to.match(/1 of 3 nodes failed:\n {2}hanging-node3: failed: connection to hanging-node3 (?:closed by the node|lost: \w+)/)
      for (const node of [node1, node2]) {
        // eslint-disable-next-line no-await-in-loop
        expect(await contents(node), node.name).to.deep.equal([['static-web.yaml', sha256(text)]])
      }
    } finally {
      await relay.close()
      await node3.start()
    }

    // Killed with the node, the script left its temp file: a dot file, which the kubelet never loads.
    const after = await contents(node3)
    expect(after.filter(([name]) => !name!.startsWith('.'))).to.deep.equal([['static-web.yaml', sha256(OLD)]])
    const again = await staticpod(['add', 'node3', file], env)
    expect(again.code, again.stderr).to.equal(0)
    expect(await contents(node3)).to.deep.equal([['static-web.yaml', sha256(text)]])
  })

  it('Ctrl-C (SIGINT) during a multi-node add: exit 130 with a message; finished nodes stay finished, the interrupted one keeps its old manifest, its temp file is removed', async () => {
    const [node1, node2, node3] = sandbox.nodes as [SandboxNode, SandboxNode, SandboxNode]
    await Promise.all([seed(node1), seed(node2), seed(node3)])
    const {relay, sshConfig} = await stalledAlias('hanging-node3', node3, 256 * 1024)
    const {file, text} = newerFile('sigint', 1024 * 1024)
    let pid: number | undefined
    try {
      const pending = staticpod(['add', 'node1,node2,hanging-node3', file, '--ssh-config', sshConfig], env, {
        onSpawn(p) {
          pid = p
        },
      })
      await eventually('node1 and node2 done, node3 in the middle of its upload', async () => {
        expect(await contents(node1)).to.deep.equal([['static-web.yaml', sha256(text)]])
        expect(await contents(node2)).to.deep.equal([['static-web.yaml', sha256(text)]])
        expect((await contents(node3)).some(([name]) => TEMP.test(name!))).to.equal(true)
      })
      process.kill(pid!, 'SIGINT')
      const run = await pending
      expect(run.code, run.stderr).to.equal(130)
      expect(run.stderr).to.include('Interrupted: nodes reported as finished are done')
      expect(statuses(run)).to.deep.equal(['node1 changed', 'node2 changed'])
      // The connection is gone: the node's watchdog stops the script, whose EXIT trap removes the temp file.
      await eventually('node3 back to its old manifest alone', async () => {
        expect(await contents(node3)).to.deep.equal([['static-web.yaml', sha256(OLD)]])
        expect(await running(node3, 'staticpod-apply')).to.equal(false)
      }, {timeoutMs: 15_000})
      for (const node of [node1, node2]) {
        // eslint-disable-next-line no-await-in-loop
        expect(await contents(node), node.name).to.deep.equal([['static-web.yaml', sha256(text)]])
      }
    } finally {
      await relay.close()
    }
  })

  it('hostile pod and file names given to add, rm, disable and enable are refused (exit 2) before any node is contacted; nothing runs', async () => {
    const node = sandbox.node('node4')
    await seed(node)
    const log = statSync(node.logPath).size
    // Every kind: "/", "..", "$(…)", ";", quotes, a newline, unicode; each command gets some.
    const hostileFiles = ['$(touch pwned).yaml', 'q\'"x;touch pwned\nünïcödé.yaml']
    const files = hostileFiles.map((name, i) => {
      const dir = path.join(work, `hostile-${i}`)
      mkdirSync(dir, {recursive: true})
      writeFileSync(path.join(dir, name), OLD)
      return path.join(dir, name)
    })
    const pods: Array<[string, string]> = [
      ['rm', 'a/../../etc/passwd'],
      ['disable', '$(touch pwned)'],
      ['disable', 'x;touch pwned\nb'],
      ['enable', 'it\'s`id`ünï'],
    ]
    const runs = await Promise.all([
      ...files.map(async f => staticpod(['add', 'node4', f], env, {cwd: work})),
      ...pods.map(async ([command, pod]) => staticpod([command, 'node4', pod, ...(command === 'rm' ? ['--yes'] : [])], env, {cwd: work})),
    ])
    for (const [i, run] of runs.entries()) {
      const what = i < files.length ? `add ${JSON.stringify(hostileFiles[i])}` : `${pods[i - files.length]![0]} ${JSON.stringify(pods[i - files.length]![1])}`
      expect(run.code, `${what}: ${run.stderr}`).to.equal(2)
      expect(flat(run.stderr), what).to.match(i < files.length ? /^Error: cannot install .*: its name /s : /^Error: invalid pod/)
      expect(statuses(run), what).to.deep.equal([])
    }

    expect(statSync(node.logPath).size, 'no connection reached node4').to.equal(log)
    expect(existsSync(path.join(work, 'pwned'))).to.equal(false)
    expect((await node.exec(['sh', '-c', 'ls / /root /tmp | grep -c pwned'])).stdout.trim()).to.equal('0')
    expect(await contents(node)).to.deep.equal([['static-web.yaml', sha256(OLD)]])
  })

  it('hostile file names already on a node (;, $(…), quotes, a newline, unicode) are listed, removed and disabled exactly; nothing runs', async () => {
    const node = sandbox.node('node5')
    await node.exec(['rm', '-rf', DIR, '/var/lib/staticpod'])
    const names: Record<string, string> = {
      'pod-nl': 'new\nline.yaml', 'pod-quote': 'q\'"x.yaml', 'pod-semi': 'a;touch pwned.yaml', 'pod-subst': '$(touch pwned).yaml', 'pod-uni': 'ünïcödé.yaml',
    }
    // One exec for all: pairs of arguments NAME CONTENT.
    const write = 'mkdir -p -m 0700 "$0" && cd "$0" && while [ $# -gt 0 ]; do printf %s "$2" > "$1" && chmod 0600 "$1" && shift 2; done'
    await node.exec(['sh', '-c', write, DIR, ...Object.entries(names).flatMap(([pod, name]) => [name, podManifest(pod)])], {check: true})

    const listed = await staticpod(['ls', 'node5', '--json'], env, {cwd: work})
    expect(listed.code, listed.stderr).to.equal(0)
    const rows = JSON.parse(listed.stdout) as Array<{file: string; name: string}>
    expect(rows.map(r => [r.name, r.file]).sort()).to.deep.equal(Object.entries(names).sort())

    const removed = await staticpod(['rm', 'node5', 'pod-semi', 'pod-subst', 'pod-quote', '--yes'], env, {cwd: work})
    expect(removed.code, removed.stderr).to.equal(0)
    const disabled = await staticpod(['disable', 'node5', 'pod-nl'], env, {cwd: work})
    expect(disabled.code, disabled.stderr).to.equal(0)
    expect((await contents(node)).map(([name]) => name)).to.deep.equal([names['pod-uni']])
    expect(await contents(node, '/var/lib/staticpod/disabled')).to.deep.equal([[names['pod-nl'], sha256(podManifest('pod-nl'))]])
    const backups = await node.exec(['sh', '-c', String.raw`cd /var/lib/staticpod/backups/* && for f in *; do printf "%s\0" "$f"; done`])
    expect(backups.stdout.split('\0').filter(Boolean).sort()).to.deep.equal([names['pod-quote'], names['pod-semi'], names['pod-subst']].sort())
    expect(existsSync(path.join(work, 'pwned'))).to.equal(false)
    expect((await node.exec(['sh', '-c', `ls / /root /tmp ${DIR} | grep -c '^pwned$'`])).stdout.trim()).to.equal('0')
  })

  it('add refuses an alias bomb, an 11 MiB manifest, a binary file and a hostile pod name before any node is touched (exit 1)', async () => {
    const node = sandbox.node('node6')
    await seed(node)
    const log = statSync(node.logPath).size
    const binary = path.join(work, 'binary.yaml')
    writeFileSync(binary, Buffer.from([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 0, 0, 0xFF, 0xFE]))
    const huge = path.join(work, 'huge.yaml')
    writeFileSync(huge, OLD + `# ${'x'.repeat(1021)}\n`.repeat(11 * 1024))
    const bomb = path.join(FIXTURES, 'manifests/invalid-alias-bomb.yaml')
    // And from standard input, a pod whose name would run a command if it ever reached a shell unquoted.
    const hostile = OLD.replace('name: static-web', 'name: "$(touch pwned)"')
    const run = await staticpod(['add', 'node6', binary, huge, bomb, '-'], env, {cwd: work, input: hostile, timeoutMs: 30_000})
    expect(run.code, run.stderr).to.equal(1)
    for (const [file, rule] of [[binary, 'file/binary'], [huge, 'file/too-large'], [bomb, 'yaml/alias-limit'], ['<stdin>', 'api/name']]) {
      expect(run.stderr.split('\n').some(line => line.startsWith(`${file}:`) && line.includes(` error ${rule}`)), `${file} ${rule}\n${run.stderr}`).to.equal(true)
    }

    expect(run.stderr).to.include('refused: manifests are invalid; no node was touched')
    expect(statuses(run)).to.deep.equal([])
    expect(statSync(node.logPath).size, 'no connection reached node6').to.equal(log)
    expect(await contents(node)).to.deep.equal([['static-web.yaml', sha256(OLD)]])
  })
})
