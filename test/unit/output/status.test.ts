import {expect} from 'chai'

import type {MirrorPod} from '../../../src/cluster/mirror-pods.js'
import type {ManifestFile} from '../../../src/ops/manifest-dir.js'
import type {RuntimeContainer} from '../../../src/runtime/containers.js'

import {type KubeletLine, parseKubeletLine} from '../../../src/kubelet/journal.js'
import {parsePodArg} from '../../../src/ops/pod-ref.js'
import {
  isStaticPodUid, kubeletHasPod, matches, nodePods, statusExitCode, type StatusResult, type StatusRow,
} from '../../../src/ops/status.js'
import {makeChalk} from '../../../src/output/progress.js'
import {
  mirrorText, renderStatusTable, statusJson, statusNotes, statusReasons,
} from '../../../src/output/status.js'

const chalk = makeChalk(false)
const HASH = 'c'.repeat(32)

const mirror: MirrorPod = {
  configHash: HASH, configMirror: HASH, containers: [{
    name: 'web', ready: true, restartCount: 0, state: 'running',
  }], name: 'web-node1', namespace: 'default', phase: 'Running', ready: true, uid: 'u1',
}

function file(name: string, pod?: {name: string; namespace: string}): ManifestFile {
  return {
    documents: [], kind: 'file', name, path: `/m/${name}`, raw: Buffer.from(name), status: 'valid', ...(pod ? {pod} : {}),
  }
}

function container(podName: string, podUid: string, state: RuntimeContainer['state'] = 'running'): RuntimeContainer {
  return {
    id: podName, image: 'nginx', name: 'c', podName, podNamespace: 'default', podUid, restarts: 0, state,
  }
}

/** The kubelet's klog lines with these messages about web-node1. */
function lines(...messages: string[]): KubeletLine[] {
  return messages.map(message => parseKubeletLine(`I1130 01:27:05.019709      19 kubelet.go:2543] "${message}" source="file" pods=["default/web-node1"]`))
}

function row(extra: Partial<StatusRow> = {}): StatusRow {
  return {
    containers: [{
      created: '2026-01-01T00:00:00.000Z', id: 'id1', image: 'nginx', name: 'web', podUid: HASH, restarts: 1, state: 'running',
    }],
    file: {
      ageSeconds: 75, file: 'web.yaml', modified: '2026-01-01T00:00:00.000Z', path: '/etc/kubernetes/manifests/web.yaml', sha256: 'ab'.repeat(32), status: 'valid',
    },
    mirror,
    mirrorLookup: 'ok',
    mirrorName: 'web-node1',
    name: 'web',
    namespace: 'default',
    node: 'node1',
    verdict: 'running',
    ...extra,
  }
}

function result(rows: StatusRow[], extra: Partial<StatusResult> = {}): StatusResult {
  return {
    cluster: {context: 'admin@sandbox', server: 'https://10.0.0.1:6443', state: 'ok'},
    nodes: [{
      durationMs: 1, node: 'node1', nodeName: 'node1', rows, runtime: 'crictl', status: 'ok', warnings: [],
    }],
    unmatched: [],
    ...extra,
  }
}

