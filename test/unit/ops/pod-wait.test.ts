// add --wait: what counts as "the kubelet runs the new pod", seen from the API server's mirror pod or
// from the node's runtime, and the polling loop around it.
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import type {MirrorPod} from '../../../src/cluster/mirror-pods.js'

import {
  mirrorSight, type PodSight, type PodWatcher, runtimeSight, settled, waitForPods, type WaitTarget, waitTarget,
} from '../../../src/ops/pod-wait.js'
import {parseCrictlPs, type RuntimeContainer} from '../../../src/runtime/containers.js'
import {FIXTURES} from '../../helpers/fixtures.js'

const WEB: WaitTarget = {containers: ['web'], expectChange: true, pod: {name: 'static-web', namespace: 'default'}}
const CRICTL = parseCrictlPs(readFileSync(path.join(FIXTURES, 'runtime', 'crictl-ps-running-restarted-and-crashing.json'), 'utf8'))
const WEB_UID = CRICTL.find(c => c.podName === 'static-web-my-node1')!.podUid

function mirror(overrides: Partial<MirrorPod> = {}): MirrorPod {
  return {
    configHash: 'h2',
    configMirror: 'h2',
    containers: [{
      name: 'web', ready: true, restartCount: 0, state: 'running',
    }],
    name: 'static-web-my-node1',
    namespace: 'default',
    phase: 'Running',
    ready: true,
    uid: 'api-uid',
    ...overrides,
  }
}

/** A watcher that answers from a script, one answer per look. */
function scripted(answers: Array<Partial<PodSight>>): PodWatcher & {looks: number} {
  const watcher = {
    async look(targets: readonly WaitTarget[]) {
      const answer = answers[Math.min(watcher.looks++, answers.length - 1)]!
      return new Map(targets.map(t => [`${t.pod.namespace}/${t.pod.name}`, {running: false, state: 'starting', ...answer}]))
    },
    looks: 0,
    method: 'crictl' as const,
  }
  return watcher
}

