// `add`: reading and validating the manifests, and the decision of which file to write on a node.
import {expect} from 'chai'
import {
  mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {UserError} from '../../../src/errors.js'
import {loadManifests, type LocalManifest, planAdd} from '../../../src/ops/add.js'
import {assertDirectory, RefusedError, simulate} from '../../../src/ops/apply.js'
import {fingerprint, sha256} from '../../../src/ops/node-scripts.js'
import {FIXTURES} from '../../helpers/fixtures.js'
import {manifest, nodeState, pod} from './node-state.js'

const fixture = (name: string): string => path.join(FIXTURES, 'manifests-on-nodes', name)
/** The RefusedError that `fn` throws. */
function refusal(fn: () => unknown): RefusedError {
  try {
    fn()
  } catch (error) {
    if (error instanceof RefusedError) return error
    throw error
  }

  throw new Error('not refused')
}

const noStdin = async (): Promise<Buffer> => {
  throw new Error('standard input read')
}

/** A local manifest, validated as add validates it. */
async function local(name: string, text?: string): Promise<LocalManifest> {
  const dir = mkdtempSync(path.join(tmpdir(), 'staticpod-add-'))
  try {
    const file = path.join(dir, name)
    writeFileSync(file, text ?? manifest(name))
    const loaded = await loadManifests([file], noStdin)
    if ('invalid' in loaded) throw new Error(`invalid: ${JSON.stringify(loaded.invalid.results)}`)
    return loaded.manifests[0]!
  } finally {
    rmSync(dir, {force: true, recursive: true})
  }
}

describe('ops/add', () => {
  describe('reading the manifests', () => {
    let dir: string

    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'staticpod-add-'))
    })

    afterEach(() => rmSync(dir, {force: true, recursive: true}))

    it('a valid manifest: its bytes, sha256, pod, and the name it keeps on the nodes', async () => {
      const loaded = await loadManifests([fixture('static-web.yaml'), fixture('etcd-backup.yaml'), fixture('web.json')], noStdin)
      expect('manifests' in loaded).to.equal(true)
      if (!('manifests' in loaded)) return
      expect(loaded.manifests.map(m => [m.name, m.pod.namespace, m.pod.name, m.sha256])).to.deep.equal([
        ['static-web.yaml', 'default', 'static-web', sha256(manifest('static-web.yaml'))],
        ['etcd-backup.yaml', 'kube-system', 'etcd-backup', sha256(manifest('etcd-backup.yaml'))],
        ['web.json', 'web', 'web-json', sha256(manifest('web.json'))],
      ])
    })

    it('an invalid manifest, or one with two documents, comes back as the validation result (nothing else happens)', async () => {
      for (const name of ['invalid-static-web.yaml', 'two-pods.yaml']) {
      // eslint-disable-next-line no-await-in-loop
        const loaded = await loadManifests([fixture('static-web.yaml'), fixture(name)], noStdin)
        expect('invalid' in loaded, name).to.equal(true)
        if ('invalid' in loaded) expect(loaded.invalid.summary.invalid, name).to.be.greaterThan(0)
      }
    })

    it('standard input: read once, named <pod>.yaml on the nodes', async () => {
      let reads = 0
      const loaded = await loadManifests(['-'], async () => {
        reads++
        return Buffer.from(pod('from-stdin', 'tools'))
      })
      expect(reads).to.equal(1)
      if (!('manifests' in loaded)) throw new Error('invalid')
      expect(loaded.manifests[0]).to.deep.include({file: '-', name: 'from-stdin.yaml', pod: {name: 'from-stdin', namespace: 'tools'}})
    })

    it('usage errors (exit 2): no such file, a directory, a name the nodes cannot have, stdin twice', async () => {
      const bad: Array<[string[], RegExp]> = [
        [[path.join(dir, 'missing.yaml')], /no such file/],
        [[dir], /is a directory: name the manifest files/],
        [['-', '-'], /can be given once/],
      ]
      for (const name of ['.hidden.yaml', 'web', 'web.txt', 'we b.yaml', 'web$(id).yaml', '-web.yaml']) {
        writeFileSync(path.join(dir, name), pod('web'))
        bad.push([[path.join(dir, name)], /cannot install .*: its name /])
      }

      for (const [paths, message] of bad) {
      // eslint-disable-next-line no-await-in-loop
        const error = await loadManifests(paths, async () => Buffer.from(pod('x'))).then(() => {}, (error_: unknown) => error_)
        expect(error, paths.join(' ')).to.be.instanceOf(UserError)
        expect((error as UserError).message, paths.join(' ')).to.match(message)
        expect((error as UserError).exitCode).to.equal(2)
      }
    })

    it('the same pod twice, or the same file name twice (from two directories): refused', async () => {
      mkdirSync(path.join(dir, 'a'))
      mkdirSync(path.join(dir, 'b'))
      writeFileSync(path.join(dir, 'a', 'web.yaml'), pod('web'))
      writeFileSync(path.join(dir, 'b', 'web2.yaml'), pod('web'))
      writeFileSync(path.join(dir, 'b', 'web.yaml'), pod('other'))
      const samePod = await loadManifests([path.join(dir, 'a', 'web.yaml'), path.join(dir, 'b', 'web2.yaml')], noStdin).catch((error: unknown) => error)
      expect((samePod as Error).message).to.match(/both define pod default\/web/)
      const sameName = await loadManifests([path.join(dir, 'a', 'web.yaml'), path.join(dir, 'b', 'web.yaml')], noStdin).catch((error: unknown) => error)
      expect((sameName as Error).message).to.match(/both would be web\.yaml on the nodes/)
    })
  })

  describe('which file to write', () => {
    it('a pod the node does not have: created under the manifest\'s own name', async () => {
      const state = await nodeState({'etcd-backup.yaml': manifest('etcd-backup.yaml')})
      const m = await local('static-web.yaml')
      const plan = planAdd(state, m)
      expect(plan).to.deep.include({action: 'create', path: '/etc/kubernetes/manifests/static-web.yaml', target: 'static-web.yaml'})
      expect(plan.steps).to.deep.equal([{content: m.content, name: 'static-web.yaml', op: 'put'}])
    })

    it('the same bytes already there: unchanged, nothing to run', async () => {
      const state = await nodeState({'static-web.yaml': manifest('static-web.yaml')})
      const plan = planAdd(state, await local('static-web.yaml'))
      expect(plan.action).to.equal('unchanged')
      expect(plan.steps).to.deep.equal([])
    })

    it('the pod in a file of another name: that file is replaced in place, keeping its name (never two files for one pod)', async () => {
      const state = await nodeState({'web.yaml': manifest('static-web.yaml')})
      const m = await local('static-web-v2.yaml')
      const plan = planAdd(state, m)
      expect(plan).to.deep.include({action: 'replace', target: 'web.yaml'})
      expect(plan.previous?.name).to.equal('web.yaml')
      expect(plan.steps).to.deep.equal([{content: m.content, name: 'web.yaml', op: 'put'}])
      expect(plan.warnings).to.deep.equal(['static-web-v2.yaml: pod default/static-web is already defined in web.yaml; replacing that file (keeping its name)'])
    })

    it('the pod in two files already: the other is removed first, then the one the kubelet runs (the last by name) is replaced', async () => {
      const state = await nodeState({'a-web.yaml': manifest('static-web.yaml'), 'static-web.yaml.bak': manifest('static-web.yaml'), 'z-web.yaml': manifest('static-web-v2.yaml')})
      const m = await local('static-web.yaml')
      const plan = planAdd(state, m)
      expect(plan.target).to.equal('z-web.yaml')
      expect(plan.steps).to.deep.equal([
        {name: 'a-web.yaml', op: 'rm'},
        {name: 'static-web.yaml.bak', op: 'rm'},
        {content: m.content, name: 'z-web.yaml', op: 'put'},
      ])
      // When one of them has the manifest's name, that one is kept.
      const named = await nodeState({'a-web.yaml': manifest('static-web.yaml'), 'static-web.yaml': manifest('static-web-v2.yaml')})
      expect(planAdd(named, m).steps).to.deep.equal([{name: 'a-web.yaml', op: 'rm'}, {content: m.content, name: 'static-web.yaml', op: 'put'}])
      // Even with the same bytes, a duplicate makes it a change.
      expect(planAdd(await nodeState({'a.yaml': manifest('static-web.yaml'), 'static-web.yaml': manifest('static-web.yaml')}), m).action).to.equal('replace')
    })

    it('a file of another pod with the manifest\'s name is never overwritten; nor is a directory', async () => {
      const m = await local('static-web.yaml')
      const taken = await nodeState({'static-web.yaml': pod('db', 'data')})
      expect(() => planAdd(taken, m)).to.throw(RefusedError, '/etc/kubernetes/manifests/static-web.yaml defines pod data/db, not default/static-web: not overwriting another pod\'s manifest')
      expect(refusal(() => planAdd(taken, m)).hints).to.deep.equal(['Remove it first (staticpod rm NODE data/db), or give your manifest another file name.'])
      const asDir = await nodeState({'static-web.yaml': null})
      expect(refusal(() => planAdd(asDir, m)).message).to.equal('/etc/kubernetes/manifests/static-web.yaml is a directory: not replacing it')
    })

    it('a static pod path that is relative or a single file is refused, with what to do instead', async () => {
      const relative = await nodeState({}, {dir: 'manifests'})
      expect(refusal(() => assertDirectory(relative)).message).to.equal('the kubelet\'s static pod path "manifests" is relative (to the kubelet\'s working directory), which staticpod does not guess')
      const single = await nodeState({})
      single.dir.kind = 'file'
      expect(refusal(() => assertDirectory(single)).hints).to.deep.equal(['Point the kubelet at a directory (staticPodPath / --pod-manifest-path), or set manifestDir for this node in the inventory.'])
      const absent = await nodeState({})
      absent.dir.kind = 'absent'
      expect(() => assertDirectory(absent)).not.to.throw()
    })

    it('an unparseable file with the manifest\'s name is replaced (and backed up by the script)', async () => {
      const state = await nodeState({'static-web.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: [\n'})
      expect(state.files[0]!.status).to.equal('error')
      const plan = planAdd(state, await local('static-web.yaml'))
      expect(plan.action).to.equal('replace')
    })

    it('another namespace is another pod', async () => {
      const state = await nodeState({'web.yaml': pod('static-web', 'other')})
      expect(planAdd(state, await local('static-web.yaml')).action).to.equal('create')
    })

    it('a disabled copy of the pod is retired after the write, and said so', async () => {
      const state = await nodeState({}, {disabled: {'other.yaml': pod('other'), 'static-web.yaml': manifest('static-web.yaml')}})
      const m = await local('static-web.yaml')
      const plan = planAdd(state, m)
      expect(plan.steps).to.deep.equal([{content: m.content, name: 'static-web.yaml', op: 'put'}, {name: 'static-web.yaml', op: 'rmp'}])
      expect(plan.warnings).to.deep.equal(['pod default/static-web was disabled (/var/lib/staticpod/disabled/static-web.yaml): the parked copy is retired'])
    })

    it('after the plan runs, the simulated state plans to nothing, with the fingerprint the node will have', async () => {
      const before = await nodeState({'a.yaml': manifest('static-web.yaml'), 'web.yaml': manifest('static-web-v2.yaml')}, {disabled: {'static-web.yaml': manifest('static-web.yaml')}})
      const m = await local('static-web.yaml')
      const plan = planAdd(before, m)
      const after = simulate(before, plan.steps, name => ({
        content: m.content, documents: [m.document], kind: 'file', name, path: `/etc/kubernetes/manifests/${name}`, pod: m.pod, raw: Buffer.from(name), sha256: m.sha256, size: m.content.length, status: 'valid',
      }))
      expect(after.files.map(f => f.name)).to.deep.equal(['web.yaml'])
      expect(after.disabled).to.deep.equal([])
      expect(after.fingerprint).to.equal((await nodeState({'web.yaml': manifest('static-web.yaml')})).fingerprint)
      expect(after.fingerprint).to.equal(fingerprint([{kind: 'file', raw: Buffer.from('web.yaml'), sha256: m.sha256}], []))
      expect(planAdd(after, m).action).to.equal('unchanged')
    })
  })
})
