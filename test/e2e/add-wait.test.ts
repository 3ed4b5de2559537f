// `staticpod add --wait` end to end: the built CLI over SSH against the node simulator. The wait is
// checked against what the real kubectl sees (the mirror pod's config hash) and what is on the nodes.
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {eventually} from '../helpers/eventually.js'
import {ROOT} from '../helpers/fixtures.js'
import {nodeFile, type Run, staticpod} from '../helpers/sandbox-cli.js'
import {type Cluster, type ClusterNode, startCluster} from '../simulator/index.js'

const STATIC_WEB = path.join(ROOT, 'test/fixtures/manifests/valid-static-web.yaml')
const fixture = (name: string): string => path.join(ROOT, 'test/fixtures/add-wait', name)

interface PodWait {
  hashAfter: null | string
  hashBefore: null | string
  mirror: string
  ok: boolean
  pod: string
  state: string
  waitedMs: number
}
interface NodeJson {
  error?: string
  files: Array<{action: string; path: string}>
  node: string
  rollback?: {backups: string[]; error?: string; removed: string[]; restored: string[]}
  status: string
  wait?: {fallback?: string; method: string; pods: PodWait[]}
}

function report(run: Run): NodeJson[] {
  try {
    return JSON.parse(run.stdout) as NodeJson[]
  } catch {
    throw new Error(`not JSON (exit ${run.code})\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`)
  }
}

