// A fleet carries the same manifests on every node: `ls` and `add` check each distinct file once.
// What a node adds to a file's results (a duplicate pod, a stray file, a mirror pod name too long
// for that node's name) must stay that node's own.
import {expect} from 'chai'

import {nodeState, pod} from './node-state.js'

const rules = (files: Array<{documents: Array<{findings: Array<{rule: string}>}>}>): string[][] =>
  files.map(file => file.documents.flatMap(doc => doc.findings.map(f => f.rule)))

describe('ops/manifest-dir: each distinct file checked once', () => {
  it('a duplicate pod on one node does not show on the next node with the same file', async () => {
    const web = pod('web')
    const twice = await nodeState({'a.yaml': web, 'b.yaml': web}, {nodeName: 'node1'})
    const once = await nodeState({'a.yaml': web}, {nodeName: 'node2'})
    expect(rules(twice.files)).to.deep.equal([['dir/duplicate-pod'], ['dir/duplicate-pod']])
    expect(rules(once.files)).to.deep.equal([[]])
    expect(rules((await nodeState({'a.yaml': web, 'b.yaml': web}, {nodeName: 'node3'})).files)).to.deep.equal([['dir/duplicate-pod'], ['dir/duplicate-pod']])
  })

  it('the mirror pod name is checked with each node\'s own name', async () => {
    const name = 'p'.repeat(200)
    const long = `n${'x'.repeat(60)}.example.com`
    const short = await nodeState({'p.yaml': pod(name)}, {nodeName: 'node1'})
    const tooLong = await nodeState({'p.yaml': pod(name)}, {nodeName: long})
    const again = await nodeState({'p.yaml': pod(name)}, {nodeName: 'node2'})
    expect(rules(short.files)).to.deep.equal([[]])
    const [finding] = tooLong.files[0]!.documents[0]!.findings
    expect(finding).to.include({rule: 'static-pod/mirror-name-length'})
    expect(finding!.message).to.include(`${name}-${long}`)
    expect(rules(again.files)).to.deep.equal([[]])
  })

  it('the same content under another name or in another directory is its own file', async () => {
    const web = pod('web')
    const stray = await nodeState({'web.yaml.bak': web}, {nodeName: 'node1'})
    const plain = await nodeState({'web.yaml': web}, {nodeName: 'node1'})
    expect(rules(stray.files)).to.deep.equal([['dir/stray-file']])
    expect(rules((await nodeState({'web.yaml.bak': web}, {nodeName: 'node2'})).files)).to.deep.equal([['dir/stray-file']])
    expect(rules(plain.files)).to.deep.equal([[]])
    expect(plain.files[0]!.documents[0]!.file).to.equal('/etc/kubernetes/manifests/web.yaml')
    const elsewhere = await nodeState({'web.yaml': web}, {dir: '/etc/kubelet.d', nodeName: 'node1'})
    expect(elsewhere.files[0]!.documents[0]!.file).to.equal('/etc/kubelet.d/web.yaml')
  })
})
