import type {AddressInfo} from 'node:net'

// The node simulator against kubelet-facts.md and the static pods guide: a mixed sandbox cluster (kubeadm, Fedora,
// config-file and docker nodes) driven through the node's own tools (crictl, docker, systemctl, journalctl) and
// the real kubectl.
import {expect} from 'chai'
import {existsSync} from 'node:fs'
import {
  createServer, get, type IncomingHttpHeaders, type Server,
} from 'node:http'

import {eventually} from '../helpers/eventually.js'
import {type Cluster, type ClusterNode, startCluster} from '../simulator/index.js'
import {parseKubeletFlags} from '../simulator/node/kubelet/flags.js'
import {podFromFile} from '../simulator/node/kubelet/manifest.js'
import {expandCommandLine, parseEnvironmentFile} from '../simulator/node/units.js'
import {parseGoDuration} from '../simulator/shared/util.js'

type Json = Record<string, unknown>

/** The static pods guide's web server. */
const STATIC_WEB = `apiVersion: v1
kind: Pod
metadata:
  name: static-web
  labels:
    role: myrole
spec:
  containers:
    - name: web
      image: nginx
      ports:
        - name: web
          containerPort: 80
          protocol: TCP
`

function pod(name: string, image = 'nginx:1.27', extra = ''): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n  - name: main\n    image: ${image}\n${extra}`
}

const sleep = (ms: number) =>
  new Promise(resolve => {
    setTimeout(resolve, ms)
  })

async function sh(node: ClusterNode, script: string): Promise<string> {
  const result = await node.exec(['sh', '-c', script])
  if (result.code !== 0) throw new Error(`${node.name}: ${script} exited ${result.code}: ${result.stderr}${result.stdout}`)
  return result.stdout
}

async function crictlContainers(node: ClusterNode, all = false): Promise<Json[]> {
  const out = await sh(node, `crictl ps ${all ? '-a ' : ''}-o json`)
  return (JSON.parse(out) as {containers: Json[]}).containers
}

const labelsOf = (object: Json) => object.labels as Record<string, string>

async function kubectlJson(cluster: Cluster, args: string[]): Promise<Json> {
  const result = await cluster.kubectl([...args, '-o', 'json'])
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`)
  return JSON.parse(result.stdout) as Json
}

async function mirrorPod(cluster: Cluster, name: string): Promise<Json> {
  return kubectlJson(cluster, ['get', 'pod', name])
}

const annotations = (object: Json) => (object.metadata as Json).annotations as Record<string, string>

async function configHash(cluster: Cluster, name: string): Promise<string> {
  return annotations(await runningMirror(cluster, name))['kubernetes.io/config.hash']!
}