describe('status output', () => {
  it('the table: file, containers, restarts, mirror and verdict side by side', () => {
    const orphan = row({
      file: null, mirror: null, name: 'old', namespace: 'kube-system', reason: 'containers run, but no manifest file defines the pod', verdict: 'orphan',
    })
    expect(renderStatusTable(result([row(), orphan]), {chalk}).split('\n')).to.deep.equal([
      'NODE   POD              FILE      AGE  SHA           CONTAINERS   RESTARTS  MIRROR       VERDICT',
      'node1  web              web.yaml  75s  abababababab  web running         1  Running 1/1  running',
      'node1  kube-system/old  -           -  -             web running         1  none         orphan',
    ])
    expect(statusReasons(result([row(), orphan]), {chalk})).to.deep.equal(['node1 kube-system/old: orphan: containers run, but no manifest file defines the pod'])
  })

  it('-o wide: the full path and hash, images, start times, the mirror pod\'s name and config hash', () => {
    const [header, line] = renderStatusTable(result([row()]), {chalk, wide: true}).split('\n')
    expect(header!.split(/\s{2,}/)).to.deep.equal(['NODE', 'POD', 'PATH', 'AGE', 'SHA256', 'CONTAINERS', 'RESTARTS', 'IMAGE', 'STARTED', 'MIRROR POD', 'MIRROR', 'CONFIG HASH', 'VERDICT'])
    expect(line).to.match(/web-node1\s+Running 1\/1\s+c{32}\s+running$/)
    expect(line).to.include('/etc/kubernetes/manifests/web.yaml').and.include('ab'.repeat(32)).and.include('2026-01-01T00:00:00Z')
  })

  it('the mirror column: phase or waiting reason with ready containers; none; no kubeconfig; ? when the API server failed', () => {
    expect(mirrorText(row())).to.equal('Running 1/1')
    expect(mirrorText(row({
      mirror: {
        ...mirror, containers: [{
          name: 'web', ready: false, reason: 'CrashLoopBackOff', restartCount: 3, state: 'waiting',
        }],
      },
    }))).to.equal('CrashLoopBackOff 0/1')
    expect(mirrorText(row({mirror: null}))).to.equal('none')
    expect(mirrorText(row({mirror: null, mirrorLookup: 'no-kubeconfig'}))).to.equal('no kubeconfig')
    expect(mirrorText(row({mirror: null, mirrorLookup: 'failed'}))).to.equal('?')
  })

  it('--json: one object per pod per node in the contract\'s key order; a failed node is {node, error}', () => {
    const failed = {
      durationMs: 1, error: 'connection refused', hints: ['is sshd running?'], node: 'node2', rows: [], status: 'unreachable' as const, warnings: [],
    }
    const json = statusJson({...result([row()]), nodes: [...result([row()]).nodes, failed]}) as Array<Record<string, unknown>>
    expect(Object.keys(json[0]!)).to.deep.equal(['node', 'nodeName', 'name', 'namespace', 'verdict', 'reason', 'file', 'runtime', 'containers', 'mirrorName', 'mirrorLookup', 'mirror'])
    expect(json[1]).to.deep.equal({error: 'connection refused', hints: ['is sshd running?'], node: 'node2'})
    const unknown = statusJson(result([row({mirror: null, mirrorError: 'https://x: connection refused', mirrorLookup: 'failed'})])) as Array<Record<string, unknown>>
    expect(unknown[0]).to.include({mirror: null, mirrorError: 'https://x: connection refused', mirrorLookup: 'failed'})
  })

  it('notes for stderr: no kubeconfig, an API server that failed, POD arguments found nowhere', () => {
    expect(statusNotes(result([], {cluster: {state: 'none'}}), {chalk})[0]).to.match(/^No kubeconfig .*mirror pods not looked up\.$/)
    expect(statusNotes(result([], {
      cluster: {
        context: 'c', error: 'https://x: connection refused', server: 'https://x', state: 'error',
      }, unmatched: ['nope'],
    }), {chalk}))
    .to.deep.equal(['warning nope: no such static pod on the node', 'warning mirror pods unknown: https://x: connection refused (context c)'])
  })

  describe('exit status', () => {
    it('0 when everything runs, 3 when a pod does not or a POD named is nowhere, 1 when a node or the API server failed', () => {
      expect(statusExitCode(result([row(), row({verdict: 'completed'})]))).to.equal(0)
      expect(statusExitCode(result([]))).to.equal(0)
      for (const verdict of ['pending', 'crash-looping', 'file-only', 'mirror-missing', 'orphan', 'failed', 'unknown'] as const) {
        expect(statusExitCode(result([row(), row({verdict})])), verdict).to.equal(3)
      }

      expect(statusExitCode(result([row()], {unmatched: ['nope']}))).to.equal(3)
      expect(statusExitCode(result([row({verdict: 'pending'})], {
        cluster: {
          context: 'c', error: 'down', server: 's', state: 'error',
        },
      }))).to.equal(1)
      const down = result([row({verdict: 'pending'})])
      down.nodes.push({
        durationMs: 1, error: 'x', node: 'node2', rows: [], status: 'unreachable', warnings: [],
      })
      expect(statusExitCode(down)).to.equal(1)
    })
  })

  describe('selection and orphans', () => {
    it('POD arguments: a name, NAMESPACE/NAME, a file name', () => {
      const web = {file: 'web.yaml', name: 'web', namespace: 'default'}
      expect(matches([], web)).to.equal(true)
      expect(matches([parsePodArg('web')], web)).to.equal(true)
      expect(matches([parsePodArg('default/web')], web)).to.equal(true)
      expect(matches([parsePodArg('kube-system/web')], web)).to.equal(false)
      expect(matches([parsePodArg('web.yaml')], web)).to.equal(true)
      expect(matches([parsePodArg('other')], web)).to.equal(false)
    })

    it('a row per file, then the orphans: live static pod containers and mirror pods no file accounts for', () => {
      const files = [file('web.yaml', {name: 'web', namespace: 'default'}), file('broken.yaml'), {...file('sub'), kind: 'dir' as const}]
      const containers = [
        container('web-node1', HASH),
        container('gone-node1', HASH),
        container('dead-node1', HASH, 'exited'),
        container('coredns-abc12-node1', '0b6c1c5e-6a4d-4a8b-9a53-4a0b6e0c8b1f'),
        container('other-node2', HASH),
      ]
      const mirrors = [mirror, {...mirror, name: 'lost-node1', namespace: 'kube-system'}]
      const pods = nodePods({
        containers, files, mirrors, nodeName: 'node1', selectors: [],
      })
      expect(pods.map(p => `${p.namespace}/${p.name} ${p.file?.name ?? '-'}`)).to.deep.equal([
        'default/web web.yaml', 'default/broken.yaml broken.yaml', 'default/gone -', 'kube-system/lost -',
      ])
      expect(nodePods({
        containers, files, mirrors, nodeName: 'node1', selectors: [parsePodArg('kube-system/lost'), parsePodArg('web.yaml')],
      }).map(p => p.name)).to.deep.equal(['web', 'lost'])
    })

    it('the kubelet has the pod when its last SyncLoop line about it adds or updates it', () => {
      expect(kubeletHasPod(lines('SyncLoop ADD'))).to.equal(true)
      expect(kubeletHasPod(lines('SyncLoop ADD', 'SyncLoop REMOVE'))).to.equal(false)
      expect(kubeletHasPod(lines('SyncLoop REMOVE', 'SyncLoop ADD', 'SyncLoop UPDATE'))).to.equal(true)
      expect(kubeletHasPod([])).to.equal(false)
    })

    it('static pod uids are the kubelet\'s 32-hex config hashes (or a mirror pod\'s); API pods have UUIDs', () => {
      expect(isStaticPodUid(HASH, [])).to.equal(true)
      expect(isStaticPodUid('0b6c1c5e-6a4d-4a8b-9a53-4a0b6e0c8b1f', [])).to.equal(false)
      expect(isStaticPodUid('explicit-uid', [{...mirror, configMirror: 'explicit-uid'}])).to.equal(true)
    })
  })
})
