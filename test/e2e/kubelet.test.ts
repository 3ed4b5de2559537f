// `staticpod kubelet flags` and `kubelet restart` end to end: the built CLI over SSH against the
// node simulator — steps 3 and 4 of the static pods guide on a Fedora-style and a kubeadm-style
// node, a bad value that is rolled back, and manifest-url pointed at an HTTP server of the test.
import type {AddressInfo} from 'node:net'

import {expect} from 'chai'
import {createServer, type Server} from 'node:http'
import path from 'node:path'

import {eventually} from '../helpers/eventually.js'
import {ROOT} from '../helpers/fixtures.js'
import {nodeFile, type Run, staticpod} from '../helpers/sandbox-cli.js'
import {type Cluster, type ClusterNode, startCluster} from '../simulator/index.js'

type Json = Record<string, unknown>

const STATIC_WEB = path.join(ROOT, 'test/fixtures/manifests/valid-static-web.yaml')

/** Waits until the mirror pod `name` is Running with every container ready. */
async function runningMirror(cluster: Cluster, name: string): Promise<Json> {
  return eventually(`mirror pod ${name} running`, async () => {
    const result = await cluster.kubectl(['get', 'pod', name, '-o', 'json'])
    if (result.code !== 0) throw new Error(result.stderr)
    const pod = JSON.parse(result.stdout) as Json
    const status = pod.status as Json
    const statuses = status.containerStatuses as Json[] | undefined
    if (status.phase !== 'Running' || !statuses?.every(s => s.ready === true)) throw new Error(`phase ${String(status.phase)}`)
    return pod
  })
}

/** The running kubelet's argv inside a node. */
async function kubeletArgv(node: ClusterNode): Promise<string[]> {
  const result = await node.exec(['sh', '-c', String.raw`for d in /proc/[0-9]*; do [ "$(cat $d/comm 2>/dev/null)" = kubelet ] && tr "\0" "\n" < $d/cmdline && exit 0; done; exit 1`])
  expect(result.code, `no kubelet running on ${node.name}`).to.equal(0)
  return result.stdout.split('\n').filter(Boolean)
}