/** The HTTP status of a GET, or 'refused'. */
function httpStatus(url: string): Promise<number | string> {
  return new Promise(resolve => {
    const req = get(url, {timeout: 2000}, res => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', () => resolve('refused'))
    req.on('timeout', () => req.destroy())
  })
}

/** Waits for a mirror pod whose only container runs, and returns it. */
async function runningMirror(cluster: Cluster, name: string, timeoutMs?: number): Promise<Json> {
  return eventually(
    `mirror pod ${name} running`,
    async () => {
      const mirror = await mirrorPod(cluster, name)
      const status = mirror.status as Json
      const statuses = status.containerStatuses as Json[]
      if (status.phase !== 'Running' || !statuses?.every(s => s.ready === true)) throw new Error(`phase ${String(status.phase)}`)
      return mirror
    },
    {timeoutMs: timeoutMs ?? 15_000},
  )
}

describe('node simulator', () => {
  describe('pure parts', () => {
    it('expands ExecStart= like systemd: $VAR splits into words, braced variables stay one word', () => {
      const env = {A: '--x=1 --y=2', B: 'two words'}
      // eslint-disable-next-line no-template-curly-in-string -- systemd's ${VAR}
      expect(expandCommandLine('/usr/bin/kubelet $A ${B} --z=${B} $UNSET', env)).to.deep.equal({
        argv: ['/usr/bin/kubelet', '--x=1', '--y=2', 'two words', '--z=two words'],
        unset: ['UNSET'],
      })
      expect(parseEnvironmentFile('# c\nKUBELET_KUBEADM_ARGS="--a=1 --b=2"\nX=\'y\'\n')).to.deep.equal({KUBELET_KUBEADM_ARGS: '--a=1 --b=2', X: 'y'})
    })

    it('parses kubelet flags with pflag semantics and refuses removed ones', () => {
      const flags = parseKubeletFlags(['--config', '/c.yaml', '--v=2', '--fail-swap-on', '--pod-manifest-path=/m'], parseGoDuration)
      expect(flags.values.get('config')).to.deep.equal(['/c.yaml'])
      expect(flags.values.get('fail-swap-on')).to.deep.equal(['true'])
      expect(() => parseKubeletFlags(['--network-plugin=cni'], parseGoDuration)).to.throw('unknown flag: --network-plugin')
      expect(() => parseKubeletFlags(['--file-check-frequency=soon'], parseGoDuration)).to.throw('invalid argument "soon" for "--file-check-frequency" flag: time: invalid duration "soon"')
    })

    it('derives the static pod UID from the decoded pod, the node and the file (kubelet-facts §1.5)', () => {
      const a = podFromFile(Buffer.from(pod('p')), 'node1', '/m/p.yaml')
      const reformatted = podFromFile(Buffer.from('# a comment\nkind: Pod\napiVersion: v1\nspec: {containers: [{image: "nginx:1.27", name: main}]}\nmetadata: {name: p}\n'), 'node1', '/m/p.yaml')
      expect(reformatted.uid).to.equal(a.uid).and.to.match(/^[\da-f]{32}$/)
      // an explicit default is part of the decoded (defaulted) pod already
      expect(podFromFile(Buffer.from(pod('p', 'nginx:1.27', '  restartPolicy: Always\n')), 'node1', '/m/p.yaml').uid).to.equal(a.uid)
      expect(podFromFile(Buffer.from(pod('p', 'nginx:1.28')), 'node1', '/m/p.yaml').uid).to.not.equal(a.uid)
      expect(podFromFile(Buffer.from(pod('p')), 'node1', '/m/q.yaml').uid).to.not.equal(a.uid)
      expect(podFromFile(Buffer.from(pod('p')), 'node2', '/m/p.yaml').uid).to.not.equal(a.uid)
      expect(a.fullName).to.equal('default/p-node1')
      expect((a.pod.metadata as Json).annotations).to.deep.equal({'kubernetes.io/config.hash': a.uid})
    })

    it('decodes manifests as the kubelet does: first document, kind Pod, its error texts', () => {
      const fail = (text: string) => {
        try {
          podFromFile(Buffer.from(text), 'node1', '/m/f')
        } catch (error) {
          return (error as Error).message
        }

        throw new Error('decoded')
      }

      // an empty first document fails; comments before the first `---` are no document (YAML, libyaml)
      expect(fail(`---\n# nothing\n---\n${pod('p')}`)).to.equal("/m/f: couldn't parse as pod(Object 'Kind' is missing in 'null'), please check config file")
      expect(podFromFile(Buffer.from(`# comment\n---\n${pod('p')}`), 'node1', '/m/f').fullName).to.equal('default/p-node1')
      expect(fail('')).to.equal("/m/f: couldn't parse as pod(Object 'Kind' is missing in 'null'), please check config file")
      expect(fail('apiVersion: v1\nkind: PodList\nitems: []\n')).to.equal("/m/f: couldn't parse as pod(invalid pod: &core.PodList{...}), please check config file")
      expect(fail('apiVersion: v1\nkind: Pood\nmetadata: {name: x}\n')).to.match(/couldn't parse as pod\(no kind "Pood" is registered for version "v1"/)
      expect(fail('apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: "no"}\n')).to.include('json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []')
      expect(fail(pod('Bad_Name'))).to.match(/^invalid pod: \[metadata\.name: Invalid value: "Bad_Name-node1": a lowercase RFC 1123 subdomain/)
      expect(fail(pod('p', 'nginx', '  restartPolicy: Sometimes\n'))).to.equal('invalid pod: [spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"]')
      expect(fail(pod('p', 'nginx', '  serviceAccountName: default\n'))).to.equal('static pods may not reference serviceaccounts')
      expect(fail(pod('p', 'nginx', '  volumes: [{name: c, configMap: {name: x}}]\n'))).to.equal('static pods may not reference configmaps')
      expect(fail(pod('p', 'nginx', '  volumes: [{name: d, csi: {driver: x}}]\n'))).to.equal('static pods may not reference csidrivers (via CSI volumes)')
      // JSON is YAML; an unknown field is dropped; an explicit uid is the config.hash
      const json = podFromFile(Buffer.from('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j", "uid": "fixed"}, "spec": {"containers": [{"name": "c", "image": "x", "imagePullPolcy": "Never"}]}}'), 'Node1', '/m/j.json')
      expect(json.uid).to.equal('fixed')
      expect(json.fullName).to.equal('default/j-node1')
      expect((json.pod.spec as Json).containers).to.deep.equal([
        {
          image: 'x', imagePullPolicy: 'Always', name: 'c', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
        },
      ])
    })
  })

  describe('sandbox cluster', function () {
    this.timeout(120_000)
    let cluster: Cluster
    let kubeadm: ClusterNode
    let fedora: ClusterNode
    let configFile: ClusterNode
    let docker: ClusterNode

    before(async () => {
      cluster = await startCluster({
        fileCheckFrequency: '1s',
        nodes: [
          {controlPlane: true, layout: 'kubeadm', name: 'node1'},
          {layout: 'fedora', name: 'node2'},
          {layout: 'config-file', name: 'node3'},
          {layout: 'docker', name: 'node4'},
        ],
      });
      [kubeadm, fedora, configFile, docker] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode, ClusterNode]
    })

    after(async () => {
      await cluster?.stop()
    })

    it('registers every node; kubectl get nodes shows them Ready with their roles', async () => {
      const result = await cluster.kubectl(['get', 'nodes'])
      expect(result.code, result.stderr).to.equal(0)
      const lines = result.stdout.trim().split('\n')
      expect(lines[0]).to.match(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/)
      expect(lines.slice(1).map(line => line.split(/\s+/).slice(0, 3))).to.deep.equal([
        ['node1', 'Ready', 'control-plane'],
        ['node2', 'Ready', '<none>'],
        ['node3', 'Ready', '<none>'],
        ['node4', 'Ready', '<none>'],
      ])
      for (const node of cluster.nodes) {
      // eslint-disable-next-line no-await-in-loop
        expect((await sh(node, 'systemctl is-active kubelet')).trim()).to.equal('active')
      }
    })

    it('reads the kubelet unit, drop-ins and env files of each layout (systemctl cat)', async () => {
      expect(await sh(kubeadm, 'systemctl cat kubelet')).to.include('# /etc/systemd/system/kubelet.service.d/10-kubeadm.conf\n').and.include('EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env')
      expect(await sh(fedora, 'systemctl cat kubelet')).to.include('EnvironmentFile=-/etc/kubernetes/kubelet')
      expect(await sh(fedora, 'cat /etc/kubernetes/kubelet')).to.match(/^KUBELET_ARGS=".*--pod-manifest-path=\/etc\/kubelet\.d\/.*"$/m)
      expect(await sh(configFile, 'systemctl show kubelet -p ExecStart --value')).to.include('--config=/etc/kubernetes/kubelet-config.yaml')
      // the shims exist inside the nodes only: the host's own tools are untouched
      expect(await sh(kubeadm, 'for t in systemctl crictl journalctl; do command -v $t; done')).to.equal('/usr/local/sbin/systemctl\n/usr/local/sbin/crictl\n/usr/local/sbin/journalctl\n')
      expect(existsSync('/usr/local/bin/systemctl') || existsSync('/usr/local/sbin/systemctl') || existsSync('/usr/local/bin/crictl')).to.equal(false)
      expect(kubeadm.journalText()).to.include('"Adding static pod path" path="/etc/kubernetes/manifests"')
      expect(fedora.journalText()).to.include('"Adding static pod path" path="/etc/kubelet.d/"')
    })

    it('runs the guide\'s static-web as a mirror pod static-web-node1 with the kubelet\'s annotations, owner and status', async () => {
      await kubeadm.writeManifest('static-web.yaml', STATIC_WEB)
      const mirror = await runningMirror(cluster, 'static-web-node1')
      const meta = mirror.metadata as Json
      const spec = mirror.spec as Json
      const hash = annotations(mirror)['kubernetes.io/config.hash']!
      expect(hash).to.match(/^[\da-f]{32}$/)
      expect(annotations(mirror)).to.include({'kubernetes.io/config.mirror': hash, 'kubernetes.io/config.source': 'file'})
      expect(annotations(mirror)['kubernetes.io/config.seen']).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
      expect(meta.uid).to.not.equal(hash)
      expect(meta.labels).to.deep.equal({role: 'myrole'})
      const node = await kubectlJson(cluster, ['get', 'node', 'node1'])
      expect(meta.ownerReferences).to.deep.equal([{
        apiVersion: 'v1', controller: true, kind: 'Node', name: 'node1', uid: (node.metadata as Json).uid,
      }])
      expect(spec.nodeName).to.equal('node1')
      expect(spec.tolerations).to.deep.include({effect: 'NoExecute', operator: 'Exists'})
      const [status] = (mirror.status as Json).containerStatuses as Json[]
      expect(status).to.include({
        name: 'web', ready: true, restartCount: 0, started: true,
      })
      expect((status!.state as Json).running).to.have.property('startedAt')

      // kubectl get pods (server-side Table), -A, label and field selectors
      const table = await cluster.kubectl(['get', 'pods'])
      expect(table.stdout).to.match(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/)
      expect(table.stdout).to.match(/^static-web-node1\s+1\/1\s+Running\s+0\s+\d+s$/m)
      expect((await cluster.kubectl(['get', 'pods', '-A'])).stdout).to.match(/^default\s+static-web-node1\s+1\/1\s+Running\s+0\s+/m)
      expect((await cluster.kubectl(['get', 'pods', '-A', '-l', 'role=myrole', '-o', 'name'])).stdout.trim()).to.equal('pod/static-web-node1')
      expect((await cluster.kubectl(['get', 'pods', '-A', '--field-selector', 'spec.nodeName=node2', '-o', 'name'])).stdout.trim()).to.not.include('static-web-node1')

      // the node side: crictl shows the container with the kubelet's labels; the pod UID is the config.hash
      const container = (await crictlContainers(kubeadm)).find(c => labelsOf(c)['io.kubernetes.pod.name'] === 'static-web-node1')
      expect(labelsOf(container!)).to.deep.equal({
        'io.kubernetes.container.name': 'web',
        'io.kubernetes.pod.name': 'static-web-node1',
        'io.kubernetes.pod.namespace': 'default',
        'io.kubernetes.pod.uid': hash,
      })
      expect(container).to.include({state: 'CONTAINER_RUNNING'})
      expect(container!.createdAt).to.be.a('string').and.match(/^\d{19}$/)
      expect(Object.keys(container!).slice(0, 4)).to.deep.equal(['id', 'podSandboxId', 'metadata', 'image'])
      const pods = JSON.parse(await sh(kubeadm, 'crictl pods -o json')) as {items: Json[]}
      const sandbox = pods.items.find(item => item.id === container!.podSandboxId)!
      expect(sandbox).to.include({state: 'SANDBOX_READY'})
      expect(sandbox.annotations).to.include({'kubernetes.io/config.hash': hash, 'kubernetes.io/config.source': 'file'})
      const inspect = JSON.parse(await sh(kubeadm, `crictl inspect ${String(container!.id)}`)) as {info: Json; status: Json}
      expect(inspect.status.createdAt).to.match(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/)
      expect(inspect.info.pid).to.be.a('number').and.greaterThan(0)
    })

    it('brings a mirror pod deleted with kubectl back, while the static pod keeps running (guide)', async () => {
      await kubeadm.writeManifest('static-web.yaml', STATIC_WEB) // as the previous test left it (same content, same pod)
      const before = await runningMirror(cluster, 'static-web-node1')
      const container = (await crictlContainers(kubeadm)).find(c => labelsOf(c)['io.kubernetes.pod.name'] === 'static-web-node1')
      const deleted = await cluster.kubectl(['delete', 'pod', 'static-web-node1'])
      expect(deleted.code, deleted.stderr).to.equal(0)
      expect(deleted.stdout).to.equal('pod "static-web-node1" deleted\n')
      const after = await eventually('the mirror pod to come back', async () => {
        const mirror = await mirrorPod(cluster, 'static-web-node1')
        expect((mirror.metadata as Json).uid).to.not.equal((before.metadata as Json).uid)
        return mirror
      })
      expect(annotations(after)['kubernetes.io/config.mirror']).to.equal(annotations(before)['kubernetes.io/config.hash'])
      const same = (await crictlContainers(kubeadm)).find(c => labelsOf(c)['io.kubernetes.pod.name'] === 'static-web-node1')
      expect(same!.id).to.equal(container!.id)
    })

    it('restarts a killed container: restarts 1, last state terminated with exit code 137', async () => {
      await kubeadm.writeManifest('static-web.yaml', STATIC_WEB)
      await runningMirror(cluster, 'static-web-node1')
      const killed = await kubeadm.killContainer('static-web', 'web')
      const restarted = await eventually('a new container', async () => {
        const containers = (await crictlContainers(kubeadm)).filter(c => labelsOf(c)['io.kubernetes.pod.name'] === 'static-web-node1')
        expect(containers).to.have.length(1)
        expect(containers[0]!.id).to.not.equal(killed.id)
        return containers[0]!
      })
      expect(restarted.metadata).to.deep.equal({attempt: 1, name: 'web'})
      const exited = (await crictlContainers(kubeadm, true)).find(c => c.id === killed.id)!
      expect(exited.state).to.equal('CONTAINER_EXITED')
      const mirror = await eventually('the restart in the mirror pod status', async () => {
        const m = await mirrorPod(cluster, 'static-web-node1')
        const [s] = (m.status as Json).containerStatuses as Json[]
        expect(s!.restartCount).to.equal(1)
        return m
      })
      const [status] = (mirror.status as Json).containerStatuses as Json[]
      expect(((status!.lastState as Json).terminated as Json).exitCode).to.equal(137)
      expect((await cluster.kubectl(['get', 'pod', 'static-web-node1'])).stdout).to.match(/static-web-node1\s+1\/1\s+Running\s+1 \(\d+s ago\)/)
      await kubeadm.removeManifest('static-web.yaml')
    })

    it('on a docker node: docker ps --format {{json .}} shows k8s_ containers; docker stop gets the container restarted (guide)', async () => {
      await docker.writeManifest('static-web.yaml', STATIC_WEB)
      const mirror = await runningMirror(cluster, 'static-web-node4')
      const uid = annotations(mirror)['kubernetes.io/config.hash']!
      const lines = (await sh(docker, "docker ps --format '{{json .}}'")).trim().split('\n')
      const rows = lines.map(line => JSON.parse(line) as Record<string, string>)
      const web = rows.find(row => row.Names === `k8s_web_static-web-node4_default_${uid}_0`)!
      expect(rows.some(row => row.Names === `k8s_POD_static-web-node4_default_${uid}_0`)).to.equal(true)
      expect(Object.values(web).every(value => typeof value === 'string')).to.equal(true)
      expect(web.Labels).to.include('io.kubernetes.pod.name=static-web-node4')
      expect(web.State).to.equal('running')
      expect(web.Status).to.match(/^Up /)
      expect(await sh(docker, `docker stop ${web.ID}`)).to.equal(`${web.ID}\n`)
      await eventually('the restarted container', async () => {
        const names = (await sh(docker, "docker ps --format '{{.Names}}'")).split('\n')
        expect(names).to.include(`k8s_web_static-web-node4_default_${uid}_1`)
      })
      expect((await docker.exec(['sh', '-c', 'command -v crictl'])).code).to.not.equal(0)
      await docker.removeManifest('static-web.yaml')
    })

    it('ignores dot files and loads x.yaml.bak as a pod (no extension filter)', async () => {
      await configFile.writeManifest('.hidden.yaml', pod('hidden'))
      await configFile.writeManifest('x.yaml.bak', pod('bak'))
      await runningMirror(cluster, 'bak-node3')
      await sleep(2200) // two relists
      const names = (await crictlContainers(configFile)).map(c => labelsOf(c)['io.kubernetes.pod.name'])
      expect(names).to.include('bak-node3').and.not.include('hidden-node3')
      expect((await cluster.kubectl(['get', 'pod', 'hidden-node3'])).stderr).to.include('pods "hidden-node3" not found')
      await configFile.removeManifest('x.yaml.bak')
      await configFile.removeManifest('.hidden.yaml')
    })

    it('runs one pod for two files defining it: the lexicographically last file wins', async () => {
      await fedora.writeManifest('a.yaml', pod('dup', 'nginx:1.26'))
      await fedora.writeManifest('b.yaml', pod('dup', 'nginx:1.27'))
      await sleep(2200)
      const mirror = await runningMirror(cluster, 'dup-node2')
      expect(((mirror.spec as Json).containers as Json[])[0]!.image).to.equal('nginx:1.27')
      const running = (await crictlContainers(fedora)).filter(c => labelsOf(c)['io.kubernetes.pod.name'] === 'dup-node2')
      expect(running).to.have.length(1)
      expect((running[0]!.image as Json).userSpecifiedImage).to.equal('nginx:1.27')
      await fedora.removeManifest('a.yaml')
      await fedora.removeManifest('b.yaml')
    })

    it('uses only the first of several YAML documents', async () => {
      await fedora.writeManifest('multi.yaml', `${pod('first')}---\n${pod('second')}`)
      await runningMirror(cluster, 'first-node2')
      await sleep(2200)
      const names = (await crictlContainers(fedora)).map(c => labelsOf(c)['io.kubernetes.pod.name'])
      expect(names).to.include('first-node2').and.not.include('second-node2')
      await fedora.removeManifest('multi.yaml')
    })

    it('skips invalid files and subdirectories with the kubelet\'s log lines; the valid pods still run', async () => {
      const dir = configFile.manifestDir
      await configFile.writeManifest('good.yaml', pod('good'))
      await configFile.writeManifest('deployment.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n')
      await configFile.writeManifest('noname.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {}\nspec:\n  containers: [{name: c, image: nginx}]\n')
      await configFile.writeManifest('secret.yaml', pod('sec', 'nginx', '    env: [{name: A, valueFrom: {secretKeyRef: {name: s, key: k}}}]\n'))
      await sh(configFile, `mkdir -p ${dir}/sub`)
      await runningMirror(cluster, 'good-node3')
      await eventually('the log lines', () => {
        const journal = configFile.journalText()
        expect(journal).to.include(`"Could not process manifest file" err="${dir}/deployment.yaml: couldn't parse as pod(invalid pod: &apps.Deployment{...}), please check config file" path="${dir}/deployment.yaml"`)
        expect(journal).to.include(`"Could not process manifest file" err="invalid pod: name is needed for the pod" path="${dir}/noname.yaml"`)
        expect(journal).to.include(`"Could not process manifest file" err="static pods may not reference secrets" path="${dir}/secret.yaml"`)
        expect(journal).to.include(`"Provided manifest path is a directory, not recursing into manifest path" path="${dir}/sub"`)
      })
      expect((await sh(configFile, 'journalctl -u kubelet --no-pager')).trim().split('\n').length).to.be.greaterThan(5)
      const names = (await crictlContainers(configFile)).map(c => labelsOf(c)['io.kubernetes.pod.name'])
      expect(names).to.include('good-node3').and.not.include('sec-node3')
      await sh(configFile, `rm -rf ${dir}/sub ${dir}/good.yaml ${dir}/deployment.yaml ${dir}/noname.yaml ${dir}/secret.yaml`)
    })

    it('changes config.hash when, and only when, the content changes', async () => {
      const containerId = async () => (await crictlContainers(kubeadm)).find(c => labelsOf(c)['io.kubernetes.pod.name'] === 'hashed-node1')?.id
      await kubeadm.writeManifest('hashed.yaml', pod('hashed'))
      const first = await configHash(cluster, 'hashed-node1')
      const container = await containerId()
      // the same content again, then the same pod written differently: same UID, same container
      await kubeadm.writeManifest('hashed.yaml', pod('hashed'))
      await kubeadm.writeManifest('hashed.yaml', '# reformatted\nkind: Pod\napiVersion: v1\nmetadata: {name: hashed}\nspec: {containers: [{name: main, image: "nginx:1.27"}]}\n')
      await sleep(2200)
      expect(await configHash(cluster, 'hashed-node1')).to.equal(first)
      expect(await containerId()).to.equal(container)
      // a different image: a new UID, a new pod
      await kubeadm.writeManifest('hashed.yaml', pod('hashed', 'nginx:1.28'))
      const second = await eventually('a new hash', async () => {
        const hash = await configHash(cluster, 'hashed-node1')
        expect(hash).to.not.equal(first)
        return hash
      })
      await eventually('the new container', async () => expect(await containerId()).to.not.equal(container))
      // the same content under another file name: a new UID too
      await sh(kubeadm, `mv ${kubeadm.manifestDir}/hashed.yaml ${kubeadm.manifestDir}/renamed.yaml`)
      await eventually('a new hash after the rename', async () => {
        const hash = await configHash(cluster, 'hashed-node1')
        expect(hash).to.not.equal(second).and.not.equal(first)
      })
      await kubeadm.removeManifest('renamed.yaml')
    })

    it('leaves the kubelet unhealthy after a bad flag, with the reason in its journal; containers keep running', async () => {
      await kubeadm.writeManifest('survivor.yaml', pod('survivor'))
      await runningMirror(cluster, 'survivor-node1')
      await sh(kubeadm, 'echo \'KUBELET_EXTRA_ARGS="--bogus-flag=1"\' > /etc/default/kubelet && systemctl restart kubelet')
      try {
      // Type=simple: `active` as soon as it is forked, until the kubelet exits a moment later.
        const state = await eventually('the kubelet to fail', async () => {
          const result = await kubeadm.exec(['systemctl', 'is-active', 'kubelet'])
          expect(result.stdout.trim()).to.be.oneOf(['activating', 'failed'])
          return result
        })
        expect(state.code).to.equal(3)
        expect(await httpStatus(kubeadm.healthzUrl)).to.equal('refused')
        expect(await sh(kubeadm, 'journalctl -u kubelet -n 5 --no-pager')).to.match(/kubelet\[\d+\]: E\d{4} [\d:.]+ +\d+ run\.go:\d+\] "command failed" err="failed to parse kubelet flag: unknown flag: --bogus-flag"/)
        expect(kubeadm.journalText()).to.include('kubelet.service: Main process exited, code=exited, status=1/FAILURE')
        const names = (await crictlContainers(kubeadm)).map(c => labelsOf(c)['io.kubernetes.pod.name'])
        expect(names).to.include('survivor-node1')
      } finally {
        await sh(kubeadm, 'echo \'KUBELET_EXTRA_ARGS=\' > /etc/default/kubelet && systemctl restart kubelet')
      }

      await kubeadm.waitHealthy()
      expect((await sh(kubeadm, 'systemctl is-active kubelet')).trim()).to.equal('active')
      // the restarted kubelet adopts the running container instead of starting another
      await sleep(1500)
      const survivors = (await crictlContainers(kubeadm, true)).filter(c => labelsOf(c)['io.kubernetes.pod.name'] === 'survivor-node1')
      expect(survivors.map(c => (c.metadata as Json).attempt)).to.deep.equal([0])
      await kubeadm.removeManifest('survivor.yaml')
    })

    it('fails to start on an invalid KubeletConfiguration, logging the decode error', async () => {
      const config = '/etc/kubernetes/kubelet-config.yaml'
      await sh(configFile, `cp ${config} /root/config.good && sed -i 's/^healthzPort: 10248/healthzPort: "10248"/' ${config} && systemctl restart kubelet`)
      try {
        await eventually('the kubelet to fail', async () => expect((await configFile.exec(['systemctl', 'is-active', 'kubelet'])).code).to.equal(3))
        expect(configFile.journalText()).to.include(`"command failed" err="failed to load kubelet config file, path: ${config}, error: failed to load Kubelet config file ${config}, error failed to decode: json: cannot unmarshal string into Go struct field KubeletConfiguration.healthzPort of type int32"`)
      } finally {
        await sh(configFile, `cp /root/config.good ${config} && systemctl restart kubelet`)
      }

      await configFile.waitHealthy()
    })

    it('polls the manifest URL (staticPodURL + headers) after a config edit and a restart', async () => {
      let received: IncomingHttpHeaders | undefined
      const server: Server = createServer((req, res) => {
        received = req.headers
        res.writeHead(200, {'content-type': 'application/yaml'})
        res.end(pod('from-url'))
      })
      await new Promise<void>(resolve => {
        server.listen(0, '127.0.0.1', resolve)
      })
      const {port} = server.address() as AddressInfo
      const config = '/etc/kubernetes/kubelet-config.yaml'
      try {
        await sh(
          configFile,
          `cp ${config} /root/config.good && printf 'staticPodURL: http://127.0.0.1:${port}/pod.yaml\\nstaticPodURLHeader:\\n  X-Token: [secret]\\nhttpCheckFrequency: 1s\\n' >> ${config} && systemctl restart kubelet`,
        )
        const mirror = await runningMirror(cluster, 'from-url-node3')
        expect(annotations(mirror)['kubernetes.io/config.source']).to.equal('http')
        expect(received?.['x-token']).to.equal('secret')
        expect(configFile.journalText()).to.match(/"Adding pod URL with HTTP header" URL="http:\/\/127\.0\.0\.1:\d+\/pod\.yaml" header=map\[X-Token:\[<masked>]]/)
      } finally {
        await sh(configFile, `cp /root/config.good ${config} && systemctl restart kubelet`)
        server.close()
      }

      await eventually('the HTTP pod to go', async () => {
        expect((await cluster.kubectl(['get', 'pod', 'from-url-node3'])).stderr).to.include('not found')
      })
    })

    it('keeps container logs in CRI format behind crictl logs [--previous] [--tail N] and docker logs', async () => {
      const logger = `apiVersion: v1
kind: Pod
metadata: {name: logger}
spec:
  containers:
  - name: talk
    image: busybox:1.36
    command: [sh, -c, 'echo hello; echo oops >&2; echo "run $$"; exec sleep 3600']
`
      await kubeadm.writeManifest('logger.yaml', logger)
      await runningMirror(cluster, 'logger-node1')
      const first = (await crictlContainers(kubeadm)).find(c => labelsOf(c)['io.kubernetes.pod.name'] === 'logger-node1')!
      const firstLogs = await eventually('the first lines', async () => {
        const result = await kubeadm.exec(['crictl', 'logs', String(first.id)])
        expect(result.stdout).to.match(/^hello\nrun \d+\n$/)
        expect(result.stderr).to.equal('oops\n')
        return result.stdout
      })
      const inspect = JSON.parse(await sh(kubeadm, `crictl inspect ${String(first.id)}`)) as {status: Json}
      const logPath = String(inspect.status.logPath)
      expect(logPath).to.match(/^\/var\/log\/pods\/default_logger-node1_[\da-f]{32}\/talk\/0\.log$/)
      expect(await sh(kubeadm, `cat ${logPath}`)).to.match(/^\d{4}-\d\d-\d\dT[\d:.]+Z stdout F hello\n/)
      await kubeadm.killContainer('logger', 'talk', 'SIGTERM')
      const second = await eventually('the restarted container', async () => {
        const c = (await crictlContainers(kubeadm)).find(x => labelsOf(x)['io.kubernetes.pod.name'] === 'logger-node1')
        expect(c?.id).to.be.a('string').and.not.equal(first.id)
        return c!
      })
      await eventually('its own lines', async () => {
        const lines = (await sh(kubeadm, `crictl logs ${String(second.id)} 2>&1`)).trim().split('\n').sort()
        expect(lines).to.have.length(3)
        expect(lines.slice(0, 2)).to.deep.equal(['hello', 'oops'])
        expect(lines[2]).to.match(/^run \d+$/).and.not.equal(firstLogs.split('\n')[1])
      })
      expect((await sh(kubeadm, `crictl logs --tail 1 ${String(second.id)} 2>&1`)).split('\n')).to.have.length(2)
      expect(await sh(kubeadm, `crictl logs --previous ${String(second.id)} 2>/dev/null`)).to.equal(firstLogs)
      // kubectl logs: the API server has the node's kubelet serve the same files
      const kubectlLogs = await cluster.kubectl(['logs', 'logger-node1', '--previous'])
      expect(kubectlLogs.stdout.trim().split('\n').sort()).to.deep.equal([...firstLogs.trim().split('\n'), 'oops'].sort())
      expect((await cluster.kubectl(['logs', 'logger-node1', '--tail=1'])).stdout.split('\n')).to.have.length(2)
      const previous = await kubeadm.exec(['crictl', 'logs', '--previous', String(first.id)])
      expect(previous.code).to.equal(1)
      await kubeadm.removeManifest('logger.yaml')

      await docker.writeManifest('logger.yaml', logger)
      await runningMirror(cluster, 'logger-node4')
      const name = (await sh(docker, "docker ps --filter name=k8s_talk_logger-node4 --format '{{.Names}}'")).trim()
      await eventually('docker logs', async () => {
        const lines = (await sh(docker, `docker logs ${name} 2>&1`)).trim().split('\n').sort()
        expect(lines).to.have.length(3)
        expect(lines.slice(0, 2)).to.deep.equal(['hello', 'oops'])
      })
      await docker.removeManifest('logger.yaml')
    })

    it('keeps a pod whose file turns invalid until the next relist removes it; skips a file over 10 MiB', async () => {
      await fedora.writeManifest('turns-bad.yaml', pod('turns-bad'))
      await runningMirror(cluster, 'turns-bad-node2')
      await fedora.writeManifest('turns-bad.yaml', 'kind: Pod\nmetadata:\n  name: turns-bad\n')
      await eventually('the relist to remove the pod', async () => {
        const names = (await crictlContainers(fedora)).map(c => labelsOf(c)['io.kubernetes.pod.name'])
        expect(names).to.not.include('turns-bad-node2')
      })
      const journal = fedora.journalText()
      // inotify saw the write first and failed; the relist then dropped the pod
      expect(journal).to.include(String.raw`"Unable to process watch event" err="can't process config file \"/etc/kubelet.d/turns-bad.yaml\": /etc/kubelet.d/turns-bad.yaml: couldn't parse as pod(Object 'apiVersion' is missing in`)
      expect(journal).to.include('"SyncLoop REMOVE" source="file" pods=["default/turns-bad-node2"]')
      await fedora.removeManifest('turns-bad.yaml')

      const big = `${pod('big')}# ${'x'.repeat(10 * 1024 * 1024)}\n`
      await fedora.writeManifest('big.yaml', big)
      await eventually('the read limit', () => expect(fedora.journalText()).to.include('"Could not process manifest file" err="the read limit is reached" path="/etc/kubelet.d/big.yaml"'))
      await fedora.removeManifest('big.yaml')
    })

    it('wants a daemon-reload before a changed drop-in counts (systemctl status warns)', async () => {
      const dropIn = '/etc/systemd/system/kubelet.service.d/20-extra.conf'
      await sh(kubeadm, `printf '[Service]\\nEnvironment="KUBELET_EXTRA_ARGS=--v=2"\\n' > ${dropIn}`)
      try {
        const status = await kubeadm.exec(['systemctl', 'status', 'kubelet'])
        expect(status.stdout).to.include("Warning: The unit file, source configuration file or drop-ins of kubelet.service changed on disk. Run 'systemctl daemon-reload' to reload units.")
        await sh(kubeadm, 'systemctl daemon-reload')
        const reloaded = await sh(kubeadm, 'systemctl status kubelet')
        expect(reloaded).to.not.include('changed on disk')
        expect(reloaded).to.include('└─10-kubeadm.conf, 20-extra.conf')
        expect(await sh(kubeadm, 'systemctl show kubelet -p DropInPaths --value')).to.include(dropIn)
      } finally {
        await sh(kubeadm, `rm -f ${dropIn} && systemctl daemon-reload`)
      }
    })
  })
})
