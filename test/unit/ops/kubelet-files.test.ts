// The write script of src/ops/kubelet-files.ts, run for real with the local sh on files in a temp
// directory (the same script the nodes run over SSH; only the state directory differs).
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {
  chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {
  effectiveAfter, isUnitPath, kubeletProbeRequest, parseWriteOutput, writeArgv, type WriteStep,
} from '../../../src/ops/kubelet-files.js'
import {emptyGathered} from '../../../src/ops/manifest-dir.js'

function sh(argv: string[]): {code: null | number; stderr: string; stdout: string} {
  const [cmd, ...args] = argv
  const result = spawnSync(cmd!, args, {encoding: 'utf8'})
  return {code: result.status, stderr: result.stderr, stdout: result.stdout}
}

describe('ops/kubelet-files', () => {
  let dir: string
  let state: string

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'staticpod-kubelet-files-'))
    state = path.join(dir, 'state')
  })

  afterEach(() => {
    rmSync(dir, {force: true, recursive: true})
  })

  const run = (steps: WriteStep[]) => sh(writeArgv(steps, {random: 'abcdef12', stateDir: state}))

  it('writes files atomically, keeps the mode of the old one, backs it up under its full path, leaves no temp file', () => {
    const env = path.join(dir, 'etc/kubernetes/kubelet')
    const before = '# comment\nKUBELET_ARGS="--pod-manifest-path=/etc/kubernetes/manifests/"\n'
    mkdirSync(path.dirname(env), {recursive: true})
    writeFileSync(env, before)
    chmodSync(env, 0o640)
    const created = path.join(dir, 'var/lib/kubelet/config.d/99-staticpod.conf')
    const after = '# comment\nKUBELET_ARGS="--pod-manifest-path=/etc/kubelet.d/"\n'
    const result = run([
      {
        content: after, old: before, op: 'put', path: env,
      },
      {content: 'kind: KubeletConfiguration\n', op: 'put', path: created},
    ])
    expect(result.code, result.stderr).to.equal(0)
    const out = parseWriteOutput(result.stdout)
    expect(out).to.deep.include({done: 2, finished: true})
    expect(readFileSync(env, 'utf8')).to.equal(after)
    expect(statSync(env).mode.toString(8).slice(-3)).to.equal('640')
    expect(readFileSync(created, 'utf8')).to.equal('kind: KubeletConfiguration\n')
    const backup = out.backups.get(env)!
    expect(backup).to.match(new RegExp(`^${state}/backups/\\d{8}T\\d{6}Z(\\.\\d+)?${env}$`))
    expect(readFileSync(backup, 'utf8')).to.equal(before)
    expect(out.backups.has(created)).to.equal(false)
    expect(readdirSync(path.dirname(env))).to.deep.equal(['kubelet'])
    expect(readdirSync(path.dirname(created))).to.deep.equal(['99-staticpod.conf'])
  })

  it('writes nothing when a file changed since it was read (exit 75)', () => {
    const a = path.join(dir, 'a')
    const b = path.join(dir, 'b')
    writeFileSync(a, 'A\n')
    writeFileSync(b, 'B changed by someone\n')
    const result = run([
      {
        content: 'A2\n', old: 'A\n', op: 'put', path: a,
      },
      {
        content: 'B2\n', old: 'B\n', op: 'put', path: b,
      },
    ])
    expect(result.code).to.equal(75)
    expect(result.stderr).to.include(`${b} changed since it was read`)
    expect(readFileSync(a, 'utf8')).to.equal('A\n')
    expect(readFileSync(b, 'utf8')).to.equal('B changed by someone\n')
    // A file expected absent that exists is a change too.
    expect(run([{content: 'x', op: 'put', path: a}]).code).to.equal(75)
  })

  it('restores the exact previous bytes from the backup and removes the files it created', () => {
    const a = path.join(dir, 'etc/default/kubelet')
    const bytes = 'KUBELET_EXTRA_ARGS=\'--a="b c"\'\n# no newline at the end'
    mkdirSync(path.dirname(a), {recursive: true})
    writeFileSync(a, bytes)
    const created = path.join(dir, 'new.conf')
    const written = parseWriteOutput(run([
      {
        content: 'KUBELET_EXTRA_ARGS=--bad\n', old: bytes, op: 'put', path: a,
      },
      {content: 'x: 1\n', op: 'put', path: created},
    ]).stdout)
    const restored = run([{backup: written.backups.get(a)!, op: 'restore', path: a}, {op: 'rm', path: created}])
    expect(restored.code, restored.stderr).to.equal(0)
    expect(readFileSync(a, 'utf8')).to.equal(bytes)
    expect(existsSync(created)).to.equal(false)
    expect(readdirSync(path.dirname(a))).to.deep.equal(['kubelet'])
  })

  it('refuses paths that are not absolute or climb with ..', () => {
    expect(() => writeArgv([{op: 'rm', path: 'etc/x'}])).to.throw(/not a usable absolute path/)
    expect(() => writeArgv([{op: 'rm', path: '/etc/../x'}])).to.throw(/not a usable absolute path/)
    expect(() => writeArgv([{op: 'rm', path: '/x'}], {random: 'x; rm -rf /'})).to.throw(/bad random part/)
  })

  it('asks the probe for every kubelet file and no manifest directory; knows unit paths', () => {
    const request = kubeletProbeRequest()
    expect(request.mode).to.equal('full')
    expect(request.items.some(item => item.tag === 'manifest-dir')).to.equal(false)
    expect(request.items).to.deep.include({path: '/etc/kubernetes/kubelet', tag: 'file'})
    expect(isUnitPath('/etc/systemd/system/kubelet.service.d/10-kubeadm.conf')).to.equal(true)
    expect(isUnitPath('/etc/default/kubelet')).to.equal(false)
  })

  it('computes the settings after an edit from the files, not from the running command line', () => {
    const gathered = emptyGathered()
    const unit = '[Service]\nEnvironmentFile=-/etc/kubernetes/kubelet\nExecStart=/usr/bin/kubelet $KUBELET_ARGS\n'
    gathered.files.set('/etc/systemd/system/kubelet.service', unit)
    gathered.files.set('/etc/kubernetes/kubelet', 'KUBELET_ARGS="--pod-manifest-path=/old"\n')
    gathered.cmdline = '/usr/bin/kubelet\0--pod-manifest-path=/old\0'
    const eff = effectiveAfter(gathered, new Map([['/etc/kubernetes/kubelet', 'KUBELET_ARGS="--pod-manifest-path=/new"\n']]))
    expect(eff.settings.find(s => s.key === 'staticPodPath')?.value).to.equal('/new')
    expect(eff.running).to.equal(undefined)
  })
})