function ok(run: Run): void {
  expect(run.code, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`).to.equal(0)
}

describe('e2e: staticpod kubelet flags / restart', function () {
  this.timeout(120_000)
  let cluster: Cluster
  let kubeadm: ClusterNode
  let fedora: ClusterNode
  let handmade: ClusterNode
  let env: Record<string, string>
  const cli = async (args: string[], input?: string): Promise<Run> => staticpod(args, env, {input, timeoutMs: 90_000})

  before(async () => {
    cluster = await startCluster({
      fileCheckFrequency: '1s',
      nodes: [
        {controlPlane: true, layout: 'kubeadm', name: 'node1'},
        // Not yet at /etc/kubelet.d: the guide's steps point it there.
        {layout: 'fedora', manifestDir: '/etc/kubernetes/manifests', name: 'node2'},
        {layout: 'config-file', name: 'node3'},
      ],
    });
    [kubeadm, fedora, handmade] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode]
    env = cluster.env()
  })

  after(async () => {
    await cluster?.stop()
  })

  it('shows where each setting comes from, with the values that lost, as a table and as JSON', async () => {
    // A flag in KUBELET_EXTRA_ARGS beats the config file: both show, the loser indented below.
    const script = 'cp /etc/default/kubelet /root/default.good && echo \'KUBELET_EXTRA_ARGS="--sync-frequency=30s"\' > /etc/default/kubelet && systemctl restart kubelet'
    const edit = await kubeadm.exec(['sh', '-c', script])
    expect(edit.code, edit.stderr).to.equal(0)
    await kubeadm.waitHealthy()
    try {
      const table = await cli(['kubelet', 'flags', 'node1'])
      ok(table)
      expect(table.stdout).to.match(/layout\s+kubeadm/)
      expect(table.stdout).to.match(/^staticPodPath\s+\/etc\/kubernetes\/manifests\s+\/var\/lib\/kubelet\/config\.yaml:staticPodPath$/m)
      expect(table.stdout).to.not.match(/^\s+overrides\s.*\sdefault$/m)
      expect(table.stdout, table.stdout).to.match(/^syncFrequency\s+30s\s+\/etc\/default\/kubelet:KUBELET_EXTRA_ARGS\n\s+overrides\s+\S+\s+\/var\/lib\/kubelet\/config\.yaml:syncFrequency$/m)

      const json = await cli(['kubelet', 'flags', 'node1,node2', '--json'])
      ok(json)
      const doc = JSON.parse(json.stdout) as {nodes: Array<Json & {settings: Array<Json & {source: Json}>}>}
      expect(doc.nodes.map(n => [n.node, n.layout])).to.deep.equal([['node1', 'kubeadm'], ['node2', 'fedora']])
      const path2 = doc.nodes[1]!.settings.find(s => s.key === 'staticPodPath')!
      expect(path2).to.deep.include({field: 'staticPodPath', flag: 'pod-manifest-path', value: '/etc/kubernetes/manifests/'})
      expect(path2.source).to.deep.include({file: '/etc/kubernetes/kubelet', text: '/etc/kubernetes/kubelet:KUBELET_ARGS', variable: 'KUBELET_ARGS'})
      expect(doc.nodes[0]!.healthz).to.deep.include({enabled: true, port: 10_248, url: kubeadm.healthzUrl})
    } finally {
      await kubeadm.exec(['sh', '-c', 'cp /root/default.good /etc/default/kubelet && systemctl restart kubelet'])
    }

    await kubeadm.waitHealthy()
  })

  it('reads the settings from the unit files when systemd cannot be asked', async () => {
    const hide = await handmade.exec(['sh', '-c', 'chmod 0644 /usr/local/bin/systemctl && ! systemctl cat kubelet.service'])
    expect(hide.code, hide.stderr).to.equal(0)
    try {
      const run = await cli(['kubelet', 'flags', 'node3', '--json'])
      ok(run)
      const node = (JSON.parse(run.stdout) as {nodes: Array<Json & {settings: Json[]}>}).nodes[0]!
      expect(node).to.deep.include({configFile: '/etc/kubernetes/kubelet-config.yaml', unit: '/etc/systemd/system/kubelet.service'})
      expect(node.settings.find(s => s.key === 'staticPodPath')).to.deep.include({value: '/etc/kubernetes/pods'})
      expect((node.settings.find(s => s.key === 'config')!.source as Json).text).to.equal('/etc/systemd/system/kubelet.service:ExecStart')
    } finally {
      await handmade.exec(['sh', '-c', 'chmod 0755 /usr/local/bin/systemctl'])
    }
  })

  it('guide steps 3-4 on a Fedora-style node: --pod-manifest-path=/etc/kubelet.d/ in KUBELET_ARGS, restart, add static-web, it runs', async () => {
    const file = '/etc/kubernetes/kubelet'
    const before = (await nodeFile(fedora.sandbox, file))!
    const set = ['kubelet', 'flags', 'node2', '--set', 'pod-manifest-path=/etc/kubelet.d/']

    const dry = await cli([...set, '--dry-run'])
    ok(dry)
    expect(dry.stdout).to.include('--- node2:/etc/kubernetes/kubelet')
    expect(dry.stdout).to.include('-KUBELET_ARGS="--cluster-dns=10.254.0.10 --cluster-domain=kube.local --pod-manifest-path=/etc/kubernetes/manifests/ ')
    expect(dry.stdout).to.include('+KUBELET_ARGS="--cluster-dns=10.254.0.10 --cluster-domain=kube.local --pod-manifest-path=/etc/kubelet.d/ ')
    expect(await nodeFile(fedora.sandbox, file)).to.equal(before)
    const dryJson = await cli([...set, '--dry-run', '--json'])
    ok(dryJson)
    const planned = (JSON.parse(dryJson.stdout) as {dryRun: boolean; nodes: Array<{changes: Json[]; files: Json[]; status: string}>})
    expect(planned.dryRun).to.equal(true)
    expect(planned.nodes[0]!.changes).to.deep.equal([{
      action: 'set', file, key: 'pod-manifest-path', where: {variable: 'KUBELET_ARGS'},
    }])
    expect(planned.nodes[0]!.files).to.have.length(1)
    expect(planned.nodes[0]!.files[0]).to.deep.include({backup: null, existed: true, path: file})
    expect(String(planned.nodes[0]!.files[0]!.diff)).to.include('+KUBELET_ARGS="--cluster-dns=10.254.0.10 --cluster-domain=kube.local --pod-manifest-path=/etc/kubelet.d/ ')

    const refused = await cli([...set, '--restart'])
    expect(refused.code).to.equal(2)
    expect(refused.stderr).to.include('--yes')
    expect(await nodeFile(fedora.sandbox, file)).to.equal(before)

    const done = await cli([...set, '--restart', '--yes'])
    ok(done)
    expect(done.stdout).to.match(/node2: kubelet restarted, healthy after [\d.]+s/)
    const after = (await nodeFile(fedora.sandbox, file))!
    // Only the flag's value changed: comments, other lines and quoting are kept.
    expect(after).to.equal(before.replace('--pod-manifest-path=/etc/kubernetes/manifests/', '--pod-manifest-path=/etc/kubelet.d/'))
    const backup = /backed up (\/var\/lib\/staticpod\/backups\/\d{8}T\d{6}Z(?:\.\d+)?\/etc\/kubernetes\/kubelet)/.exec(done.stdout)
    expect(backup, done.stdout).to.not.equal(null)
    expect(await nodeFile(fedora.sandbox, backup![1]!)).to.equal(before)
    expect(await kubeletArgv(fedora)).to.include('--pod-manifest-path=/etc/kubelet.d/')
    // Already so: nothing to write, nothing restarted.
    const again = await cli([...set, '--restart', '--yes', '--json'])
    ok(again)
    const node = (JSON.parse(again.stdout) as {nodes: Json[]}).nodes[0]!
    expect(node).to.deep.include({files: [], status: 'unchanged'})
    expect(node.restart).to.equal(undefined)

    const add = await cli(['add', 'node2', STATIC_WEB])
    ok(add)
    expect(await nodeFile(fedora.sandbox, '/etc/kubelet.d/valid-static-web.yaml')).to.be.a('string')
    await runningMirror(cluster, 'static-web-node2')
  })

  it('the same on a kubeadm-style node lands in the config file as staticPodPath', async () => {
    const envBefore = await nodeFile(kubeadm.sandbox, '/etc/default/kubelet')
    const configBefore = (await nodeFile(kubeadm.sandbox, '/var/lib/kubelet/config.yaml'))!
    const done = await cli(['kubelet', 'flags', 'node1', '--set', 'pod-manifest-path=/etc/kubelet.d/', '--restart', '--yes'])
    ok(done)
    expect(done.stdout).to.include('--- node1:/var/lib/kubelet/config.yaml')
    expect(done.stdout).to.include('-staticPodPath: /etc/kubernetes/manifests\n+staticPodPath: /etc/kubelet.d/')
    expect(await nodeFile(kubeadm.sandbox, '/var/lib/kubelet/config.yaml')).to.equal(configBefore.replace('staticPodPath: /etc/kubernetes/manifests', 'staticPodPath: /etc/kubelet.d/'))
    expect(await nodeFile(kubeadm.sandbox, '/etc/default/kubelet')).to.equal(envBefore)
    expect(done.stderr).to.include('kube-system/kubelet-config ConfigMap')

    const shown = await cli(['kubelet', 'flags', 'node1', '--json'])
    ok(shown)
    const {settings} = ((JSON.parse(shown.stdout) as {nodes: Array<{settings: Json[]}>}).nodes[0]!)
    expect(settings.find(s => s.key === 'staticPodPath')).to.deep.include({value: '/etc/kubelet.d/'})

    ok(await cli(['add', 'node1', STATIC_WEB]))
    await runningMirror(cluster, 'static-web-node1')
  })

  it('a value the kubelet refuses is rolled back: previous bytes restored, kubelet healthy, its journal shown, exit 1', async () => {
    const config = '/etc/kubernetes/kubelet-config.yaml'
    const before = (await nodeFile(handmade.sandbox, config))!
    const run = await cli(['kubelet', 'flags', 'node3', '--set', 'maxPods=-1', '--restart', '--timeout', '4s', '--yes'])
    expect(run.code, run.stderr).to.equal(1)
    expect(run.stdout).to.include('+maxPods: -1')
    expect(run.stdout).to.match(/node3: rolled back: previous files restored, kubelet restarted, healthy after/)
    expect(run.stdout).to.include('maxPods (--max-pods) -1 must not be a negative number')
    expect(run.stderr).to.match(/node3.*rolled back/)
    expect(await nodeFile(handmade.sandbox, config)).to.equal(before)
    await handmade.waitHealthy(5000)

    const json = await cli(['kubelet', 'flags', 'node3', '--set', 'maxPods=-1', '--restart', '--timeout', '3s', '--yes', '--json'])
    expect(json.code).to.equal(1)
    const node = (JSON.parse(json.stdout) as {nodes: Array<Json & {restart: Json; rollback: Json}>}).nodes[0]!
    expect(node.status).to.equal('failed')
    expect(node.restart.healthy).to.equal(false)
    expect(node.rollback).to.deep.include({restored: true})
    expect((node.rollback.restart as Json).healthy).to.equal(true)
    expect(await nodeFile(handmade.sandbox, config)).to.equal(before)
  })

  it('a staticpod killed while it waits for the kubelet still leaves the node rolled back and healthy', async () => {
    const config = '/etc/kubernetes/kubelet-config.yaml'
    const before = (await nodeFile(handmade.sandbox, config))!
    const since = handmade.journal('kubelet').length
    let pid: number | undefined
    const running = staticpod(['kubelet', 'flags', 'node3', '--set', 'maxPods=-1', '--restart', '--timeout', '4s', '--yes'], env, {
      onSpawn(p) {
        pid = p
      },
      timeoutMs: 60_000,
    })
    // Once the kubelet has refused the new file, staticpod is waiting on healthz: kill it there.
    await eventually('the kubelet to refuse maxPods -1', async () => {
      expect(handmade.journal('kubelet').slice(since).map(e => e.msg).join('\n')).to.include('must not be a negative number')
    })
    process.kill(pid!, 'SIGKILL')
    expect((await running).code).to.equal(null)
    await eventually('the node to roll back by itself', async () => {
      expect(await nodeFile(handmade.sandbox, config)).to.equal(before)
      await handmade.waitHealthy(1000)
    }, {timeoutMs: 30_000})
  })

  it('kubelet restart goes one node at a time and stops at the first that does not come back', async () => {
    const config = '/etc/kubernetes/kubelet-config.yaml'
    await handmade.exec(['sh', '-c', `cp ${config} /root/config.good && echo 'maxPods: -1' >> ${config}`])
    const since = kubeadm.journal('kubelet').length
    try {
      const run = await cli(['kubelet', 'restart', 'node3,node1', '--timeout', '3s', '--yes', '--json'])
      expect(run.code).to.equal(1)
      const {nodes} = (JSON.parse(run.stdout) as {nodes: Json[]})
      expect(nodes.map(n => [n.node, n.status])).to.deep.equal([['node3', 'failed'], ['node1', 'skipped']])
      expect(String(nodes[0]!.journal)).to.include('must not be a negative number')
      // node1's kubelet was not touched.
      expect(kubeadm.journal('kubelet').slice(since).some(e => /Stopping|Started/.test(e.msg))).to.equal(false)
    } finally {
      await handmade.exec(['sh', '-c', `cp /root/config.good ${config} && systemctl restart kubelet`])
    }

    await handmade.waitHealthy()
    // A drop-in edited by hand: systemd wants a daemon-reload on node1 only.
    await kubeadm.exec(['sh', '-c', 'echo "# edited" >> /etc/systemd/system/kubelet.service.d/10-kubeadm.conf'])
    const both = await cli(['kubelet', 'restart', 'node1,node2', '--parallel', '2', '--yes'])
    ok(both)
    expect(both.stdout).to.match(/node1: kubelet restarted \(after daemon-reload\), healthy after/)
    expect(both.stdout).to.match(/node2: kubelet restarted, healthy after/)
    expect((await kubeadm.exec(['systemctl', 'show', '-p', 'NeedDaemonReload', '--value', 'kubelet'])).stdout.trim()).to.equal('no')
  })

  it('manifest-url pointed at an HTTP server of the test: the pod it serves runs', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, {'content-type': 'application/yaml'})
      res.end('apiVersion: v1\nkind: Pod\nmetadata:\n  name: from-url\nspec:\n  containers:\n  - name: main\n    image: nginx:1.27\n')
    })
    await new Promise<void>(resolve => {
      server.listen(0, '127.0.0.1', resolve)
    })
    try {
      const {port} = server.address() as AddressInfo
      const url = `http://127.0.0.1:${port}/pod.yaml`
      const run = await cli(['kubelet', 'flags', 'node3', '--set', `manifest-url=${url}`, '--set', 'http-check-frequency=1s', '--restart', '--yes'])
      ok(run)
      expect(await nodeFile(handmade.sandbox, '/etc/kubernetes/kubelet-config.yaml')).to.include(`staticPodURL: ${url}`)
      const mirror = await runningMirror(cluster, 'from-url-node3')
      expect(((mirror.metadata as Json).annotations as Record<string, string>)['kubernetes.io/config.source']).to.equal('http')

      ok(await cli(['kubelet', 'flags', 'node3', '--unset', 'manifest-url', '--unset', 'httpCheckFrequency', '--restart', '--yes']))
      expect(await nodeFile(handmade.sandbox, '/etc/kubernetes/kubelet-config.yaml')).to.not.include('staticPodURL')
    } finally {
      server.close()
    }
  })
})
