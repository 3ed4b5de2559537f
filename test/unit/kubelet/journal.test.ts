import {expect} from 'chai'

import {
  isAbout, kubeletLinesAbout, kubeletReason, parseKubeletLine,
} from '../../../src/kubelet/journal.js'

const DIR = '/etc/kubernetes/manifests'
const host = '2026-11-30T00:22:02+00:00 node1 kubelet[2240]: '

// Lines as the kubelet writes them (kubelet-facts §1.4), as journalctl -o short-iso shows them.
const couldNotProcess = `${host}E1130 00:22:02.630925    2240 file.go:224] "Could not process manifest file" err="invalid pod: [spec.containers[0].volumeMounts[1].name: Not found: \\"etcd-cert\\"]" path="${DIR}/etcd.yaml"`
const notAPod = `${host}E1130 00:22:03.000001    2240 file.go:224] "Could not process manifest file" err="${DIR}/web.yaml: couldn't parse as pod(Object 'Kind' is missing in 'null'), please check config file" path="${DIR}/web.yaml"`
const watchEvent = `${host}E1130 00:22:04.000001    2240 file.go:284] "Unable to process watch event" err="can't process config file \\"${DIR}/web.yaml\\": ${DIR}/web.yaml: couldn't parse as pod(invalid pod: &apps.Deployment{...}), please check config file"`
const syncAdd = `${host}I1130 00:22:05.000001    2240 kubelet.go:2543] "SyncLoop ADD" source="file" pods=["default/web-node1"]`
const otherPod = `${host}I1130 00:22:05.000002    2240 kubelet.go:2543] "SyncLoop ADD" source="file" pods=["default/web-node1-x"]`
const subdir = `${host}E1130 00:22:06.000001    2240 file.go:218] "Provided manifest path is a directory, not recursing into manifest path" path="${DIR}/old"`

