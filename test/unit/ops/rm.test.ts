// `rm`: what is removed for each POD argument.
import {expect} from 'chai'

import {RefusedError} from '../../../src/ops/apply.js'
import {parsePodArg} from '../../../src/ops/pod-ref.js'
import {planRm} from '../../../src/ops/rm.js'
import {manifest, nodeState, pod} from './node-state.js'

describe('ops/rm', () => {
  it('a pod: every file of the manifest directory that defines it, then its disabled copy', async () => {
    const state = await nodeState(
      {'static-web.yaml': manifest('static-web.yaml'), 'static-web.yaml.bak': manifest('static-web.yaml'), 'z.yaml': pod('other')},
      {disabled: {'old-web.yaml': manifest('static-web.yaml')}},
    )
    const plan = planRm(state, [parsePodArg('static-web')])
    expect(plan.steps).to.deep.equal([
      {name: 'static-web.yaml', op: 'rm'},
      {name: 'static-web.yaml.bak', op: 'rm'},
      {name: 'old-web.yaml', op: 'rmp'},
    ])
    expect(plan.pods[0]!.files.map(f => [f.file.path, f.disabled])).to.deep.equal([
      ['/etc/kubernetes/manifests/static-web.yaml', false],
      ['/etc/kubernetes/manifests/static-web.yaml.bak', false],
      ['/var/lib/staticpod/disabled/old-web.yaml', true],
    ])
  })

  it('a file name removes that file only; a stray file can be removed by its name', async () => {
    const state = await nodeState({README: 'notes\n', 'static-web.yaml': manifest('static-web.yaml'), 'static-web.yaml.bak': manifest('static-web.yaml')})
    expect(planRm(state, [parsePodArg('static-web.yaml.bak'), parsePodArg('README')]).steps).to.deep.equal([
      {name: 'static-web.yaml.bak', op: 'rm'},
      {name: 'README', op: 'rm'},
    ])
  })

  it('absent pods plan nothing; the same file named twice is removed once', async () => {
    const state = await nodeState({'web.yaml': pod('web')})
    const plan = planRm(state, [parsePodArg('nothing-here'), parsePodArg('web'), parsePodArg('web.yaml')])
    expect(plan.steps).to.deep.equal([{name: 'web.yaml', op: 'rm'}])
    expect(plan.pods.map(p => [p.selector.arg, p.files.length, p.stepIndexes])).to.deep.equal([['nothing-here', 0, []], ['web', 1, [0]], ['web.yaml', 1, [0]]])
  })

  it('refuses an ambiguous name (two namespaces) and a directory', async () => {
    const state = await nodeState({'a.yaml': pod('web'), 'b.yaml': pod('web', 'other'), sub: null})
    expect(() => planRm(state, [parsePodArg('web')])).to.throw(RefusedError, 'pod web exists in namespaces default, other')
    expect(planRm(state, [parsePodArg('other/web')]).steps).to.deep.equal([{name: 'b.yaml', op: 'rm'}])
    expect(() => planRm(state, [parsePodArg('sub')])).to.throw(RefusedError, 'is a directory')
  })
})
