// The container runtime's view of a node: crictl's JSON and docker's template output, as captured
// from the simulator (test/simulator: a node with crictl, a docker node with cri-dockerd), plus an
// older crictl's shape (kubelet-facts §5.1: fewer image fields).
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {
  containersOfPod, dockerState, latestContainers, parseCrictlPs, parseDockerPs, RuntimeOutputError,
} from '../../../src/runtime/containers.js'
import {FIXTURES} from '../../helpers/fixtures.js'

const fixture = (name: string): string => readFileSync(path.join(FIXTURES, 'runtime', name), 'utf8')

describe('runtime containers', () => {
  describe('parseCrictlPs', () => {
    const containers = parseCrictlPs(fixture('crictl-ps-running-restarted-and-crashing.json'))

    it('reads every container with the kubelet labels', () => {
      expect(containers).to.have.length(4)
      const web = containers.filter(c => c.podName === 'static-web-my-node1')
      expect(web.map(c => c.name)).to.deep.equal(['web', 'web'])
      for (const c of web) {
        expect(c.podNamespace).to.equal('default')
        expect(c.podUid).to.match(/^[\da-f]{32}$/)
        expect(c.id).to.match(/^[\da-f]{64}$/)
      }
    })

    it('maps the CRI states and the attempt to restarts', () => {
      const web = containers.filter(c => c.podName === 'static-web-my-node1')
      expect(web.map(c => [c.state, c.restarts]).sort()).to.deep.equal([['exited', 0], ['running', 1]])
      const main = containers.filter(c => c.name === 'main').map(c => c.state)
      expect(main).to.include('exited')
      expect(main).to.not.include('running')
    })

    it('turns createdAt (int64 nanoseconds as a string) into ISO 8601', () => {
      for (const c of containers) expect(c.createdAt).to.match(/^2026-11-30T00:\d\d:\d\d\.\d{3}Z$/)
    })

    it('prefers the image the pod spec named over the image id', () => {
      expect(containers.find(c => c.name === 'web')?.image).to.equal('nginx')
      expect(containers.find(c => c.name === 'side')?.image).to.equal('busybox:1.36')
    })

    it('reads an older crictl without userSpecifiedImage or imageId', () => {
      const [c] = parseCrictlPs(fixture('crictl-ps-older-crictl-fewer-fields.json'))
      expect(c).to.deep.equal({
        createdAt: '2024-04-05T19:34:38.901Z',
        id: '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9',
        image: 'registry.k8s.io/kube-apiserver:v1.28.4',
        name: 'kube-apiserver',
        podName: 'kube-apiserver-cp-1',
        podNamespace: 'kube-system',
        podUid: '5d6c1a8a3bd2ff4c9b7d2e7a1f0c3e11',
        restarts: 3,
        state: 'exited',
      })
    })

    it('reads a node without containers', () => {
      expect(parseCrictlPs(fixture('crictl-ps-no-containers.json'))).to.deep.equal([])
    })

    it('refuses what is not a container listing', () => {
      expect(() => parseCrictlPs(fixture('invalid-crictl-ps-not-json.txt'))).to.throw(RuntimeOutputError, /crictl: not JSON/)
      expect(() => parseCrictlPs('{"containers": {}}')).to.throw(RuntimeOutputError, /no "containers" list/)
      expect(() => parseCrictlPs('{"containers": [{"state": "CONTAINER_RUNNING"}]}')).to.throw(RuntimeOutputError, /container 0 has no id/)
    })

    it('refuses a pod listing (`crictl pods -o json`)', () => {
      expect(() => parseCrictlPs(fixture('invalid-crictl-ps-pods-listing.json'))).to.throw(RuntimeOutputError, /no "containers" list/)
    })
  })

  describe('parseDockerPs', () => {
    const containers = parseDockerPs(fixture('docker-ps-running-restarted-and-crashing.txt'))

    it('reads the kubelet containers, not the sandboxes', () => {
      expect(containers).to.have.length(4)
      expect(containers.map(c => c.name).sort()).to.deep.equal(['main', 'side', 'web', 'web'])
      expect(containers.every(c => c.id.length === 64)).to.equal(true)
    })

    it('reads the labels, restart count and state', () => {
      const web = containers.filter(c => c.podName === 'static-web-node4')
      expect(web.map(c => [c.state, c.restarts]).sort()).to.deep.equal([['exited', 0], ['running', 1]])
      expect(web[0]!.podNamespace).to.equal('default')
      expect(web[0]!.podUid).to.equal('a35a1e2115b8b23beb8141c88f5c60c2')
      expect(containers.find(c => c.name === 'main')).to.include({restarts: 2, state: 'exited'})
    })

    it('turns CreatedAt (Go time.String) into ISO 8601', () => {
      expect(containers[0]!.createdAt).to.equal('2026-11-30T00:24:39.000Z')
    })

    it('refuses docker\'s {{json .}} lines (not the template it asked for)', () => {
      expect(() => parseDockerPs(fixture('invalid-docker-ps-json-format.txt'))).to.throw(RuntimeOutputError, /expected 9 tab-separated fields, got 1/)
    })

    it('reads docker\'s Status words', () => {
      expect(dockerState('Up 2 hours')).to.equal('running')
      expect(dockerState('Up 5 seconds (Paused)')).to.equal('unknown')
      expect(dockerState('Exited (137) 5 seconds ago')).to.equal('exited')
      expect(dockerState('Created')).to.equal('created')
      expect(dockerState('Restarting (1) 2 seconds ago')).to.equal('unknown')
    })
  })

  describe('containersOfPod and latestContainers', () => {
    const containers = parseCrictlPs(fixture('crictl-ps-running-restarted-and-crashing.json'))

    it('keeps the running container over the dead one it replaced', () => {
      const web = latestContainers(containersOfPod(containers, 'static-web-my-node1', 'default'))
      expect(web).to.have.length(1)
      expect(web[0]).to.include({restarts: 1, state: 'running'})
    })

    it('keeps the newest attempt of a crashing container', () => {
      const crasher = latestContainers(containersOfPod(containers, 'crasher-my-node1', 'kube-system'))
      expect(crasher.map(c => [c.name, c.state, c.restarts]).sort()).to.deep.equal([['main', 'exited', 2], ['side', 'running', 0]])
    })

    it('matches the namespace too', () => {
      expect(containersOfPod(containers, 'static-web-my-node1', 'kube-system')).to.deep.equal([])
    })
  })
})