describe('kubelet journal lines', () => {
  describe('parseKubeletLine', () => {
    it('reads the journal prefix, the klog header, the message and the structured values', () => {
      const line = parseKubeletLine(couldNotProcess)
      expect(line).to.deep.include({
        message: 'Could not process manifest file', severity: 'E', source: 'file.go:224', time: '2026-11-30T00:22:02+00:00',
      })
      expect(line.fields).to.deep.equal({
        err: 'invalid pod: [spec.containers[0].volumeMounts[1].name: Not found: "etcd-cert"]',
        path: `${DIR}/etcd.yaml`,
      })
    })

    it('reads bracketed lists, `short` journal times and older +0000 offsets', () => {
      expect(parseKubeletLine(syncAdd).fields).to.deep.equal({pods: '["default/web-node1"]', source: 'file'})
      const bare = parseKubeletLine('Nov 30 00:22:05 node1 kubelet[7]: I1130 00:22:05.000001       7 kubelet.go:2543] "SyncLoop ADD" source="file" pods=[default/a default/b] n=2')
      expect(bare.time).to.equal('Nov 30 00:22:05')
      expect(bare.fields).to.deep.equal({n: '2', pods: '[default/a default/b]', source: 'file'})
      expect(parseKubeletLine('2026-11-30T00:22:05+0000 n kubelet[7]: I1130 00:22:05.1 7 a.go:1] "x"').message).to.equal('x')
    })

    it('unquotes Go escapes', () => {
      const line = parseKubeletLine(String.raw`E1130 00:22:02.630925    2240 file.go:224] "m" err="tab\there \x41\u00e9 \"q\" back\\slash"`)
      expect(line.fields.err).to.equal('tab\there Aé "q" back\\slash')
      expect(line.time).to.equal('1130 00:22:02.630925')
    })

    it('keeps unstructured and non-klog lines as text', () => {
      const legacy = parseKubeletLine('E0123 23:26:04.872921   45713 file_linux.go:107] can\'t process config file "/m/a.yaml": bad')
      expect(legacy).to.deep.include({message: 'can\'t process config file "/m/a.yaml": bad', severity: 'E'})
      expect(legacy.fields).to.deep.equal({})
      const systemd = parseKubeletLine('2026-11-30T00:22:02+00:00 node1 systemd[1]: Started kubelet.service - kubelet: The Kubernetes Node Agent.')
      expect(systemd.message).to.equal('Started kubelet.service - kubelet: The Kubernetes Node Agent.')
      expect(systemd.severity).to.equal(undefined)
    })

    it('stops at a value it cannot read instead of guessing', () => {
      expect(parseKubeletLine('I1130 00:22:05.1 7 a.go:1] "m" a="unterminated').fields).to.deep.equal({})
      expect(parseKubeletLine('I1130 00:22:05.1 7 a.go:1] "unterminated').message).to.equal('"unterminated')
    })
  })

  describe('kubeletLinesAbout', () => {
    const lines = [couldNotProcess, notAPod, watchEvent, syncAdd, otherPod, subdir]

    it('finds the lines naming the file, in order', () => {
      expect(kubeletLinesAbout(lines, {file: `${DIR}/web.yaml`}).map(line => line.raw)).to.deep.equal([notAPod, watchEvent])
      expect(kubeletLinesAbout(lines, {file: `${DIR}/etcd.yaml`}).map(line => line.raw)).to.deep.equal([couldNotProcess])
    })

    it('finds the lines naming the pod, not a pod whose name merely starts the same', () => {
      expect(kubeletLinesAbout(lines, {namespace: 'default', pod: 'web-node1'}).map(line => line.raw)).to.deep.equal([syncAdd])
    })

    it('does not take web.yaml.bak for web.yaml', () => {
      const bak = `${host}E1130 00:22:02.1 2240 file.go:224] "Could not process manifest file" err="x" path="${DIR}/web.yaml.bak"`
      expect(kubeletLinesAbout([bak], {file: `${DIR}/web.yaml`})).to.deep.equal([])
      expect(isAbout(parseKubeletLine(bak), {file: `${DIR}/web.yaml.bak`})).to.equal(true)
    })

    it('finds nothing when told about nothing', () => {
      expect(kubeletLinesAbout(lines, {})).to.deep.equal([])
    })
  })

  describe('kubeletReason', () => {
    it('is the last skip reason, without the file name the kubelet repeats', () => {
      const about = kubeletLinesAbout([notAPod, watchEvent], {file: `${DIR}/web.yaml`})
      expect(kubeletReason(about, `${DIR}/web.yaml`)).to.equal("couldn't parse as pod(invalid pod: &apps.Deployment{...}), please check config file")
      expect(kubeletReason(about.slice(0, 1))).to.equal("couldn't parse as pod(Object 'Kind' is missing in 'null'), please check config file")
    })

    it('gives validation errors as the kubelet words them', () => {
      expect(kubeletReason([parseKubeletLine(couldNotProcess)])).to.equal('invalid pod: [spec.containers[0].volumeMounts[1].name: Not found: "etcd-cert"]')
    })

    it('explains skipped directories', () => {
      expect(kubeletReason([parseKubeletLine(subdir)])).to.equal('a directory: the kubelet does not recurse into it')
    })

    it('is cleared when the kubelet took the pod afterwards', () => {
      const lines = [notAPod, syncAdd].map(raw => parseKubeletLine(raw))
      expect(kubeletReason(lines)).to.equal(undefined)
      expect(kubeletReason(lines.reverse())).to.match(/^couldn't parse as pod/)
    })

    it('reads kubelets from before structured logging', () => {
      const legacy = parseKubeletLine('Jan 23 23:26:04 m docker[45689]: E0123 23:26:04.872921   45713 file_linux.go:107] can\'t process config file "/m/a.yaml": /m/a.yaml: read \'b0VIM 7.4')
      expect(kubeletReason([legacy], '/m/a.yaml')).to.equal("read 'b0VIM 7.4")
    })

    it('is undefined without a complaint', () => {
      expect(kubeletReason([parseKubeletLine(syncAdd)])).to.equal(undefined)
      expect(kubeletReason([])).to.equal(undefined)
    })
  })
})
