// `disable` / `enable`: which files move where.
import {expect} from 'chai'

import {RefusedError} from '../../../src/ops/apply.js'
import {planDisable, planEnable} from '../../../src/ops/enable-disable.js'
import {parsePodArg} from '../../../src/ops/pod-ref.js'
import {manifest, nodeState, pod} from './node-state.js'

describe('ops/enable-disable', () => {
  it('disable parks the pod\'s file under its name; enable brings it back', async () => {
    const live = await nodeState({'static-web.yaml': manifest('static-web.yaml'), 'z.yaml': pod('z')})
    expect(planDisable(live, parsePodArg('static-web'))).to.deep.equal({
      moves: [{from: '/etc/kubernetes/manifests/static-web.yaml', pod: 'default/static-web', to: '/var/lib/staticpod/disabled/static-web.yaml'}],
      steps: [{name: 'static-web.yaml', op: 'park'}],
      warnings: [],
    })
    const parked = await nodeState({'z.yaml': pod('z')}, {disabled: {'static-web.yaml': manifest('static-web.yaml')}})
    expect(planEnable(parked, parsePodArg('static-web'))).to.deep.equal({
      moves: [{from: '/var/lib/staticpod/disabled/static-web.yaml', pod: 'default/static-web', to: '/etc/kubernetes/manifests/static-web.yaml'}],
      steps: [{name: 'static-web.yaml', op: 'unpark'}],
      warnings: [],
    })
    expect(planEnable(parked, parsePodArg('static-web.yaml')).steps).to.deep.equal([{name: 'static-web.yaml', op: 'unpark'}])
  })

  it('already so: nothing to do, and it says so', async () => {
    const live = await nodeState({'static-web.yaml': manifest('static-web.yaml')})
    expect(planEnable(live, parsePodArg('static-web'))).to.deep.equal({moves: [], steps: [], warnings: ['static-web is already enabled (/etc/kubernetes/manifests/static-web.yaml)']})
    const parked = await nodeState({}, {disabled: {'static-web.yaml': manifest('static-web.yaml')}})
    expect(planDisable(parked, parsePodArg('static-web'))).to.deep.equal({moves: [], steps: [], warnings: ['static-web is already disabled (/var/lib/staticpod/disabled/static-web.yaml)']})
  })

  it('a pod that is neither: refused, naming where it looked', async () => {
    const empty = await nodeState({'a.yaml': pod('a')})
    expect(() => planDisable(empty, parsePodArg('static-web'))).to.throw(RefusedError, 'no pod static-web in /etc/kubernetes/manifests')
    expect(() => planEnable(empty, parsePodArg('static-web.yaml'))).to.throw(RefusedError, 'no pod static-web.yaml parked in /var/lib/staticpod/disabled')
    expect(() => planEnable(empty, parsePodArg('Web_1.yaml'))).to.throw(RefusedError, 'no file Web_1.yaml parked in /var/lib/staticpod/disabled')
  })

  it('never overwrites another pod\'s file, in either direction', async () => {
    const clash = await nodeState({'web.yaml': pod('web')}, {disabled: {'web.yaml': pod('other')}})
    expect(() => planDisable(clash, parsePodArg('web'))).to.throw(RefusedError, '/var/lib/staticpod/disabled/web.yaml already holds pod default/other')
    expect(() => planEnable(clash, parsePodArg('other'))).to.throw(RefusedError, '/etc/kubernetes/manifests/web.yaml already exists (pod default/web): not overwriting it with the parked web.yaml')
  })

  it('enable of a pod that came back in the meantime leaves the parked copy, and says so', async () => {
    const both = await nodeState({'new-web.yaml': manifest('static-web-v2.yaml')}, {disabled: {'static-web.yaml': manifest('static-web.yaml')}})
    expect(planEnable(both, parsePodArg('static-web.yaml'))).to.deep.equal({
      moves: [], steps: [], warnings: ['pod default/static-web is already in the manifest directory (new-web.yaml); its parked copy /var/lib/staticpod/disabled/static-web.yaml stays parked'],
    })
  })
})