describe('pod wait', () => {
  describe('mirrorSight', () => {
    it('is running when the phase is Running and every container of the manifest runs', () => {
      expect(mirrorSight(mirror(), WEB)).to.deep.equal({hash: 'h2', running: true, state: 'Running: web running, restarts 0'})
    })

    it('is not running while a container waits, and says why', () => {
      const sight = mirrorSight(mirror({
        containers: [{
          name: 'web', ready: false, reason: 'CrashLoopBackOff', restartCount: 3, state: 'waiting',
        }],
      }), WEB)
      expect(sight).to.deep.equal({hash: 'h2', running: false, state: 'Running: web waiting (CrashLoopBackOff), restarts 3'})
    })

    it('is not running when a container of the manifest has no status yet', () => {
      expect(mirrorSight(mirror({containers: [], phase: 'Pending'}), WEB)).to.include({running: false, state: 'Pending: web not started'})
    })
  })

  describe('runtimeSight', () => {
    it('finds the static pod by its mirror name, with the config hash as pod uid', () => {
      expect(runtimeSight(CRICTL, WEB, 'my-node1')).to.deep.equal({hash: WEB_UID, running: true, state: 'web running, restarts 1'})
    })

    it('says when the runtime has no container of the pod', () => {
      expect(runtimeSight(CRICTL, WEB, 'other-node')).to.deep.equal({running: false, state: 'no container of static-web-other-node yet'})
    })

    it('looks at the new instance, not the old one still running, once the new one runs', () => {
      const old = CRICTL.filter(c => c.podName === 'static-web-my-node1')
      const fresh: RuntimeContainer[] = old.map(c => ({
        ...c, createdAt: '2026-11-30T01:00:00.000Z', id: `new${c.id}`, podUid: 'newhash',
      }))
      // The new instance created but not yet running: the old one is what runs.
      const starting = fresh.map(c => ({...c, state: 'created' as const}))
      expect(runtimeSight([...old, ...starting], WEB, 'my-node1', WEB_UID)).to.include({hash: 'newhash', running: false})
      expect(runtimeSight([...old, ...fresh], WEB, 'my-node1', WEB_UID)).to.include({hash: 'newhash', running: true})
    })

    it('keeps to the running instance when the new one is gone', () => {
      const oldDead: RuntimeContainer[] = CRICTL.filter(c => c.podName === 'static-web-my-node1').map(c => ({...c, podUid: 'older', state: 'exited' as const}))
      expect(runtimeSight([...CRICTL, ...oldDead], WEB, 'my-node1', 'older')).to.include({hash: WEB_UID, running: true})
    })
  })

  describe('settled', () => {
    const up: PodSight = {hash: 'h2', running: true, state: ''}

    it('needs a running pod under another hash than before', () => {
      expect(settled(up, WEB, 'h1')).to.equal(true)
      expect(settled(up, WEB, 'h2')).to.equal(false)
      expect(settled(up, WEB)).to.equal(true)
      expect(settled({...up, running: false}, WEB, 'h1')).to.equal(false)
      expect(settled({running: true, state: ''}, WEB)).to.equal(false)
    })

    it('needs only a running pod when no change of hash is expected', () => {
      expect(settled(up, {...WEB, expectChange: false}, 'h2')).to.equal(true)
    })
  })

  describe('waitTarget', () => {
    const v1 = Buffer.from('apiVersion: v1\nkind: Pod\nmetadata:\n  name: static-web\nspec:\n  containers:\n    - name: web\n      image: nginx\n    - name: side\n      image: busybox\n')
    const pod = {name: 'static-web', namespace: 'default'}

    it('waits for every regular container of the manifest', () => {
      expect(waitTarget(pod, v1, undefined, true)).to.deep.equal({containers: ['web', 'side'], expectChange: true, pod})
    })

    it('expects no new hash when only comments, layout or key order changed, or nothing did', () => {
      const relaid = Buffer.from('# a comment\nkind: Pod\napiVersion: v1\nmetadata: {name: static-web}\nspec:\n  containers: [{image: nginx, name: web}, {name: side, image: busybox}]\n')
      expect(waitTarget(pod, relaid, v1, true).expectChange).to.equal(false)
      expect(waitTarget(pod, v1, v1, false).expectChange).to.equal(false)
      expect(waitTarget(pod, Buffer.from(v1.toString().replace('nginx', 'nginx:1.27')), v1, true).expectChange).to.equal(true)
    })
  })

  describe('waitForPods', () => {
    it('polls until the pod runs under a new hash', async () => {
      const watcher = scripted([{hash: 'h1', running: true}, {hash: 'h2', running: false}, {hash: 'h2', running: true, state: 'web running'}])
      let clock = 0
      const result = await waitForPods(watcher, [WEB], new Map([['default/static-web', 'h1']]), {
        intervalMs: 1, nodeName: 'n1', now: () => clock++, timeoutMs: 60_000,
      })
      expect(watcher.looks).to.equal(3)
      expect(result.method).to.equal('crictl')
      expect(result.pods).to.have.length(1)
      expect(result.pods[0]).to.deep.include({
        hashAfter: 'h2', hashBefore: 'h1', mirror: 'static-web-n1', ok: true, pod: 'default/static-web', state: 'web running',
      })
    })

    it('gives up at the deadline with the last state seen', async () => {
      const watcher = scripted([{hash: 'h1', running: true, state: 'old one running'}])
      let clock = 0
      const result = await waitForPods(watcher, [WEB], new Map([['default/static-web', 'h1']]), {
        nodeName: 'n1', now() {
          clock += 1000
          return clock
        }, timeoutMs: 2500,
      })
      expect(result.pods[0]).to.deep.include({hashAfter: 'h1', ok: false, state: 'old one running'})
    })

    it('keeps polling through a failed look, and reports its error as the state', async () => {
      const watcher: PodWatcher = {
        async look() {
          throw new Error('crictl: connection refused')
        },
        method: 'crictl',
      }
      let clock = 0
      const result = await waitForPods(watcher, [WEB], new Map(), {
        nodeName: 'n1', now() {
          clock += 1000
          return clock
        }, timeoutMs: 1500,
      })
      expect(result.pods[0]).to.deep.include({ok: false, state: 'crictl: connection refused'})
    })
  })
})
