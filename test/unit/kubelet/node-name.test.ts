import {expect} from 'chai'

import {computeEffective} from '../../../src/kubelet/effective.js'
import {kubeletNodeName, mirrorPodName} from '../../../src/kubelet/node-name.js'

describe('kubelet node name', () => {
  it('is the hostname, lowercased, without --hostname-override', () => {
    const eff = computeEffective({cmdline: ['/usr/bin/kubelet', '--config=/var/lib/kubelet/config.yaml'], files: {'/var/lib/kubelet/config.yaml': 'kind: KubeletConfiguration\n'}})
    expect(kubeletNodeName(eff, 'My-Node1\n')).to.equal('my-node1')
  })

  it('is --hostname-override when the kubelet runs with it', () => {
    const eff = computeEffective({cmdline: ['/usr/bin/kubelet', '--hostname-override=Worker-7'], files: {}})
    expect(kubeletNodeName(eff, 'ip-10-0-0-7')).to.equal('worker-7')
  })

  it('is unknown without a hostname or override', () => {
    expect(kubeletNodeName(computeEffective({files: {}}))).to.equal(undefined)
  })

  it('mirror pods are <pod>-<node name>', () => {
    expect(mirrorPodName('static-web', 'My-Node1')).to.equal('static-web-my-node1')
  })
})
