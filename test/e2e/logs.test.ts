// `staticpod logs` end to end: the built CLI over SSH against the node simulator, whose containers are real
// processes writing CRI log files behind the node's own crictl (docker on node2), and whose kubelet writes
// its journal. One cluster for every case.
import {expect} from 'chai'

import {runCli} from '../helpers/cli.js'
import {eventually} from '../helpers/eventually.js'
import {flat, type Run, staticpod} from '../helpers/sandbox-cli.js'
import {type Cluster, type ClusterNode, startCluster} from '../simulator/index.js'

// `talk` writes a numbered line to stdout and one to stderr every 0.2 s, after a line naming its instance.
// The runtime stamps each line when it reads it from the container's stdout or stderr pipe; lines of the
// two written within the same moment may be read in either order, so the first line stands alone.
const TALKER = `apiVersion: v1
kind: Pod
metadata: {name: talker, namespace: kube-system}
spec:
  containers:
  - name: talk
    image: busybox:1.36
    command: [sh, -c, 'echo "start $$"; sleep 0.2; i=0; while true; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); sleep 0.2; done']
  - name: side
    image: registry.k8s.io/pause:3.10
`
// The kubelet refuses it: a container without an image (kubelet-facts §1.3 step 4, §1.4).
const BROKEN = `apiVersion: v1
kind: Pod
metadata: {name: broken}
spec:
  containers:
  - name: web
`

