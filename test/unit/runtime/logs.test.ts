import {expect} from 'chai'

import {UserError} from '../../../src/errors.js'
import {
  pickContainer, type PodOnNode, previousInstance, reorder,
} from '../../../src/ops/logs.js'
import {formatLogLine} from '../../../src/output/logs.js'
import {type RuntimeContainer} from '../../../src/runtime/containers.js'
import {
  logsArgv, parseLogLine, parseLogOutput, timeKey,
} from '../../../src/runtime/logs.js'

function c(name: string, restarts: number, state: RuntimeContainer['state'], extra: Partial<RuntimeContainer> = {}): RuntimeContainer {
  return {
    id: `${name}-${restarts}`, image: 'busybox', name, podName: 'web-node1', podNamespace: 'default', podUid: 'u1', restarts, state, ...extra,
  }
}

function error(fn: () => unknown): UserError {
  try {
    fn()
  } catch (error_) {
    return error_ as UserError
  }

  throw new Error('did not throw')
}

describe('container logs', () => {
  describe('logsArgv', () => {
    it('always asks for timestamps; --previous only for crictl; --since as a Go duration', () => {
      expect(logsArgv('crictl', 'abc', {previous: true, sinceMs: 90_000, tail: 5})).to.deep.equal(['crictl', 'logs', '--timestamps', '--previous', '--tail', '5', '--since', '90000ms', 'abc'])
      expect(logsArgv('docker', 'abc', {follow: true, previous: true})).to.deep.equal(['docker', 'logs', '--timestamps', '--follow', 'abc'])
    })
  })

  describe('parseLogOutput', () => {
    // What `crictl logs -t` prints: the container's stdout lines on stdout, its stderr lines on stderr.
    const stdout = '2026-11-30T00:00:01.1Z out 0\n2026-11-30T00:00:01.3Z out 1\n2026-11-30T00:00:02Z out 2\n'
    const stderr = 'WARN[0000] runtime connect using default endpoints: [unix:///run/containerd/containerd.sock]. As the default settings are now deprecated, you should set the endpoint instead.\ntime="2026-11-30T00:00:05Z" level=warning msg="something else"\n2026-11-30T00:00:01.15Z err 0\n2026-11-30T00:00:01.300000001Z err 1\n'

    it('merges both streams in the order written and keeps the CLI\'s own messages apart', () => {
      const {lines, messages} = parseLogOutput(stdout, stderr)
      expect(lines.map(line => line.text)).to.deep.equal(['out 0', 'err 0', 'out 1', 'err 1', 'out 2'])
      expect(lines[1]).to.deep.equal({stream: 'stderr', text: 'err 0', time: '2026-11-30T00:00:01.15Z'})
      // crictl's default-endpoint warning (every call on a node without /etc/crictl.yaml) is left out.
      expect(messages).to.deep.equal(['time="2026-11-30T00:00:05Z" level=warning msg="something else"'])
    })

    it('keeps equal times in stream order, stdout first', () => {
      const {lines} = parseLogOutput('2026-11-30T00:00:01Z a\n', '2026-11-30T00:00:01Z b\n')
      expect(lines.map(line => line.text)).to.deep.equal(['a', 'b'])
    })

    it('keeps empty and space-only lines as the container wrote them', () => {
      const {lines} = parseLogOutput('2026-11-30T00:00:01Z \n2026-11-30T00:00:02Z   x\n', '')
      expect(lines.map(line => line.text)).to.deep.equal(['', '  x'])
    })

    it('orders times by value, whatever their zone and fraction length', () => {
      expect(timeKey('2026-11-30T01:00:00.5+01:00')).to.equal(timeKey('2026-11-30T00:00:00.500Z'))
      expect(timeKey('2026-11-30T00:00:00.1Z') > timeKey('2026-11-30T00:00:00.05Z')).to.equal(true)
      expect(timeKey('2026-11-30T00:00:00.1Z') < timeKey('2026-11-30T00:00:00.15Z')).to.equal(true)
    })

    it('a line without a time stays after the line before it', () => {
      const {lines} = parseLogOutput('2026-11-30T00:00:03Z a\nuntimed\n', '2026-11-30T00:00:01Z b\n2026-11-30T00:00:04Z c\n')
      expect(lines.map(line => line.text)).to.deep.equal(['b', 'a', 'untimed', 'c'])
    })

    it('a followed log is put back in order within a short window', async () => {
      const seen: string[] = []
      const ordered = reorder(line => seen.push(line.text), 20)
      ordered.add({stream: 'stderr', text: 'err 1', time: '2026-11-30T00:00:01.2Z'})
      ordered.add({stream: 'stdout', text: 'out 1', time: '2026-11-30T00:00:01.1Z'})
      expect(seen).to.deep.equal([])
      await new Promise(resolve => {
        setTimeout(resolve, 60)
      })
      expect(seen).to.deep.equal(['out 1', 'err 1'])
      ordered.add({stream: 'stdout', text: 'out 2', time: '2026-11-30T00:00:02Z'})
      ordered.flush()
      expect(seen).to.deep.equal(['out 1', 'err 1', 'out 2'])
    })

    it('an untimed stdout line is still the container\'s', () => {
      expect(parseLogLine('plain', 'stdout')).to.deep.equal({stream: 'stdout', text: 'plain'})
      expect(parseLogLine('E0000 oops', 'stderr')).to.deep.equal({message: 'E0000 oops'})
    })
  })

  describe('formatLogLine', () => {
    it('prefixes the node like kubectl logs --prefix, and the time when asked', () => {
      const line = {stream: 'stdout' as const, text: 'hello', time: '2026-11-30T00:00:01Z'}
      expect(formatLogLine('node1', line, {prefix: true, timestamps: false})).to.equal('[node1] hello')
      expect(formatLogLine('node1', line, {prefix: false, timestamps: true})).to.equal('2026-11-30T00:00:01Z hello')
    })
  })

  describe('pickContainer', () => {
    const pod: PodOnNode = {
      file: '/etc/kubernetes/manifests/web.yaml', mirror: 'web-node1', name: 'web', namespace: 'default', nodeName: 'node1',
    }

    it('takes the newest instance of the only container', () => {
      expect(pickContainer([c('web', 0, 'exited'), c('web', 1, 'running')], pod, {}, 'node1').id).to.equal('web-1')
    })

    it('needs -c when the pod has several containers, and lists them', () => {
      const containers = [c('web', 0, 'running'), c('side', 0, 'running')]
      expect(error(() => pickContainer(containers, pod, {}, 'node1')).message).to.equal('a container name must be specified for pod web-node1, choose one of: [side web]')
      expect(pickContainer(containers, pod, {container: 'side'}, 'node1').id).to.equal('side-0')
      expect(error(() => pickContainer(containers, pod, {container: 'x'}, 'node1')).message).to.equal('container x is not valid for pod web-node1: its containers are side, web')
    })

    it('ignores other pods and namespaces, and says when the kubelet has not started the pod', () => {
      const others = [c('web', 0, 'running', {podName: 'web-node1-x'}), c('web', 0, 'running', {podNamespace: 'kube-system'})]
      const thrown = error(() => pickContainer(others, pod, {}, 'node1'))
      expect(thrown.message).to.equal('pod default/web has no container (no web-node1 in the runtime): the kubelet has not started it from /etc/kubernetes/manifests/web.yaml')
      expect(thrown.hints[0]).to.include('staticpod logs node1 default/web --kubelet')
    })

    it('finds a pod without a file by its containers, in the one namespace they are in', () => {
      const orphan: PodOnNode = {mirror: 'web-node1', name: 'web', nodeName: 'node1'}
      expect(pickContainer([c('web', 0, 'running', {podNamespace: 'kube-system'})], orphan, {}, 'node1').podNamespace).to.equal('kube-system')
      expect(error(() => pickContainer([c('web', 0, 'running'), c('web', 0, 'running', {podNamespace: 'kube-system'})], orphan, {}, 'node1')).message).to.match(/namespaces default, kube-system: name one as NAMESPACE\/NAME/)
    })
  })

  describe('previousInstance', () => {
    const current: RuntimeContainer = {
      id: 'now', image: 'busybox', name: 'web', podName: 'web-node1', podNamespace: 'default', podUid: 'u1', restarts: 2, state: 'running',
    }

    it('crictl reads it through the current container; docker keeps its own container for it', () => {
      expect(previousInstance([current], current, 'crictl').id).to.equal('now')
      const before = {
        ...current, id: 'before', restarts: 1, state: 'exited' as const,
      }
      expect(previousInstance([current, before, {...before, id: 'older', restarts: 0}], current, 'docker').id).to.equal('before')
    })

    it('is an error without a restart, or when docker no longer has it', () => {
      expect(() => previousInstance([], {...current, restarts: 0}, 'crictl')).to.throw('previous terminated container "web" in pod "web-node1" not found (restart count 0)')
      expect(() => previousInstance([current], current, 'docker')).to.throw(/not found \(restart count 2\)/)
    })
  })
})
