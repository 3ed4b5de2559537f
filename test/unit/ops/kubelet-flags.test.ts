import {expect} from 'chai'

import {parseEdit} from '../../../src/ops/kubelet-flags.js'
import {settingRows, sourceLabel} from '../../../src/output/kubelet.js'

describe('ops/kubelet-flags', () => {
  describe('parseEdit', () => {
    it('takes flag names and config fields, with or without leading dashes', () => {
      const {edit, pairs} = parseEdit(['pod-manifest-path=/etc/kubelet.d/', '--manifest-url=http://x/a=b'], ['httpCheckFrequency'])
      expect(pairs).to.deep.equal([['pod-manifest-path', '/etc/kubelet.d/'], ['manifest-url', 'http://x/a=b']])
      expect(edit).to.deep.equal({set: {'manifest-url': 'http://x/a=b', 'pod-manifest-path': '/etc/kubelet.d/'}, unset: ['httpCheckFrequency']})
    })

    it('refuses KEY without =, unknown keys (with a suggestion) and one setting given twice', () => {
      expect(() => parseEdit(['pod-manifest-path'], [])).to.throw(/expected KEY=VALUE/)
      expect(() => parseEdit(['pod-manifest-pth=/x'], [])).to.throw(/pod-manifest-path/)
      expect(() => parseEdit(['pod-manifest-path=/x'], ['staticPodPath'])).to.throw(/same setting/)
    })
  })

  describe('output (src/output/kubelet.ts)', () => {
    it('labels sources as file:variable, file:field, default', () => {
      expect(sourceLabel({file: '/etc/kubernetes/kubelet', variable: 'KUBELET_ARGS'})).to.equal('/etc/kubernetes/kubelet:KUBELET_ARGS')
      expect(sourceLabel({field: 'staticPodPath', file: '/var/lib/kubelet/config.yaml'})).to.equal('/var/lib/kubelet/config.yaml:staticPodPath')
      expect(sourceLabel({environment: 'KUBELET_CONFIG_ARGS', file: '/x/10-kubeadm.conf'})).to.equal('/x/10-kubeadm.conf:Environment=KUBELET_CONFIG_ARGS')
      expect(sourceLabel({default: true})).to.equal('default')
      expect(sourceLabel({cmdline: true})).to.equal('cmdline (running kubelet)')
    })

    it('puts the values that lost under the winner, highest first, defaults left out', () => {
      const rows = settingRows([{
        field: 'syncFrequency',
        flag: 'sync-frequency',
        key: 'syncFrequency',
        overridden: [
          {source: {default: true}, value: '1m'},
          {source: {field: 'syncFrequency', file: '/c.yaml'}, value: '10s'},
          {source: {file: '/etc/default/kubelet', variable: 'KUBELET_EXTRA_ARGS'}, value: '20s'},
        ],
        source: {file: '/etc/default/kubelet', variable: 'KUBELET_EXTRA_ARGS'},
        value: '30s',
      }])
      expect(rows.map(r => [r.key, r.value, r.source])).to.deep.equal([
        ['syncFrequency', '30s', '/etc/default/kubelet:KUBELET_EXTRA_ARGS'],
        ['  overrides', '20s', '/etc/default/kubelet:KUBELET_EXTRA_ARGS'],
        ['  overrides', '10s', '/c.yaml:syncFrequency'],
      ])
    })
  })
})