function exits(run: Run, code: number): void {
  expect(run.code, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`).to.equal(code)
}

const lines = (text: string): string[] => text.split('\n').filter(Boolean)

describe('e2e: staticpod logs', function () {
  this.timeout(120_000)
  let cluster: Cluster
  let node1: ClusterNode
  let node2: ClusterNode
  let env: Record<string, string>
  const cli = async (args: string[]): Promise<Run> => staticpod(['logs', ...args], env, {timeoutMs: 90_000})
  // The runs that only read are started once the pods have talked for a while, three at a time (each
  // is mostly waiting on the nodes; the machine has 2 cores); each case awaits its own.
  const runs = new Map<string, Promise<Run>>()
  let queue: Promise<unknown> = Promise.resolve()
  const lanes: Array<Promise<unknown>> = [queue, queue, queue]
  const run = async (key: string): Promise<Run> => runs.get(key)!
  const started = (node: ClusterNode) => eventually(`talker on ${node.name}`, async () => {
    const state = await node.runtimeState()
    const talk = state.containers.find(c => c.labels['io.kubernetes.pod.name'] === `talker-${node.name}` && c.metadata.name === 'talk')
    expect(talk?.state).to.equal('CONTAINER_RUNNING')
  }, {timeoutMs: 30_000})

  /** The processes of a node whose command line holds `text` (the node's own PID namespace). */
  async function processes(node: ClusterNode, text: string): Promise<string[]> {
    const result = await node.exec(['pgrep', '-af', text])
    return lines(result.stdout).filter(line => !line.includes('pgrep'))
  }

  before(async () => {
    cluster = await startCluster({
      fileCheckFrequency: '1s',
      nodes: [
        {controlPlane: true, layout: 'kubeadm', name: 'node1'},
        {layout: 'docker', name: 'node2'},
        {layout: 'kubeadm', name: 'node3'},
      ],
    })
    node1 = cluster.node('node1')
    node2 = cluster.node('node2')
    env = cluster.env()
    // node3 has neither crictl nor docker (its kubelet still runs).
    await cluster.node('node3').exec(['rm', '-f', '/usr/local/bin/crictl'])
    await Promise.all([node1.writeManifest('talker.yaml', TALKER), node2.writeManifest('talker.yaml', TALKER), node1.writeManifest('broken.yaml', BROKEN)])
    await Promise.all([started(node1), started(node2)])
    // Setup, not a measurement: --since 1s below must leave out the first second of lines.
    await new Promise(resolve => {
      setTimeout(resolve, 2500)
    })
    const cases: Record<string, string[]> = {
      docker: ['node2', 'talker', '-c', 'talk'],
      kubelet: ['node1', 'broken.yaml', '--kubelet'],
      kubeletByPod: ['node1', 'broken', '--kubelet', '--tail', '1'],
      noContainer: ['node1', 'broken'],
      noCrictl: ['node1,node3', 'talker', '-c', 'talk', '--tail', '2'],
      noPrevious: ['node1', 'talker', '-c', 'talk', '--previous'],
      plain: ['node1', 'talker', '-c', 'talk'],
      since: ['node1', 'talker', '-c', 'talk', '--since', '1s'],
      tail: ['node1', 'talker', '-c', 'talk', '--tail', '3'],
      timestamps: ['node2', 'talker', '-c', 'talk', '--timestamps'],
      twoContainers: ['node1', 'talker'],
      wrongContainer: ['node1', 'talker', '-c', 'nope'],
    }
    for (const [index, [key, args]] of Object.entries(cases).entries()) {
      const lane = index % lanes.length
      const pending = lanes[lane]!.then(async () => cli(args))
      lanes[lane] = pending.catch(() => {})
      runs.set(key, pending)
    }

    queue = Promise.allSettled(lanes)
  })

  after(async () => {
    await queue
    await cluster?.stop()
  })

  it('shows a running container\'s log, stdout and stderr in the order written, from crictl and from docker', async () => {
    for (const key of ['plain', 'docker']) {
      // eslint-disable-next-line no-await-in-loop -- already running; awaited in order
      const result = await run(key)
      exits(result, 0)
      const [start, ...rest] = lines(result.stdout)
      expect(start, key).to.match(/^start \d+$/)
      // Each stream in its own order, both there; which of `out 0` and `err 0` the runtime read first is its race.
      expect(rest.slice(0, 4).sort(), key).to.deep.equal(['err 0', 'err 1', 'out 0', 'out 1'])
      for (const stream of ['out', 'err']) {
        const numbers = rest.filter(line => line.startsWith(stream)).map(line => Number(line.split(' ')[1]))
        expect(numbers, `${key} ${stream}`).to.deep.equal(numbers.map((_, i) => i))
      }

      expect(result.stderr, key).to.equal('')
    }

    // The two streams are merged by the runtime's timestamps.
    const stamped = lines((await run('timestamps')).stdout)
    const times = stamped.map(line => {
      const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z (?:start|out|err) \d+$/.exec(line)
      expect(match, line).to.not.equal(null)
      return (BigInt(Date.parse(`${match![1]}Z`)) * 1_000_000_000n) + BigInt((match![2] ?? '').padEnd(9, '0'))
    })
    expect(times.length).to.be.above(10)
    expect(times.every((time, i) => i === 0 || time >= times[i - 1]!), stamped.join('\n')).to.equal(true)
  })

  it('needs -c for a pod with several containers, and names them', async () => {
    const two = await run('twoContainers')
    exits(two, 1)
    expect(flat(two.stderr)).to.include('node1: failed: a container name must be specified for pod talker-node1, choose one of: [side talk]')
    const wrong = await run('wrongContainer')
    exits(wrong, 1)
    expect(flat(wrong.stderr)).to.include('container nope is not valid for pod talker-node1: its containers are side, talk')
  })

  it('--tail and --since cut the log', async () => {
    const all = lines((await run('plain')).stdout)
    const tail = await run('tail')
    exits(tail, 0)
    expect(lines(tail.stdout)).to.have.length(3)
    // The pod had been writing for more than 2 s: the last second holds neither its first lines nor all of them.
    const since = await run('since')
    exits(since, 0)
    expect(lines(since.stdout)).to.not.include('out 0').and.not.include(all[0])
    expect(lines(since.stdout).length).to.be.above(0).and.below(all.length)
  })

  it('--kubelet shows the kubelet\'s lines about an invalid manifest and its reason', async () => {
    const expected = 'invalid pod: [spec.containers[0].image: Required value]'
    const byFile = await run('kubelet')
    exits(byFile, 0)
    expect(byFile.stdout).to.include('"Could not process manifest file"')
    for (const line of lines(byFile.stdout)) expect(line).to.include('/etc/kubernetes/manifests/broken.yaml')
    expect(byFile.stdout).to.include(`err=${JSON.stringify(expected)} path="/etc/kubernetes/manifests/broken.yaml"`)
    expect(byFile.stderr).to.equal(`node1: the kubelet did not load /etc/kubernetes/manifests/broken.yaml: ${expected}\n`)
    const byPod = await run('kubeletByPod')
    exits(byPod, 0)
    expect(lines(byPod.stdout)).to.have.length(1)
    expect(byPod.stderr).to.include(expected)

    // Asking for its container log says why there is none, and where to look.
    const logs = await run('noContainer')
    exits(logs, 1)
    expect(flat(logs.stderr)).to.include('node1: failed: pod default/broken has no container (no broken-node1 in the runtime): the kubelet has not started it from /etc/kubernetes/manifests/broken.yaml')
    expect(flat(logs.stderr)).to.include('staticpod logs node1 default/broken --kubelet')
  })

  it('a node without crictl or docker is an error naming it; the other nodes are still shown', async () => {
    const result = await run('noCrictl')
    exits(result, 1)
    expect(lines(result.stdout)).to.have.length(2)
    expect(lines(result.stdout).every(line => line.startsWith('[node1] '))).to.equal(true)
    expect(flat(result.stderr)).to.match(/1 of 2 nodes failed:\n\s+node3: failed: neither crictl nor docker is on the PATH of root/)
  })

  it('-f follows two nodes with [node] prefixes until Ctrl-C, which also ends the remote crictl/docker logs', async () => {
    let stdout = ''
    let pid = 0
    const following = runCli(['logs', 'node1,node2', 'kube-system/talker', '-c', 'talk', '-f', '--tail', '1'], {
      env,
      onSpawn(child) {
        pid = child
      },
      onStdout(text) {
        stdout = text
      },
      timeoutMs: 90_000,
    })
    try {
      // New lines from both nodes, not only the --tail one each.
      await eventually('lines from both nodes', () => {
        for (const node of ['node1', 'node2']) expect(lines(stdout).filter(line => line.startsWith(`[${node}] `)).length, `${node}\n${stdout}`).to.be.above(3)
      }, {timeoutMs: 30_000})
      expect(await processes(node1, 'crictl logs')).to.not.deep.equal([])
      expect(await processes(node2, 'docker logs')).to.not.deep.equal([])
    } catch (error) {
      process.kill(pid, 'SIGKILL')
      throw error
    }

    process.kill(pid, 'SIGINT')
    const result = await following
    exits(result, 0)
    expect(lines(stdout).every(line => /^\[node[12]] (?:out|err) \d+$/.test(line)), stdout).to.equal(true)
    await eventually('no remote logs process left', async () => {
      expect(await processes(node1, 'crictl logs')).to.deep.equal([])
      expect(await processes(node2, 'docker logs')).to.deep.equal([])
    }, {timeoutMs: 10_000})
  })

  it('--previous shows the crashed instance once the container restarted, and says when there is none', async () => {
    // Every read of the first instances is done before they are killed.
    await queue
    const none = await run('noPrevious')
    exits(none, 1)
    expect(flat(none.stderr)).to.include('node1: failed: previous terminated container "talk" in pod "talker-node1" not found (restart count 0)')

    const first = [lines((await run('plain')).stdout)[0], lines((await run('docker')).stdout)[0]]
    await Promise.all([node1.killContainer('talker', 'talk'), node2.killContainer('talker', 'talk')])
    await Promise.all([node1, node2].map(async (node, i) => {
      await eventually(`the restarted container on ${node.name}`, async () => {
        const state = await node.runtimeState()
        const talk = state.containers.find(c => c.labels['io.kubernetes.pod.name'] === `talker-${node.name}` && c.metadata.name === 'talk' && c.metadata.attempt === 1)
        expect(talk?.state).to.equal('CONTAINER_RUNNING')
      })
      const [current, previous] = await Promise.all([cli([node.name, 'talker', '-c', 'talk', '--tail', '100000']), cli([node.name, 'talker', '-c', 'talk', '--previous'])])
      exits(previous, 0)
      const [start, ...rest] = lines(previous.stdout)
      expect(start, node.name).to.equal(first[i]).and.not.equal(lines(current.stdout)[0])
      expect(rest.slice(0, 2).sort(), node.name).to.deep.equal(['err 0', 'out 0'])
    }))
  })
})
