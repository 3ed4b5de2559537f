import {expect} from 'chai'

import {UserError} from '../../../src/errors.js'
import {
  configDirDropIns, getField, mergePatch, parseKubeletConfig, setConfigField, unsetConfigField,
} from '../../../src/kubelet/config-file.js'
import {lineChanges} from './line-diff.js'
import {nodeFile} from './node-fixture.js'

const CONFIGS: Array<[string, string]> = [
  ['kubeadm-deb', '/var/lib/kubelet/config.yaml'],
  ['kubespray', '/etc/kubernetes/kubelet-config.yaml'],
  ['config-only', '/etc/kubernetes/kubelet/config.yaml'],
  ['config-only', '/etc/kubernetes/kubelet/config.d/20-dns.conf'],
  ['k3s', '/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/00-k3s-defaults.conf'],
]

/** Every leaf field of a parsed config, dotted (maps whose keys hold dots, like evictionHard, are leaves). */
function leaves(data: unknown, prefix = ''): Array<[string, unknown]> {
  if (typeof data !== 'object' || data === null || Array.isArray(data) || Object.keys(data).length === 0) return [[prefix, data]]
  if (prefix && Object.keys(data).some(k => k.includes('.'))) return [[prefix, data]]
  return Object.entries(data).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k))
}

