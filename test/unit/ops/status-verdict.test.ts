import {expect} from 'chai'

import type {MirrorPod} from '../../../src/cluster/mirror-pods.js'
import type {RuntimeContainer} from '../../../src/runtime/containers.js'

import {currentContainers, podVerdict, type VerdictInput} from '../../../src/ops/status-verdict.js'

const HASH = 'a'.repeat(32)
const OLD = 'b'.repeat(32)

function container(name: string, state: RuntimeContainer['state'], extra: Partial<RuntimeContainer> = {}): RuntimeContainer {
  return {
    createdAt: '2026-01-01T00:00:10.000Z', id: `${name}-${state}-${extra.restarts ?? 0}`, image: 'nginx', name, podName: 'web-node1', podNamespace: 'default', podUid: HASH, restarts: 0, state, ...extra,
  }
}

function mirror(extra: Partial<MirrorPod> = {}): MirrorPod {
  return {
    configHash: HASH, configMirror: HASH, containers: [{
      name: 'web', ready: true, restartCount: 0, state: 'running',
    }], name: 'web-node1', namespace: 'default', phase: 'Running', ready: true, uid: 'u', ...extra,
  }
}

const valid = {containers: ['web'], initContainers: [], status: 'valid'} as const

function verdict(input: Partial<VerdictInput>): {reason?: string; verdict: string} {
  const {reason, verdict: v} = podVerdict({api: 'ok', namespace: 'default', ...input})
  return reason === undefined ? {verdict: v} : {reason, verdict: v}
}

