// `staticpod status` against a simulated cluster (a kubeadm node with containerd, a docker node):
// every verdict produced by the real thing (the kubelet stand-in, its runtime and the API server),
// the mirror pods compared with what the real kubectl sees, and the kubeconfig cases.
import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {eventually} from '../helpers/eventually.js'
import {type Run, staticpod} from '../helpers/sandbox-cli.js'
import {type Cluster, startCluster} from '../simulator/index.js'

type Json = Record<string, unknown>

function pod(name: string, spec: string, meta = ''): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n${meta}spec:\n${spec}`
}

const NGINX = '  containers:\n  - name: web\n    image: nginx\n'
const MANIFESTS: Record<string, string> = {
  // crash-looping: its only container exits at once, the kubelet restarts it with back-off
  'crash.yaml': pod('crash', '  containers:\n  - name: main\n    image: busybox\n    command: [sh, -c, exit 1]\n'),
  // file only: the API requires env names; the reason is the validator's (the kubelet's own, from its log,
  // is shown for files the validator passes: unit tests of status-verdict)
  'envless.yaml': pod('envless', `${NGINX}    env:\n    - name: ""\n`),
  // mirror missing: the kubelet runs it, the API server refuses its mirror pod (namespaces "ghost" not found)
  'haunted.yaml': pod('haunted', NGINX, '  namespace: ghost\n'),
  // file only: kubelet v1.34 refuses a static pod that references a Secret (kubelet-facts §1.3, §4.2)
  'secretive.yaml': pod('secretive', `${NGINX}  volumes:\n  - name: creds\n    secret:\n      secretName: creds\n`),
  // pending: its init container never finishes
  'slow.yaml': pod('slow', `  initContainers:\n  - name: setup\n    image: busybox\n    command: [sleep, '3600']\n${NGINX}`),
  // running: a backup name, but the kubelet loads every file, so it runs (ls warns about it; status says what runs)
  'stray.yaml.bak': pod('stray', NGINX),
  // running
  'web.yaml': pod('web', NGINX),
}

/** The table's rows as {pod: verdict} (the header and the reason lines under the table skipped). */
function verdicts(stdout: string, node: string): Record<string, string> {
  const [header = '', ...lines] = stdout.split('\n')
  const at = header.indexOf('VERDICT')
  const rows = lines.filter(line => line.startsWith(`${node} `) && !line.includes(': '))
  return Object.fromEntries(rows.map(line => [line.split(/\s+/)[1]!, line.slice(at).trim()]))
}

function rowsOf(run: Run): Json[] {
  return JSON.parse(run.stdout) as Json[]
}

const rowNamed = (rows: Json[], node: string, name: string): Json => {
  const row = rows.find(r => r.node === node && r.name === name)
  if (!row) throw new Error(`no row ${node}/${name} in ${JSON.stringify(rows.map(r => `${r.node}/${r.name}`))}`)
  return row
}

/** A port on which nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => {
    server.listen(0, '127.0.0.1', resolve)
  })
  const {port} = server.address() as {port: number}
  await new Promise(resolve => {
    server.close(resolve)
  })
  return port
}

describe('status', function () {
  this.timeout(120_000)
  let cluster: Cluster
  let dir: string
  let env: Record<string, string>
  /** The runs that do not change anything, started together once the pods are up (the machine has 2 cores, most of a run is waiting). */
  const runs: Record<string, Run> = {}
  let kubectlPods: Json[]

  before(async () => {
    cluster = await startCluster({
      fileCheckFrequency: '1s',
      nodes: [{controlPlane: true, layout: 'kubeadm', name: 'node1'}, {layout: 'docker', name: 'node2'}],
    })
    dir = mkdtempSync(path.join(tmpdir(), 'staticpod-status-'))
    env = cluster.env()
    const node1 = cluster.node('node1')
    const node2 = cluster.node('node2')
    await Promise.all([
      ...Object.entries(MANIFESTS).map(([file, text]) => node1.writeManifest(file, text)),
      node2.writeManifest('web.yaml', MANIFESTS['web.yaml']!),
      node2.writeManifest('leftover.yaml', pod('leftover', NGINX)),
    ])
    await eventually('the pods are up and crash-node1 has restarted', async () => {
      const list = await cluster.kubectl(['get', 'pods', '-A', '-o', 'json'])
      const {items} = (JSON.parse(list.stdout) as {items: Json[]})
      const status = (name: string) => items.find(p => (p.metadata as Json).name === name)?.status as Json | undefined
      for (const name of ['web-node1', 'stray-node1', 'web-node2', 'leftover-node2']) expect(status(name)?.phase, name).to.equal('Running')
      expect(status('slow-node1')?.phase).to.equal('Pending')
      const crash = (status('crash-node1')?.containerStatuses as Json[] | undefined)?.[0]
      expect(crash?.restartCount).to.be.greaterThan(0)
    }, {intervalMs: 300, timeoutMs: 30_000})

    const dead = path.join(dir, 'dead-kubeconfig')
    writeFileSync(dead, [
      'apiVersion: v1',
      `clusters: [{name: dead, cluster: {server: "https://127.0.0.1:${await closedPort()}"}}]`,
      'contexts: [{name: dead, context: {cluster: dead}}]',
      'current-context: dead',
      '',
    ].join('\n'))
    // An inventory that names the cluster's kubeconfig and a node that is down.
    const inventory = path.join(dir, 'staticpod.yaml')
    writeFileSync(inventory, `kubeconfig: ${cluster.kubeconfigPath}\nnodes:\n  node2: {}\n  gone: {host: 127.0.0.1, port: ${await closedPort()}}\n`)
    const plans: Record<string, [string[], Record<string, string>]> = {
      deadApi: [['status', 'node1', 'web'], {...env, KUBECONFIG: dead}],
      inventory: [['status', 'all', 'web', '--json', '--config', inventory], {...env, KUBECONFIG: dead}],
      json: [['status', 'node1,node2', '--json'], env],
      noKubeconfig: [['status', 'node1', 'web', 'default/web'], {...env, KUBECONFIG: path.join(dir, 'none')}],
      table: [['status', 'node1'], env],
      unknownContext: [['status', 'node1', 'web', '--context', 'nope'], env],
    }
    const [kubectl] = await Promise.all([
      cluster.kubectl(['get', 'pods', '-A', '-o', 'json']),
      ...Object.entries(plans).map(async ([key, [args, runEnv]]) => {
        runs[key] = await staticpod(args, runEnv, {timeoutMs: 90_000})
      }),
    ])
    kubectlPods = (JSON.parse(kubectl.stdout) as {items: Json[]}).items
  })

  after(async () => {
    await cluster?.stop()
    if (dir) rmSync(dir, {force: true, recursive: true})
  })

  it('one row per static pod with its verdict, the reasons under the table, exit 3 when not everything runs', async () => {
    const run = runs.table!
    expect(run.code, run.stderr).to.equal(3)
    expect(verdicts(run.stdout, 'node1')).to.deep.equal({
      crash: 'crash-looping',
      envless: 'file only',
      'ghost/haunted': 'mirror missing',
      secretive: 'file only',
      slow: 'pending',
      stray: 'running',
      web: 'running',
    })
    expect(run.stdout).not.to.match(/^node1 stray:/m)
    expect(run.stdout).to.match(/^node1 secretive: file only: the kubelet would refuse it: static pods may not reference secrets \(secret volume "creds"\)/m)
    expect(run.stdout).to.include('node1 ghost/haunted: mirror missing: namespace "ghost" does not exist: the API server refuses the mirror pod')
    expect(run.stdout).to.include('node1 slow: pending: init container setup is running')
    expect(run.stdout).to.include('node1 envless: file only: the kubelet would refuse it: environment variable name is empty; the API server and the kubelet require one')
    expect(run.stdout).to.match(/^node1 crash: crash-looping: container main: /m)
    const web = run.stdout.split('\n').find(line => line.startsWith('node1  web '))
    expect(web).to.match(/web\.yaml\s+\d+s\s+[\da-f]{12}\s+web running\s+0\s+Running 1\/1\s+running$/)
  })

  it('--json: one document; containers and mirror pods linked by the pod uid, as the real kubectl sees them', async () => {
    const run = runs.json!
    expect(run.code, run.stderr).to.equal(3)
    const rows = rowsOf(run)
    const web = rowNamed(rows, 'node1', 'web')
    expect(Object.keys(web)).to.deep.equal(['node', 'nodeName', 'name', 'namespace', 'verdict', 'reason', 'file', 'runtime', 'containers', 'mirrorName', 'mirrorLookup', 'mirror'])
    expect(web).to.include({
      mirrorLookup: 'ok', mirrorName: 'web-node1', nodeName: 'node1', runtime: 'crictl', verdict: 'running',
    })
    expect(web.file).to.include({file: 'web.yaml', path: '/etc/kubernetes/manifests/web.yaml', status: 'valid'})
    const mirror = web.mirror as Json
    expect((web.containers as Json[]).map(c => [c.name, c.state, c.podUid])).to.deep.equal([['web', 'running', mirror.configMirror]])
    expect(rowNamed(rows, 'node1', 'secretive')).to.deep.include({containers: [], mirror: null, verdict: 'file-only'})

    // Every mirror pod kubectl lists for these nodes is a row with the same uid and hash, and no row has one kubectl does not.
    const fromKubectl = kubectlPods.filter(p => ((p.metadata as Json).annotations as Json)?.['kubernetes.io/config.mirror'])
    .map(p => {
      const meta = p.metadata as Json
      return `${(p.spec as Json).nodeName} ${meta.namespace}/${meta.name} ${meta.uid} ${(meta.annotations as Json)['kubernetes.io/config.hash']}`
    }).sort()
    const fromStatus = rows.filter(r => r.mirror).map(r => {
      const m = r.mirror as Json
      return `${r.nodeName} ${m.namespace}/${m.name} ${m.uid} ${m.configHash}`
    }).sort()
    expect(fromStatus).to.deep.equal(fromKubectl)
    expect(fromStatus).to.have.length(6)
  })

  it('a docker node: the containers come from docker', async () => {
    const row = rowNamed(rowsOf(runs.json!), 'node2', 'web')
    expect(row).to.include({runtime: 'docker', verdict: 'running'})
    expect((row.containers as Json[])[0]).to.include({name: 'web', podUid: (row.mirror as Json).configHash, state: 'running'})
  })

  it('no kubeconfig at all: the mirror column says so; POD arguments select; exit 0 when they all run', async () => {
    const run = runs.noKubeconfig!
    expect(run.code, run.stderr).to.equal(0)
    expect(Object.keys(verdicts(run.stdout, 'node1'))).to.deep.equal(['web'])
    expect(run.stdout).to.match(/web running\s+0\s+no kubeconfig\s+running$/m)
    expect(run.stderr).to.include('No kubeconfig')
  })

  it('an API server that does not answer fails the run (exit 1) and the rest is shown; an unknown --context is a usage error', async () => {
    const {deadApi, unknownContext} = runs
    expect(deadApi!.code, deadApi!.stderr).to.equal(1)
    expect(deadApi!.stderr).to.match(/mirror pods unknown: https:\/\/127\.0\.0\.1:\d+: connection refused \(context dead\)/)
    expect(deadApi!.stdout).to.match(/web running\s+0\s+\?\s+running$/m)
    expect(unknownContext!.code).to.equal(2)
    expect(unknownContext!.stderr).to.include('context "nope" is not in kubeconfig')
  })

  it('the inventory\'s kubeconfig wins over KUBECONFIG; an unreachable node is a {node, error} entry and exit 1, the others are still shown', async () => {
    const run = runs.inventory!
    expect(run.code, run.stderr).to.equal(1)
    const rows = rowsOf(run)
    expect(rows.find(r => r.node === 'gone')).to.have.keys('node', 'error', 'hints')
    expect(rowNamed(rows, 'node2', 'web')).to.include({mirrorLookup: 'ok', verdict: 'running'})
  })

  describe('after changes on the nodes', () => {
    let orphans: Run
    let noRuntime: Run

    before(async () => {
      const node1 = cluster.node('node1')
      const node2 = cluster.node('node2')
      // node2: the kubelet stops (its containers and mirror pods stay), then a file goes and another comes.
      const stop = await node2.exec(['systemctl', 'stop', 'kubelet'])
      expect(stop.code, stop.stderr).to.equal(0)
      await node2.removeManifest('leftover.yaml')
      await node2.writeManifest('late.yaml', pod('late', NGINX))
      // node1: root finds no crictl any more.
      const hide = await node1.exec(['mv', '/usr/local/bin/crictl', '/usr/local/bin/crictl.hidden'])
      expect(hide.code, hide.stderr).to.equal(0);
      [orphans, noRuntime] = await Promise.all([staticpod(['status', 'node2'], env), staticpod(['status', 'node1', 'web'], env)])
    })

    it('orphans: containers and a mirror pod that no file defines (the kubelet is stopped); a new file it has not read is file only', () => {
      const run = orphans
      expect(run.code, run.stderr).to.equal(3)
      expect(verdicts(run.stdout, 'node2')).to.deep.equal({late: 'file only', leftover: 'orphan', web: 'running'})
      expect(run.stdout).to.match(/^node2\s+leftover\s+-\s+-\s+-\s+web running\s+0\s+Running 1\/1\s+orphan$/m)
      expect(run.stdout).to.include('node2 leftover: orphan: containers and a mirror pod, but no manifest file: is the kubelet running?')
      expect(run.stdout).to.include('node2 late: file only: the kubelet has not started it')
    })

    it('a node without crictl or docker: the containers are unknown ("?"), the mirror pod still tells, the node is not failed', () => {
      const run = noRuntime
      expect(run.code, run.stderr).to.equal(0)
      expect(run.stdout).to.match(/^node1\s+web\s+web\.yaml\s+\d+s\s+[\da-f]{12}\s+\?\s+\?\s+Running 1\/1\s+running$/m)
      expect(run.stderr).to.match(/warning node1: containers: node1: neither crictl nor docker/)
    })
  })
})