function exits(run: Run, code: number): void {
  expect(run.code, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`).to.equal(code)
}

describe('e2e: staticpod add --wait', function () {
  this.timeout(60_000)
  let cluster: Cluster
  let nodes: ClusterNode[]
  let env: Record<string, string>
  const cli = async (args: string[], extraEnv: Record<string, string> = {}): Promise<Run> => staticpod(args, {...env, ...extraEnv}, {timeoutMs: 50_000})

  /** The mirror pod's config hash as kubectl sees it. */
  async function mirrorHash(name: string): Promise<string> {
    const result = await cluster.kubectl(['get', 'pod', name, '-o', String.raw`jsonpath={.metadata.annotations.kubernetes\.io/config\.hash}`])
    if (result.code !== 0) throw new Error(result.stderr)
    return result.stdout
  }

  before(async () => {
    cluster = await startCluster({
      fileCheckFrequency: '1s',
      nodes: [
        {controlPlane: true, layout: 'kubeadm', name: 'node1'},
        {layout: 'kubeadm', name: 'node2'},
        {layout: 'kubeadm', name: 'node3'},
        {layout: 'docker', name: 'node4'},
      ],
    })
    nodes = cluster.nodes
    env = cluster.env()
  })

  after(async () => {
    await cluster?.stop()
  })

  it('waits through the API server until the mirror pod has the new config hash and runs', async () => {
    const first = await cli(['add', 'node1', STATIC_WEB, '--wait', '--timeout', '30s'])
    exits(first, 0)
    expect(first.stdout).to.match(/^NODE\s+POD\s+PATH\s+RESULT\s+SHA\s+BACKUP\s+WAIT\s+STATE$/m)
    expect(first.stdout).to.match(/^node1\s+default\/static-web\s+\/etc\/kubernetes\/manifests\/valid-static-web\.yaml\s+created\s.*\srunning after \S+ \(api\)\s+Running: web running, restarts 0$/m)
    expect(first.stderr).to.not.include('note')
    const hashBefore = await mirrorHash('static-web-node1')

    // A new version: the hash before is the old one, the hash after is the one the API shows now.
    const [replaced] = report(await cli(['add', 'node1', fixture('static-web-v2.yaml'), '--wait', '--timeout', '30s', '--json']))
    expect(replaced!.files[0]!.action).to.equal('replaced')
    expect(replaced!.wait!.method).to.equal('api')
    expect(replaced!.wait!.fallback).to.equal(undefined)
    const now = await mirrorHash('static-web-node1')
    expect(now).to.not.equal(hashBefore)
    expect(replaced!.wait!.pods).to.have.length(1)
    expect(replaced!.wait!.pods[0]).to.deep.include({
      hashAfter: now, hashBefore, mirror: 'static-web-node1', ok: true, pod: 'default/static-web', state: 'Running: web running, restarts 0',
    })

    // --dry-run never waits.
    const dry = report(await cli(['add', 'node1', STATIC_WEB, '--wait', '--dry-run', '--json']))
    expect(dry[0]!.wait).to.equal(undefined)
  })

  it('falls back to crictl (docker on a cri-dockerd node) when there is no kubeconfig, and says so', async () => {
    const run = await cli(['add', 'node2,node4', STATIC_WEB, '--wait', '--timeout', '30s', '--json'], {KUBECONFIG: '/nonexistent/kubeconfig'})
    exits(run, 0)
    const doc = report(run)
    expect(doc.map(n => [n.node, n.wait!.method])).to.deep.equal([['node2', 'crictl'], ['node4', 'docker']])
    for (const node of doc) {
      expect(node.wait!.fallback).to.match(/^no kubeconfig/)
      const [pod] = node.wait!.pods
      const mirror = `static-web-${node.node}`
      expect(pod).to.deep.include({hashBefore: null, mirror, ok: true})
      // The containers' io.kubernetes.pod.uid is the config hash the API server shows.
      // eslint-disable-next-line no-await-in-loop -- two nodes
      expect(pod!.hashAfter).to.equal(await eventually(`mirror pod ${mirror}`, async () => mirrorHash(mirror)))
    }

    expect(run.stderr).to.include('note node2: waited through crictl, not the API server: no kubeconfig')
    expect(run.stderr).to.include('note node4: waited through docker, not the API server: no kubeconfig')
  })

  it('--rolling: times out on the first node (exit 1, the last state seen), the others are skipped and untouched', async () => {
    const run = await cli(['add', 'node3,node1,node2', fixture('never-runs.yaml'), fixture('in-missing-namespace.yaml'), '--wait', '--rolling', '--timeout', '3s', '--json'])
    exits(run, 1)
    const doc = report(run)
    expect(doc.map(n => [n.node, n.status])).to.deep.equal([['node3', 'failed'], ['node1', 'skipped'], ['node2', 'skipped']])
    expect(doc[0]!.error).to.match(/^the kubelet did not run the new pod within 3s \(asked the API server\): never-runs-node3: /)
    const [pod, lost] = doc[0]!.wait!.pods
    expect(pod!.ok).to.equal(false)
    expect(pod!.waitedMs).to.be.at.least(3000)
    expect(pod!.state).to.match(/web (waiting|terminated) \((StartError|CrashLoopBackOff|RunContainerError)\)|no mirror pod never-runs-node3 yet|web not started/)
    // A mirror pod in a namespace the API server does not have: never there, and the report says why.
    expect(lost).to.deep.include({mirror: 'lost-web-node3', ok: false, pod: 'nowhere/lost-web'})
    expect(lost!.state).to.match(/^no mirror pod lost-web-node3: namespace nowhere does not exist in the API server/)
    expect(doc[1]!.error).to.equal('skipped: an earlier node failed')
    // Without --rollback-on-failure the file stays where it failed; the skipped nodes never got it.
    expect(await nodeFile(nodes[2]!, '/etc/kubernetes/manifests/never-runs.yaml')).to.equal(readFileSync(fixture('never-runs.yaml'), 'utf8'))
    expect(await nodeFile(nodes[0]!, '/etc/kubernetes/manifests/never-runs.yaml')).to.equal(undefined)
    expect(await nodeFile(nodes[1]!, '/etc/kubernetes/manifests/never-runs.yaml')).to.equal(undefined)
  })

  it('--rollback-on-failure puts the previous file back (and removes one that was new) on the failed node', async () => {
    // node1 runs static-web v2 (first test). Replacing it with a version that cannot start fails its wait.
    const file = '/etc/kubernetes/manifests/valid-static-web.yaml'
    const before = await nodeFile(nodes[0]!, file)
    expect(before).to.equal(readFileSync(fixture('static-web-v2.yaml'), 'utf8'))
    const hashBefore = await mirrorHash('static-web-node1')
    const run = await cli(['add', 'node1', fixture('static-web-broken.yaml'), fixture('never-runs.yaml'), '--wait', '--rollback-on-failure', '--timeout', '3s', '--json'])
    exits(run, 1)
    const [node1] = report(run)
    expect(node1!.status).to.equal('failed')
    expect(run.stderr).to.match(/^\[1\/1\] node1 failed /m)
    expect(node1!.rollback).to.deep.include({removed: ['/etc/kubernetes/manifests/never-runs.yaml'], restored: [file]})
    expect(node1!.rollback!.error).to.equal(undefined)
    expect(node1!.error).to.match(/; rolled back \(restored \/etc\/kubernetes\/manifests\/valid-static-web\.yaml, removed \/etc\/kubernetes\/manifests\/never-runs\.yaml\)$/)
    // The broken file went into a backup as it was replaced.
    expect(await nodeFile(nodes[0]!, node1!.rollback!.backups[0]!)).to.equal(readFileSync(fixture('static-web-broken.yaml'), 'utf8'))
    expect(await nodeFile(nodes[0]!, file)).to.equal(before)
    expect(await nodeFile(nodes[0]!, '/etc/kubernetes/manifests/never-runs.yaml')).to.equal(undefined)
    // The kubelet runs the previous version again, under its old hash.
    await eventually('static-web-node1 back on its previous hash', async () => {
      expect(await mirrorHash('static-web-node1')).to.equal(hashBefore)
    }, {timeoutMs: 15_000})
  })
})