describe('status verdict', () => {
  it('running: file, running containers and a mirror pod of the same hash', () => {
    expect(verdict({containers: [container('web', 'running')], file: valid, mirror: mirror()})).to.deep.equal({verdict: 'running'})
  })

  it('running without a kubeconfig, or with an API server that did not answer: the mirror pod is not needed', () => {
    for (const api of ['none', 'error'] as const) {
      expect(verdict({api, containers: [container('web', 'running')], file: valid})).to.deep.equal({verdict: 'running'})
    }
  })

  it('pending: an init container still runs', () => {
    const file = {containers: ['web'], initContainers: ['setup'], status: 'valid'} as const
    expect(verdict({containers: [container('setup', 'running')], file, mirror: mirror({phase: 'Pending', ready: false})}))
    .to.deep.equal({reason: 'init container setup is running', verdict: 'pending'})
  })

  it('pending: one of two containers is not running yet', () => {
    const file = {containers: ['web', 'side'], status: 'valid'} as const
    expect(verdict({containers: [container('web', 'running'), container('side', 'created')], file, mirror: mirror()}))
    .to.deep.equal({reason: 'not running yet: side', verdict: 'pending'})
  })

  it('pending: the mirror pod exists but no container has started', () => {
    expect(verdict({containers: [], file: valid, mirror: mirror({phase: 'Pending'})}).verdict).to.equal('pending')
  })

  it('pending: the containers are of another version than the mirror pod (the kubelet is switching)', () => {
    expect(verdict({containers: [container('web', 'running', {podUid: OLD})], file: valid, mirror: mirror()}).verdict).to.equal('pending')
  })

  it('crash-looping: the container exited after restarts', () => {
    expect(verdict({api: 'none', containers: [container('web', 'exited', {restarts: 3})], file: valid}))
    .to.deep.equal({reason: 'container web is exited after 3 restarts', verdict: 'crash-looping'})
  })

  it('crash-looping: the mirror pod says CrashLoopBackOff even while a new attempt runs', () => {
    const m = mirror({
      containers: [{
        name: 'web', ready: false, reason: 'CrashLoopBackOff', restartCount: 4, state: 'waiting',
      }],
    })
    expect(verdict({containers: [container('web', 'running', {restarts: 5})], file: valid, mirror: m}).verdict).to.equal('crash-looping')
  })

  it('crash-looping wins over mirror missing', () => {
    expect(verdict({containers: [container('web', 'exited', {restarts: 1})], file: valid}).verdict).to.equal('crash-looping')
  })

  it('file only: an invalid file, with the validator\'s reason', () => {
    const file = {reason: 'the kubelet would refuse it: static pods may not reference secrets', status: 'invalid'} as const
    expect(verdict({containers: [], file})).to.deep.equal({reason: file.reason, verdict: 'file-only'})
  })

  it('file only: a valid file the kubelet has not started, with its own reason when known', () => {
    expect(verdict({containers: [], file: valid}).verdict).to.equal('file-only')
    expect(verdict({containers: [], file: valid, kubeletReason: 'Could not process manifest file'}))
    .to.deep.equal({reason: 'the kubelet says: Could not process manifest file', verdict: 'file-only'})
  })

  it('pending, not file only: the kubelet\'s log says it took the pod (no API server to ask, no container yet)', () => {
    expect(verdict({
      api: 'none', containers: [], file: valid, kubeletLoaded: true,
    }).verdict).to.equal('pending')
    const refused = {reason: 'cannot be parsed', status: 'error'} as const
    expect(verdict({
      api: 'none', containers: [], file: refused, kubeletLoaded: true,
    }).verdict).to.equal('file-only')
  })

  it('file only: exited containers of an earlier version do not make an invalid file run', () => {
    const file = {reason: 'cannot be parsed', status: 'error'} as const
    expect(verdict({containers: [container('web', 'exited')], file}).verdict).to.equal('file-only')
  })

  it('mirror missing: containers run, the API server answered, no mirror pod; the cause when it is known', () => {
    const containers = [container('web', 'running')]
    expect(verdict({
      containers, file: valid, mirrorFacts: {namespaceExists: false, nodeName: 'node1', nodeRegistered: true}, namespace: 'ghost',
    }))
    .to.deep.equal({reason: 'namespace "ghost" does not exist: the API server refuses the mirror pod', verdict: 'mirror-missing'})
    expect(verdict({containers, file: valid, mirrorFacts: {nodeName: 'node1', nodeRegistered: false}}).reason).to.match(/^no Node "node1" in the API server/)
    expect(verdict({containers, file: valid}).reason).to.match(/may not reference API objects/)
    const refs = {containers: ['web'], reason: 'the kubelet would refuse it: static pods may not reference serviceaccounts', status: 'invalid'} as const
    expect(verdict({containers, file: refs, mirrorFacts: {namespaceExists: true, nodeRegistered: true}}).reason).to.match(/refuses the mirror pod of such a spec: .*serviceaccounts/)
  })

  it('orphan: containers and/or a mirror pod without a file', () => {
    expect(verdict({containers: [container('web', 'running')], mirror: mirror()}).reason).to.match(/is the kubelet running/)
    expect(verdict({containers: [container('web', 'running')]}).verdict).to.equal('orphan')
    expect(verdict({containers: [], mirror: mirror()}).verdict).to.equal('orphan')
  })

  it('unknown: the runtime could not be asked and there is no mirror pod', () => {
    expect(verdict({file: valid}).verdict).to.equal('unknown')
    expect(verdict({file: valid, mirror: mirror()}).verdict).to.equal('running')
  })

  it('completed and failed: what the mirror pod says of a pod that does not restart', () => {
    expect(verdict({containers: [container('web', 'exited')], file: valid, mirror: mirror({phase: 'Succeeded'})}).verdict).to.equal('completed')
    expect(verdict({containers: [container('web', 'exited')], file: valid, mirror: mirror({phase: 'Failed'})}).verdict).to.equal('failed')
  })

  it('still running an earlier version of a file that is refused now', () => {
    const file = {containers: ['web'], reason: 'the kubelet would refuse it: x', status: 'invalid'} as const
    expect(verdict({containers: [container('web', 'running')], file, mirror: mirror()}).reason).to.match(/^still running an earlier version/)
  })

  describe('current containers', () => {
    it('the mirror pod\'s hash picks the version; the newest of each container name', () => {
      const old = container('web', 'running', {createdAt: '2026-01-01T00:00:20.000Z', podUid: OLD})
      const dead = container('web', 'exited', {restarts: 0})
      const live = container('web', 'running', {restarts: 1})
      expect(currentContainers([old, dead, live], mirror()).map(c => c.id)).to.deep.equal([live.id])
      expect(currentContainers([old, dead, live]).map(c => c.id)).to.deep.equal([old.id])
    })
  })
})