describe('kubelet/config-file', () => {
  it('parses KubeletConfiguration files and flags a wrong apiVersion/kind', () => {
    const kubeadm = parseKubeletConfig(nodeFile('kubeadm-deb', '/var/lib/kubelet/config.yaml'), 'config.yaml')
    expect(kubeadm.errors).to.deep.equal([])
    expect(kubeadm.warnings).to.deep.equal([])
    expect(getField(kubeadm.data, 'staticPodPath')).to.deep.equal({present: true, value: '/etc/kubernetes/manifests'})
    expect(getField(kubeadm.data, 'authentication.x509.clientCAFile').value).to.equal('/etc/kubernetes/pki/ca.crt')
    expect(getField(kubeadm.data, 'staticPodURL')).to.deep.equal({present: false})
    expect(parseKubeletConfig('kind: Pod\n', 'x').warnings).to.have.length(2)
    expect(parseKubeletConfig('a: [\n', 'x').errors).to.have.length.greaterThan(0)
  })

  for (const [layout, file] of CONFIGS) {
    it(`round-trips ${layout} ${file} byte for byte when fields are set to the values they have`, () => {
      const text = nodeFile(layout, file)
      for (const [field, value] of leaves(parseKubeletConfig(text, file).data)) {
        expect(setConfigField(text, field, value), field).to.equal(text)
      }

      expect(unsetConfigField(text, 'noSuchField')).to.equal(text)
    })
  }

  describe('edits change only the intended bytes', () => {
    const kubeadm = nodeFile('kubeadm-deb', '/var/lib/kubelet/config.yaml')
    const commented = nodeFile('config-only', '/etc/kubernetes/kubelet/config.yaml')

    it('rewrites an existing scalar in place, keeping its quoting', () => {
      expect(lineChanges(kubeadm, setConfigField(kubeadm, 'staticPodPath', '/etc/kubelet.d'))).to.deep.equal({
        added: ['staticPodPath: /etc/kubelet.d\n'], removed: ['staticPodPath: /etc/kubernetes/manifests\n'],
      })
      expect(lineChanges(kubeadm, setConfigField(kubeadm, 'containerRuntimeEndpoint', 'unix:///run/crio/crio.sock'))).to.deep.equal({
        added: ['containerRuntimeEndpoint: "unix:///run/crio/crio.sock"\n'], removed: ['containerRuntimeEndpoint: ""\n'],
      })
      expect(lineChanges(commented, setConfigField(commented, 'fileCheckFrequency', '5s'))).to.deep.equal({
        added: ['fileCheckFrequency: 5s   # pick up new manifests quickly\n'], removed: ['fileCheckFrequency: 10s   # pick up new manifests quickly\n'],
      })
      expect(lineChanges(kubeadm, setConfigField(kubeadm, 'healthzPort', 0))).to.deep.equal({
        added: ['healthzPort: 0\n'], removed: ['healthzPort: 10248\n'],
      })
    })

    it('inserts a missing field at its sorted place in a sorted (kubeadm) file, else last', () => {
      expect(lineChanges(kubeadm, setConfigField(kubeadm, 'staticPodURL', 'http://10.0.0.1/pods'))).to.deep.equal({
        added: ['staticPodURL: http://10.0.0.1/pods\n'], removed: [],
      })
      const after = setConfigField(kubeadm, 'staticPodURL', 'http://10.0.0.1/pods')
      expect(after.indexOf('staticPodPath:')).to.be.lessThan(after.indexOf('staticPodURL:'))
      expect(after.indexOf('staticPodURL:')).to.be.lessThan(after.indexOf('streamingConnectionIdleTimeout:'))
      const appended = setConfigField(commented, 'maxPods', 20)
      expect(appended).to.equal(commented + 'maxPods: 20\n')
    })

    it('writes staticPodURLHeader as a map of lists, and nested fields under their parents', () => {
      const headers = setConfigField(kubeadm, 'staticPodURLHeader', {Authorization: ['Bearer abc'], 'X-Node': ['n1', 'n2']})
      expect(lineChanges(kubeadm, headers)).to.deep.equal({
        added: ['staticPodURLHeader:\n', '  Authorization:\n', '  - Bearer abc\n', '  X-Node:\n', '  - n1\n', '  - n2\n'],
        removed: [],
      })
      expect(getField(parseKubeletConfig(headers, '').data, 'staticPodURLHeader').value).to.deep.equal({Authorization: ['Bearer abc'], 'X-Node': ['n1', 'n2']})
      const nested = setConfigField(commented, 'authentication.x509.clientCAFile', '/etc/kubernetes/pki/ca.crt')
      expect(lineChanges(commented, nested)).to.deep.equal({added: ['  x509:\n', '    clientCAFile: /etc/kubernetes/pki/ca.crt\n'], removed: []})
    })

    it('replaces a list, keeping the file\'s sequence indentation', () => {
      expect(lineChanges(kubeadm, setConfigField(kubeadm, 'clusterDNS', ['10.96.0.10', '10.96.0.11']))).to.deep.equal({
        added: ['- 10.96.0.11\n'], removed: [],
      })
      expect(lineChanges(commented, setConfigField(commented, 'clusterDNS', ['1.1.1.1']))).to.deep.equal({
        added: ['  - 1.1.1.1\n'], removed: ['  - 10.96.0.10\n', '  - 10.96.0.11\n'],
      })
    })

    it('removes a field, and a parent map left empty by it', () => {
      expect(lineChanges(kubeadm, unsetConfigField(kubeadm, 'staticPodPath'))).to.deep.equal({
        added: [], removed: ['staticPodPath: /etc/kubernetes/manifests\n'],
      })
      expect(lineChanges(kubeadm, unsetConfigField(kubeadm, 'authentication.x509.clientCAFile'))).to.deep.equal({
        added: [], removed: ['  x509:\n', '    clientCAFile: /etc/kubernetes/pki/ca.crt\n'],
      })
      expect(lineChanges(commented, unsetConfigField(commented, 'fileCheckFrequency'))).to.deep.equal({
        added: [], removed: ['fileCheckFrequency: 10s   # pick up new manifests quickly\n'],
      })
    })

    it('fills a key that has no value, edits flow maps and JSON files', () => {
      expect(setConfigField('apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath:\n', 'staticPodPath', '/p'))
      .to.equal('apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: /p\n')
      expect(setConfigField('featureGates: {A: true}\n', 'featureGates.B', false)).to.equal('featureGates: {A: true, B: false}\n')
      expect(setConfigField('{\n  "kind": "KubeletConfiguration"\n}\n', 'staticPodPath', '/p')).to.equal('{\n  "kind": "KubeletConfiguration",\n  "staticPodPath": "/p"\n}\n')
    })

    it('refuses to edit a file with YAML errors, as a user error', () => {
      expect(() => setConfigField('staticPodPath: [\n', 'staticPodPath', '/p')).to.throw(UserError, 'cannot edit a KubeletConfiguration with YAML errors')
    })

    it('creates a new file with apiVersion and kind', () => {
      expect(setConfigField(undefined, 'staticPodPath', '/etc/kubernetes/manifests')).to.equal('apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: /etc/kubernetes/manifests\n')
    })
  })

  describe('--config-dir', () => {
    it('takes *.conf files in WalkDir order, subdirectories included', () => {
      const paths = ['/d/20-b.conf', '/d/10-a.conf', '/d/README', '/d/15-sub/x.conf', '/d/15-sub.conf', '/d/30.yaml', '/other/1.conf']
      expect(configDirDropIns(paths, '/d/')).to.deep.equal(['/d/10-a.conf', '/d/15-sub/x.conf', '/d/15-sub.conf', '/d/20-b.conf'])
    })

    it('merges drop-ins as JSON merge patches: maps merge, lists are replaced, null removes', () => {
      expect(mergePatch({a: {x: 1, y: 2}, l: [1, 2], s: 'k'}, {a: {y: 3}, l: [9], s: null})).to.deep.equal({a: {x: 1, y: 3}, l: [9]})
    })
  })
})
