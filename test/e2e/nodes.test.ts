// `staticpod nodes` end to end: the built CLI, run as a user would (HOME with ~/.ssh/config, an
// ssh-agent), against real sshd sandbox nodes.
import {expect} from 'chai'
import {
  existsSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {ROOT} from '../helpers/fixtures.js'
import {flat, staticpod} from '../helpers/sandbox-cli.js'
import {type Sandbox, startSandbox} from '../sandbox/index.js'

interface JsonNode {
  address: string
  error?: string
  hostname?: string
  name: string
  port: number
  reachable: boolean
  rttMs?: number
  source: string
  status: string
  user: string
  via: null | string
}

describe('e2e: staticpod nodes', function () {
  this.timeout(180_000)
  let sandbox: Sandbox
  let env: Record<string, string>
  let work: string

  before(async () => {
    if (!existsSync(path.join(ROOT, 'dist/commands/nodes.js'))) throw new Error('build first: npm run build')
    sandbox = await startSandbox({bastion: ['node2'], nodes: 12})
    await sandbox.startAgent()
    env = sandbox.env()
    work = mkdtempSync(path.join(tmpdir(), 'staticpod-e2e-nodes-'))
  })

  after(async () => {
    await sandbox?.stop()
    if (work) rmSync(work, {force: true, recursive: true})
  })

  it('lists 12 nodes and a bastion from ~/.ssh/config, reaches each (one through the bastion) and exits 0', async () => {
    const run = await staticpod(['nodes'], env)
    expect(run.code, run.stderr).to.equal(0)
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines[0]).to.match(/^NODE +ADDRESS +PORT +USER +VIA +STATUS +HOSTNAME +RTT$/)
    expect(lines).to.have.length(14)
    for (const node of [...sandbox.nodes, sandbox.bastion!]) {
      const line = lines.find(candidate => candidate.startsWith(`${node.name} `))
      expect(line, node.name).to.match(new RegExp(`^${node.name} +${node.address.replaceAll('.', String.raw`\.`)} +22 +root +(-|bastion) +reachable +${node.hostname} +[\\d.]+ms$`))
    }

    expect(lines.find(line => line.startsWith('node2 '))).to.match(/ bastion +reachable/)
    // not a terminal: one progress line per node on stderr, nothing else there
    const progress = run.stderr.trimEnd().split('\n')
    expect(progress).to.have.length(13)
    for (const line of progress) expect(line).to.match(/^\[\d+\/13] \S+ ok \(\d+\.\d\ds\)$/)
    console.log(`      (13 nodes: ${run.ms} ms wall time)`)
  })

  it('--json prints one JSON array on stdout and nothing else', async () => {
    const run = await staticpod(['nodes', 'node2,node1', '--json'], env)
    expect(run.code, run.stderr).to.equal(0)
    const nodes = JSON.parse(run.stdout) as JsonNode[]
    expect(nodes.map(node => [node.name, node.address, node.port, node.user, node.via, node.reachable, node.hostname, node.source])).to.deep.equal([
      ['node2', sandbox.node('node2').address, 22, 'root', 'bastion', true, 'node2', 'ssh-config'],
      ['node1', sandbox.node('node1').address, 22, 'root', null, true, 'node1', 'ssh-config'],
    ])
    expect(nodes[0]!.rttMs).to.be.a('number')
  })

  it('a node that is down: the others still answer, exit 1, the summary names it and why', async () => {
    const down = sandbox.node('node7')
    await down.stop()
    try {
      const run = await staticpod(['nodes', 'node*', '--json'], env)
      expect(run.code).to.equal(1)
      const nodes = JSON.parse(run.stdout) as JsonNode[]
      expect(nodes).to.have.length(12)
      expect(nodes.filter(node => node.reachable).map(node => node.name)).to.have.length(11)
      const node7 = nodes.find(node => node.name === 'node7')!
      expect(node7).to.include({reachable: false, status: 'unreachable'})
      expect(node7.error).to.equal(`connection refused by ${down.address}`)
      expect(run.stderr).to.include('1 of 12 nodes failed:')
      expect(run.stderr).to.include(`  node7: unreachable: connection refused by ${down.address}`)
      expect(run.stderr).to.match(/hint: Is sshd running on node7/)
    } finally {
      await down.start()
    }
  })

  it('a node that never greets times out after --connect-timeout, alone', async () => {
    const stuck = sandbox.node('node8')
    await stuck.pause()
    try {
      const run = await staticpod(['nodes', 'node8,node9', '--connect-timeout', '2s'], env)
      expect(run.code).to.equal(1)
      expect(run.stderr).to.include(`node8: unreachable: timed out after 2s connecting to ${stuck.address}`)
      expect(run.stdout).to.match(/^node9 .* reachable/m)
      expect(run.ms).to.be.lessThan(15_000)
    } finally {
      await stuck.resume()
    }
  })

  it('unknown names, groups and globs are usage errors (exit 2) with a did-you-mean; nothing is contacted', async () => {
    const typo = await staticpod(['nodes', 'node1,nod3'], env)
    expect(typo.code).to.equal(2)
    expect(flat(typo.stderr)).to.match(/unknown node or group "nod3" \(did you mean "node\d"\?\)/)
    expect(typo.stdout).to.equal('')
    const glob = await staticpod(['nodes', 'wrker*'], env)
    expect(glob.code).to.equal(2)
    expect(flat(glob.stderr)).to.include('no known node matches "wrker*"')
    const empty = await staticpod(['nodes', 'node1,'], env)
    expect(empty.code).to.equal(2)
  })

  it('an unknown name still works when ssh NAME would: a plain address', async () => {
    const node = sandbox.node('node4')
    // Not in ~/.ssh/config by that name: known_hosts has it by address, ssh's defaults apply (user = local user, root).
    const run = await staticpod(['nodes', node.address, '--json'], env)
    expect(run.code, run.stderr).to.equal(0)
    const [info] = JSON.parse(run.stdout) as JsonNode[]
    expect(info).to.include({
      address: node.address, hostname: 'node4', reachable: true, source: 'hostname',
    })
  })

  describe('with an inventory', () => {
    it('uses its nodes, groups and defaults over the ssh config (found as ./staticpod.yaml)', async () => {
      const [n1, n2, n3] = sandbox.nodes
      writeFileSync(
        path.join(work, 'staticpod.yaml'),
        [
          'defaults:',
          '  user: sp-admin',
          'nodes:',
          `  cp-a: {host: ${n1!.address}}`,
          `  cp-b: {host: ${n2!.address}, user: root}`,
          `  worker-a: {host: ${n3!.address}}`,
          'groups:',
          '  control-plane: [cp-a, cp-b]',
          '',
        ].join('\n'),
      )
      const run = await staticpod(['nodes', 'control-plane', '--json'], env, {cwd: work})
      expect(run.code, run.stderr).to.equal(0)
      const nodes = JSON.parse(run.stdout) as JsonNode[]
      expect(nodes.map(node => [node.name, node.user, node.hostname, node.source])).to.deep.equal([
        ['cp-a', 'sp-admin', n1!.hostname, 'inventory'],
        ['cp-b', 'root', n2!.hostname, 'inventory'],
      ])
      const all = await staticpod(['nodes', '--json'], env, {cwd: work})
      expect((JSON.parse(all.stdout) as JsonNode[]).map(node => node.name)).to.deep.equal(['cp-a', 'cp-b', 'worker-a'])
      const unknownGroup = await staticpod(['nodes', 'control-plan'], env, {cwd: work})
      expect(unknownGroup.code).to.equal(2)
      expect(flat(unknownGroup.stderr)).to.include('(did you mean "control-plane"?)')
    })

    it('--config / STATICPOD_CONFIG name it; an invalid one is a usage error with file:line:column', async () => {
      const bad = path.join(work, 'bad.yaml')
      writeFileSync(bad, 'nodes:\n  a: {host: 127.0.0.1, prot: 22}\n')
      const run = await staticpod(['nodes', '--config', bad], env)
      expect(run.code).to.equal(2)
      expect(flat(run.stderr)).to.include(`${bad}:2:24: nodes.a.prot: unknown field "prot" (did you mean "port"?)`)
      const viaEnv = await staticpod(['nodes'], {...env, STATICPOD_CONFIG: bad})
      expect(viaEnv.code).to.equal(2)
      const missing = await staticpod(['nodes', '--config', path.join(work, 'missing.yaml')], env)
      expect(missing.code).to.equal(2)
      expect(flat(missing.stderr)).to.include('no such file')
    })
  })

  it('rejects bad flag values as usage errors', async () => {
    const run = await staticpod(['nodes', '--timeout', 'soon'], env)
    expect(run.code).to.equal(2)
    expect(flat(run.stderr)).to.include('invalid duration "soon"')
  })
})
