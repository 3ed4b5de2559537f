// The probe and apply scripts, run for real by /bin/sh on this machine, in temporary directories,
// through the same quoting as over SSH (remoteCommand: the line sshd hands to the login shell).
import {expect} from 'chai'
import {spawn, spawnSync} from 'node:child_process'
import {
  chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {
  APPLY_SCRIPT, applyArgv, type ApplyStep, EXIT_CHANGED, fingerprint, parseApplyOutput, parseProbeOutput, PROBE_SCRIPT, probeArgv, type ProbeRequest, ProbeTornError, scriptSaid, sha256,
} from '../../../src/ops/node-scripts.js'
import {remoteCommand} from '../../../src/transport/remote-command.js'

/** Names a node's files may have, and that must reach the scripts as data. */
const HOSTILE = [
  'we$(touch pwned)ird.yaml',
  'new\nline.yaml',
  'sp ace.yaml',
  'quo\'te".yaml',
  '`touch pwned`.yaml',
  '-rf',
  'ünïcødé-名前.yaml',
  ';touch pwned',
  '*',
  '$HOME',
  String.raw`\back\slash`,
]

interface Result {
  code: null | number
  stderr: string
  stdout: string
  /** stdout as it came: the probe sends file contents as they are. */
  stdoutBytes: Buffer
}

/** Run argv as sshd would: the login shell gets remoteCommand's line (watchdog included). */
function viaShell(argv: string[], input?: Buffer, cwd?: string): Result {
  const result = spawnSync('/bin/sh', ['-c', remoteCommand(argv)], {cwd, input})
  return {
    code: result.status, stderr: result.stderr.toString('utf8'), stdout: result.stdout.toString('utf8'), stdoutBytes: result.stdout,
  }
}

let root: string
const dir = (name: string): string => path.join(root, name)

/** Permission bits, in octal. */
function mode(file: string): string {
  return (statSync(file).mode % 0o1000).toString(8)
}

/** Every file under root, relative, with its content. */
function tree(): Record<string, string> {
  const out: Record<string, string> = {}
  for (const entry of readdirSync(root, {recursive: true, withFileTypes: true})) {
    const full = path.join(entry.parentPath, entry.name)
    if (entry.isFile()) out[path.relative(root, full)] = readFileSync(full, 'utf8')
  }

  return out
}

function probe(request: ProbeRequest, max?: number) {
  const argv = probeArgv(request)
  if (max !== undefined) argv[4] = String(max)
  const result = viaShell(argv, undefined, root)
  expect(result.code, result.stderr).to.equal(0)
  expect(result.stderr).to.equal('')
  return parseProbeOutput(result.stdoutBytes, request)
}

describe('ops/node-scripts', () => {
  it('scriptSaid: the last "staticpod: " line of stderr, without the prefix; nothing when the script said nothing', () => {
    expect(scriptSaid('cat: write error\nstaticpod: first\nnoise\nstaticpod: cannot list /x: permission denied\n')).to.equal('cannot list /x: permission denied')
    expect(scriptSaid('cat: write error: No space left on device\n')).to.equal(undefined)
    expect(scriptSaid('')).to.equal(undefined)
  })

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'staticpod-scripts-'))
  })

  afterEach(() => {
    rmSync(root, {force: true, recursive: true})
  })

  describe('the probe', () => {
    it('finds the running kubelet by its process name and sends its command line, among few processes or many', async () => {
      const bin = dir('bin')
      mkdirSync(bin)
      const kubelet = path.join(bin, 'kubelet')
      writeFileSync(kubelet, readFileSync('/bin/sh'))
      chmodSync(kubelet, 0o755)
      // A shell by the kubelet's name, waiting, with a flag among its arguments for the probe to find.
      const argv = ['-c', 'sleep 60; :', 'kubelet', '--pod-manifest-path=/srv/pods']
      const running = spawn(kubelet, argv, {stdio: 'ignore'})
      const sleepers: ReturnType<typeof spawn>[] = []
      try {
        for (const crowd of [0, 120]) {
          while (sleepers.length < crowd) sleepers.push(spawn('sleep', ['60'], {stdio: 'ignore'}))
          const answer = probe({items: [], mode: 'full'})
          expect(answer.cmdline, `${crowd} more processes`).to.deep.equal({pid: running.pid, text: `${[kubelet, ...argv].join('\0')}\0`})
          expect(answer.candidates.map(c => c.path), `${crowd} more processes`).to.include('/srv/pods')
        }
      } finally {
        for (const child of [running, ...sleepers]) child.kill()
      }
    })

    it('lists a manifest directory as the kubelet reads it: every entry not starting with ".", content byte for byte, hostile names intact', () => {
      const manifests = dir('manifests')
      mkdirSync(manifests)
      const contents = new Map<string, Buffer>()
      for (const [index, name] of HOSTILE.entries()) {
        const content = Buffer.from(`apiVersion: v1\nkind: Pod\n# ${index}\n`)
        writeFileSync(path.join(manifests, name), content)
        contents.set(name, content)
      }

      const binary = Buffer.from([0, 1, 2, 0xFF, 0xFE, 10, 13, 0x80])
      writeFileSync(path.join(manifests, 'binary'), binary)
      contents.set('binary', binary)
      writeFileSync(path.join(manifests, '.staticpod-web.yaml.0123.tmp'), 'half a manif')
      writeFileSync(path.join(manifests, '.swp'), 'x')
      const invalidUtf8 = Buffer.from([0x62, 0xFF, 0x2E, 0x79, 0x61, 0x6D, 0x6C])
      writeFileSync(Buffer.concat([Buffer.from(manifests + '/'), invalidUtf8]), 'raw name')

      const answer = probe({items: [{path: manifests, tag: 'manifest-dir'}], mode: 'more'})
      const [listing] = answer.results
      expect(listing!.entry.kind).to.equal('dir')
      const entries = listing!.entries!
      expect(entries.map(e => e.raw.toString('hex')).sort()).to.deep.equal([...contents.keys(), invalidUtf8].map(n => Buffer.from(n).toString('hex')).sort())
      for (const [name, content] of contents) {
        const entry = entries.find(e => e.name === name)!
        expect(entry.kind, name).to.equal('file')
        expect(entry.content!.equals(content), name).to.equal(true)
        expect(entry.sha256).to.equal(sha256(content))
        expect(entry.size).to.equal(content.length)
        expect(entry.mtime).to.be.within((Date.now() / 1000) - 60, (Date.now() / 1000) + 60)
      }

      expect(entries.find(e => e.raw.equals(invalidUtf8))!.content!.toString()).to.equal('raw name')
      expect(existsSync(path.join(root, 'pwned'))).to.equal(false)
    })

    it('tells directories, other entries, absent paths and files too big to send (sha256 only) apart', () => {
      const manifests = dir('manifests')
      mkdirSync(path.join(manifests, 'sub'), {recursive: true})
      symlinkSync('/nonexistent/target', path.join(manifests, 'broken-link'))
      writeFileSync(dir('target.yaml'), 'kind: Pod\n')
      symlinkSync(dir('target.yaml'), path.join(manifests, 'linked.yaml'))
      const big = Buffer.alloc(100, 'x')
      writeFileSync(path.join(manifests, 'big.yaml'), big)
      writeFileSync(path.join(manifests, 'empty.yaml'), '')

      const answer = probe({
        items: [
          {path: manifests, tag: 'manifest-dir'},
          {path: dir('missing'), tag: 'manifest-dir'},
          {path: dir('target.yaml'), tag: 'manifest-dir'},
          {path: dir('missing.conf'), tag: 'file'},
          {path: manifests, tag: 'exists'},
          {path: dir('nope'), tag: 'exists'},
        ],
        mode: 'more',
      }, 50)
      const entries = Object.fromEntries(answer.results[0]!.entries!.map(e => [e.name, e]))
      expect(Object.keys(entries).sort()).to.deep.equal(['big.yaml', 'broken-link', 'empty.yaml', 'linked.yaml', 'sub'])
      expect(entries.sub!.kind).to.equal('dir')
      expect(entries['broken-link']!.kind).to.equal('other')
      expect(entries['linked.yaml']).to.deep.include({kind: 'file', size: 10})
      expect(entries['empty.yaml']).to.deep.include({kind: 'file', sha256: sha256(''), size: 0})
      expect(entries['big.yaml']).to.deep.include({
        kind: 'file', sha256: sha256(big), size: 100, tooLarge: true,
      })
      expect(entries['big.yaml']!.content).to.equal(undefined)
      expect(answer.results.slice(1).map(r => r.entry.kind)).to.deep.equal(['absent', 'file', 'absent', 'other', 'absent'])
      // A static pod path that is a single file comes back with its content.
      expect(answer.results[2]!.entry.content!.toString()).to.equal('kind: Pod\n')
    })

    it('reads only *.conf in drop-in directories, and files by their path', () => {
      const dropins = dir('kubelet.service.d')
      mkdirSync(dropins)
      writeFileSync(path.join(dropins, '10-kubeadm.conf'), '[Service]\n')
      writeFileSync(path.join(dropins, 'README'), 'not read')
      writeFileSync(path.join(dropins, '.hidden.conf'), 'not read')
      writeFileSync(dir('kubeadm-flags.env'), 'KUBELET_KUBEADM_ARGS="--a=b"\n')
      const answer = probe({items: [{path: dropins, tag: 'conf-dir'}, {path: dir('kubeadm-flags.env'), tag: 'file'}], mode: 'more'})
      expect(answer.results[0]!.entries!.map(e => [e.name, e.content!.toString()])).to.deep.equal([['10-kubeadm.conf', '[Service]\n']])
      expect(answer.results[1]!.entry.content!.toString()).to.equal('KUBELET_KUBEADM_ARGS="--a=b"\n')
    })

    it('in full mode: host name, clock, and the manifest directories named in the kubelet files it reads, listed too', () => {
      for (const name of ['plain', 'quoted', 'json', 'flag', 'flag-space', 'listed']) mkdirSync(dir(name))
      writeFileSync(path.join(dir('plain'), 'a.yaml'), 'a')
      writeFileSync(dir('config.yaml'), `kind: KubeletConfiguration\nstaticPodPath: ${dir('plain')} # comment\n`)
      writeFileSync(dir('dropin.conf'), `staticPodPath: "${dir('quoted')}/"\n`)
      writeFileSync(dir('config.json'), `{"kind": "KubeletConfiguration", "staticPodPath": "${dir('json')}", "x": 1}\n`)
      writeFileSync(dir('kubelet'), `KUBELET_ARGS="--cluster-dns=10.254.0.10 --pod-manifest-path=${dir('flag')} --v=2"\n`)
      writeFileSync(dir('extra'), `KUBELET_EXTRA_ARGS='--pod-manifest-path ${dir('flag-space')}'\n`)
      writeFileSync(dir('listed.env'), `X="--pod-manifest-path=${dir('listed')}"\n# staticPodPath: relative/not/absolute\n`)
      const items = ['config.yaml', 'dropin.conf', 'config.json', 'kubelet', 'extra', 'listed.env'].map(name => ({path: dir(name), tag: 'file' as const}))
      const answer = probe({items: [...items, {path: dir('listed'), tag: 'manifest-dir'}], mode: 'full'})
      expect(answer.hostname).to.equal(spawnSync('uname', ['-n'], {encoding: 'utf8'}).stdout.trim())
      expect(answer.now).to.be.within((Date.now() / 1000) - 60, (Date.now() / 1000) + 60)
      expect(answer.candidates.map(c => c.path).sort()).to.deep.equal([dir('flag'), dir('flag-space'), dir('json'), dir('plain'), `${dir('quoted')}/`].sort())
      const plain = answer.candidates.find(c => c.path === dir('plain'))!
      expect(plain.entries!.map(e => [e.name, e.content!.toString()])).to.deep.equal([['a.yaml', 'a']])
    })

    it('output cut short or garbled is an error, never a smaller answer', () => {
      mkdirSync(dir('m'))
      writeFileSync(path.join(dir('m'), 'a.yaml'), 'kind: Pod\n')
      const request: ProbeRequest = {items: [{path: dir('m'), tag: 'manifest-dir'}, {path: dir('x'), tag: 'file'}], mode: 'more'}
      const {stdout} = viaShell(probeArgv(request))
      expect(() => parseProbeOutput(Buffer.from(stdout), request)).not.to.throw()
      const lines = stdout.split('\n')
      for (let cut = 1; cut < lines.length - 1; cut++) {
        expect(() => parseProbeOutput(Buffer.from(lines.slice(0, cut).join('\n')), request), `cut at line ${cut}`).to.throw(/unexpected output/)
      }

      expect(() => parseProbeOutput(Buffer.from(stdout.replace('arg 2 -', 'arg 2 ?')), request)).to.throw(/unknown kind/)
      expect(() => parseProbeOutput(Buffer.from('Welcome to node1!\n' + stdout), request)).to.throw(/first line/)
    })

    it('a file that grew or shrank between its stat and its read tears the answer: ProbeTornError, to ask again', () => {
      mkdirSync(dir('m'))
      writeFileSync(path.join(dir('m'), 'a.yaml'), 'kind: Pod\n')
      writeFileSync(path.join(dir('m'), 'b.yaml'), 'kind: Pod\n# b\n')
      const request: ProbeRequest = {items: [{path: dir('m'), tag: 'manifest-dir'}, {path: path.join(dir('m'), 'a.yaml'), tag: 'file'}], mode: 'more'}
      const {stdoutBytes} = viaShell(probeArgv(request))
      const answer = parseProbeOutput(stdoutBytes, request)
      expect(answer.results[0]!.entries!.map(e => e.content!.toString())).to.deep.equal(['kind: Pod\n', 'kind: Pod\n# b\n'])
      expect(answer.results[1]!.entry.content!.toString()).to.equal('kind: Pod\n')
      const at = stdoutBytes.indexOf('# b\n')
      const shrunk = Buffer.concat([stdoutBytes.subarray(0, at), stdoutBytes.subarray(at + 1)])
      const grown = Buffer.concat([stdoutBytes.subarray(0, at), Buffer.from('#'), stdoutBytes.subarray(at)])
      for (const torn of [shrunk, grown]) expect(() => parseProbeOutput(torn, request)).to.throw(ProbeTornError)
    })

    it('refuses relative paths (a bug, not user input)', () => {
      expect(() => probeArgv({items: [{path: 'etc/kubernetes', tag: 'manifest-dir'}], mode: 'more'})).to.throw(/absolute/)
    })
  })

  describe('the apply script', () => {
    let manifests: string
    let parked: string
    let state: string

    beforeEach(() => {
      manifests = dir('etc/kubernetes/manifests')
      parked = dir('state/disabled')
      state = dir('state')
    })

    /** The fingerprint of the directories as they are now, from the probe (as the ops compute it). */
    function currentFingerprint(): string {
      const request: ProbeRequest = {items: [{path: manifests, tag: 'manifest-dir'}, {path: parked, tag: 'manifest-dir'}], mode: 'more'}
      const answer = parseProbeOutput(viaShell(probeArgv(request)).stdoutBytes, request)
      return fingerprint(answer.results[0]!.entries ?? [], answer.results[1]!.entries ?? [])
    }

    function apply(steps: ApplyStep[], options: {backup?: boolean; fingerprint?: string; stdin?: Buffer} = {}): Result & {output: ReturnType<typeof parseApplyOutput>} {
      const {argv, stdin} = applyArgv({
        backup: options.backup ?? true, disabledDir: parked, fingerprint: options.fingerprint ?? currentFingerprint(), manifestDir: manifests, random: '0123456789abcdef', stateDir: state,
      }, steps)
      const result = viaShell(argv, options.stdin ?? stdin, root)
      return {...result, output: parseApplyOutput(result.stdout)}
    }

    it('put: creates the directory (0700) and the file (0600) through a dot-prefixed temp file, and says done', () => {
      const result = apply([{content: Buffer.from('kind: Pod\n'), name: 'web.yaml', op: 'put'}])
      expect(result.code, result.stderr).to.equal(0)
      expect(result.output).to.deep.equal({backups: new Map(), done: [0], finished: true})
      expect(mode(manifests)).to.equal('700')
      expect(mode(path.join(manifests, 'web.yaml'))).to.equal('600')
      expect(readdirSync(manifests)).to.deep.equal(['web.yaml'])
      expect(readFileSync(path.join(manifests, 'web.yaml'), 'utf8')).to.equal('kind: Pod\n')
    })

    it('put over a file: backs the old one up outside the manifest directory, under backups/<UTC time>/', () => {
      mkdirSync(manifests, {recursive: true})
      writeFileSync(path.join(manifests, 'web.yaml'), 'old\n')
      const result = apply([{content: Buffer.from('new\n'), name: 'web.yaml', op: 'put'}])
      expect(result.code, result.stderr).to.equal(0)
      const backup = result.output.backups.get(0)!
      expect(backup).to.match(new RegExp(`^${state}/backups/\\d{8}T\\d{6}Z/web\\.yaml$`))
      expect(readFileSync(backup, 'utf8')).to.equal('old\n')
      expect(readFileSync(path.join(manifests, 'web.yaml'), 'utf8')).to.equal('new\n')
      expect(readdirSync(manifests)).to.deep.equal(['web.yaml'])
      // A second backup of the same name in the same second does not overwrite the first.
      const again = apply([{content: Buffer.from('newer\n'), name: 'web.yaml', op: 'put'}])
      expect(again.code, again.stderr).to.equal(0)
      expect(readFileSync(again.output.backups.get(0)!, 'utf8')).to.equal('new\n')
      expect(readFileSync(backup, 'utf8')).to.equal('old\n')
      // --no-backup
      const none = apply([{content: Buffer.from('newest\n'), name: 'web.yaml', op: 'put'}], {backup: false})
      expect(none.code, none.stderr).to.equal(0)
      expect(none.output.backups.size).to.equal(0)
    })

    it('hostile names: each step works on exactly the file of that name, in the directory, and nothing runs', () => {
      mkdirSync(manifests, {recursive: true})
      for (const name of HOSTILE) writeFileSync(path.join(manifests, name), name)
      const parkRun = apply(HOSTILE.map(name => ({name, op: 'park'})))
      expect(parkRun.code, parkRun.stderr).to.equal(0)
      expect(readdirSync(manifests)).to.deep.equal([])
      expect(readdirSync(parked).sort()).to.deep.equal([...HOSTILE].sort())
      const unparkRun = apply(HOSTILE.map(name => ({name, op: 'unpark'})))
      expect(unparkRun.code, unparkRun.stderr).to.equal(0)
      expect(readdirSync(parked)).to.deep.equal([])
      for (const name of HOSTILE) expect(readFileSync(path.join(manifests, name), 'utf8')).to.equal(name)
      const putRun = apply([{content: Buffer.from('new'), name: HOSTILE[0]!, op: 'put'}])
      expect(putRun.code, putRun.stderr).to.equal(0)
      expect(readFileSync(path.join(manifests, HOSTILE[0]!), 'utf8')).to.equal('new')
      expect(readdirSync(manifests).sort()).to.deep.equal([...HOSTILE].sort())
      expect(Object.keys(tree()).filter(f => path.basename(f) === 'pwned')).to.deep.equal([])
    })

    it('an upload cut short (fewer bytes than the sha256 promised) changes nothing and leaves no temp file', () => {
      mkdirSync(manifests, {recursive: true})
      writeFileSync(path.join(manifests, 'web.yaml'), 'old\n')
      const before = tree()
      const content = Buffer.from('apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n')
      const result = apply([{content, name: 'web.yaml', op: 'put'}], {stdin: content.subarray(0, 20)})
      expect(result.code).to.equal(1)
      expect(result.stderr).to.match(/received 20 bytes with sha256 \w+, expected \w+: the upload was cut short, nothing was changed/)
      expect(result.output.finished).to.equal(false)
      expect(tree()).to.deep.equal({...before, 'state/lock': ''})
    })

    it('killed while receiving the manifest (TERM, as the watchdog does when the session goes): no temp file, the old file intact', async () => {
      mkdirSync(manifests, {recursive: true})
      writeFileSync(path.join(manifests, 'web.yaml'), 'old\n')
      const content = Buffer.alloc(256 * 1024, 'a')
      const {argv} = applyArgv({
        backup: true, disabledDir: parked, fingerprint: currentFingerprint(), manifestDir: manifests, random: 'feedfacefeedface', stateDir: state,
      }, [{content, name: 'web.yaml', op: 'put'}])
      const child = spawn(argv[0]!, argv.slice(1), {detached: true, stdio: ['pipe', 'pipe', 'pipe']})
      child.stdin.write(content.subarray(0, 100_000))
      const temp = path.join(manifests, '.staticpod-web.yaml.feedfacefeedface.tmp')
      for (let i = 0; i < 200 && !(existsSync(temp) && statSync(temp).size > 0); i++) {
      // eslint-disable-next-line no-await-in-loop
        await new Promise(resolve => {
          setTimeout(resolve, 10)
        })
      }

      expect(statSync(temp).size).to.be.within(1, 100_000)
      const exited = new Promise<null | number>(resolve => {
        child.on('close', code => resolve(code))
      })
      process.kill(-child.pid!, 'SIGTERM')
      expect(await exited).to.equal(143)
      expect(readdirSync(manifests)).to.deep.equal(['web.yaml'])
      expect(readFileSync(path.join(manifests, 'web.yaml'), 'utf8')).to.equal('old\n')
    })

    it('the session gone while receiving (stdin ends early, stdout and stderr closed): no temp file, the old file intact', async () => {
      mkdirSync(manifests, {recursive: true})
      writeFileSync(path.join(manifests, 'web.yaml'), 'old\n')
      const content = Buffer.alloc(256 * 1024, 'a')
      const {argv} = applyArgv({
        backup: true, disabledDir: parked, fingerprint: currentFingerprint(), manifestDir: manifests, random: 'cafecafecafecafe', stateDir: state,
      }, [{content, name: 'web.yaml', op: 'put'}])
      const child = spawn(argv[0]!, argv.slice(1), {stdio: ['pipe', 'pipe', 'pipe']})
      child.stdin.write(content.subarray(0, 100_000))
      const temp = path.join(manifests, '.staticpod-web.yaml.cafecafecafecafe.tmp')
      for (let i = 0; i < 200 && !(existsSync(temp) && statSync(temp).size > 0); i++) {
      // eslint-disable-next-line no-await-in-loop
        await new Promise(resolve => {
          setTimeout(resolve, 10)
        })
      }

      const exited = new Promise<null | number>(resolve => {
        child.on('close', code => resolve(code))
      })
      child.stdout.destroy()
      child.stderr.destroy()
      child.stdin.end()
      expect(await exited).to.equal(1)
      expect(readdirSync(manifests)).to.deep.equal(['web.yaml'])
      expect(readFileSync(path.join(manifests, 'web.yaml'), 'utf8')).to.equal('old\n')
    })

    it('temp files left by a run that was killed outright (SIGKILL) are removed by the next run, under the lock', () => {
      mkdirSync(manifests, {recursive: true})
      writeFileSync(path.join(manifests, '.staticpod-web.yaml.0000000000000000.tmp'), 'half')
      writeFileSync(path.join(manifests, '.editor.swp'), 'not ours')
      const result = apply([{content: Buffer.from('new\n'), name: 'web.yaml', op: 'put'}])
      expect(result.code, result.stderr).to.equal(0)
      expect(readdirSync(manifests).sort()).to.deep.equal(['.editor.swp', 'web.yaml'])
    })

    it('a directory that changed since it was read: exit 75, nothing changed', () => {
      mkdirSync(manifests, {recursive: true})
      writeFileSync(path.join(manifests, 'web.yaml'), 'old\n')
      const seen = currentFingerprint()
      writeFileSync(path.join(manifests, 'other.yaml'), 'someone else\n')
      const before = tree()
      const result = apply([{content: Buffer.from('new\n'), name: 'web.yaml', op: 'put'}], {fingerprint: seen})
      expect(result.code).to.equal(EXIT_CHANGED)
      expect(result.stderr).to.include('changed since it was read')
      expect(tree()).to.deep.equal({...before, 'state/lock': ''})
      // A change of content is a change too, and so is one in the disabled directory.
      const now = currentFingerprint()
      writeFileSync(path.join(manifests, 'web.yaml'), 'edited\n')
      expect(currentFingerprint()).not.to.equal(now)
      const edited = currentFingerprint()
      mkdirSync(parked, {recursive: true})
      writeFileSync(path.join(parked, 'x.yaml'), 'x')
      expect(currentFingerprint()).not.to.equal(edited)
      // Dot files are not part of it: the kubelet ignores them, and they are where temp files go.
      const withParked = currentFingerprint()
      writeFileSync(path.join(manifests, '.editor.swp'), 'x')
      expect(currentFingerprint()).to.equal(withParked)
    })

    it('two runs planned from the same state: the lock serializes them, the second finds the directory changed', async () => {
      mkdirSync(manifests, {recursive: true})
      const seen = currentFingerprint()
      const run = async (name: string): Promise<null | number> => {
        const {argv, stdin} = applyArgv({
          backup: true, disabledDir: parked, fingerprint: seen, manifestDir: manifests, random: sha256(name).slice(0, 16), stateDir: state,
        }, [{content: Buffer.from(`${name}\n`), name, op: 'put'}])
        const child = spawn('/bin/sh', ['-c', remoteCommand(argv)], {stdio: ['pipe', 'ignore', 'ignore']})
        child.stdin.end(stdin)
        return new Promise(resolve => {
          child.on('close', code => resolve(code))
        })
      }

      const codes = await Promise.all([run('a.yaml'), run('b.yaml')])
      expect(codes.sort()).to.deep.equal([0, EXIT_CHANGED])
      expect(readdirSync(manifests)).to.have.length(1)
    })

    it('rm, park, unpark and rmp, with backups, and hostile names', () => {
      mkdirSync(manifests, {recursive: true})
      const name = HOSTILE[0]!
      writeFileSync(path.join(manifests, name), 'pod\n')
      writeFileSync(path.join(manifests, 'gone.yaml'), 'gone\n')
      chmodSync(path.join(manifests, name), 0o644)

      const parkRun = apply([{name, op: 'park'}, {name: 'gone.yaml', op: 'rm'}])
      expect(parkRun.code, parkRun.stderr).to.equal(0)
      expect(parkRun.output.done).to.deep.equal([0, 1])
      expect(readdirSync(manifests)).to.deep.equal([])
      expect(readdirSync(parked)).to.deep.equal([name])
      expect(mode(path.join(parked, name))).to.equal('644')
      expect(readFileSync(parkRun.output.backups.get(1)!, 'utf8')).to.equal('gone\n')

      const unparkRun = apply([{name, op: 'unpark'}])
      expect(unparkRun.code, unparkRun.stderr).to.equal(0)
      expect(readdirSync(parked)).to.deep.equal([])
      expect(readFileSync(path.join(manifests, name), 'utf8')).to.equal('pod\n')

      expect(apply([{name, op: 'park'}]).code).to.equal(0)
      const rmpRun = apply([{name, op: 'rmp'}])
      expect(rmpRun.code, rmpRun.stderr).to.equal(0)
      expect(readdirSync(parked)).to.deep.equal([])
      expect(readFileSync(rmpRun.output.backups.get(0)!, 'utf8')).to.equal('pod\n')
      expect(existsSync(path.join(root, 'pwned'))).to.equal(false)
    })

    it('refuses to write over or remove a directory', () => {
      mkdirSync(path.join(manifests, 'sub'), {recursive: true})
      for (const step of [{content: Buffer.from('x'), name: 'sub', op: 'put'}, {name: 'sub', op: 'rm'}] as ApplyStep[]) {
        const result = apply([step])
        expect(result.code).to.equal(1)
        expect(result.stderr).to.include('sub is a directory')
        expect(readdirSync(manifests)).to.deep.equal(['sub'])
      }
    })

    it('applyArgv refuses anything that is not a single file name, and a second put', () => {
      const context = {
        backup: true, disabledDir: '/d', fingerprint: fingerprint([], []), manifestDir: '/m', random: '0123456789abcdef', stateDir: '/s',
      }
      for (const name of ['', '.', '..', 'a/b', '../etc/passwd', '/etc/passwd', 'nul\0byte']) {
        expect(() => applyArgv(context, [{name, op: 'rm'}]), JSON.stringify(name)).to.throw(/not a single file name/)
      }

      expect(() => applyArgv(context, [{content: Buffer.from('a'), name: 'a', op: 'put'}, {content: Buffer.from('b'), name: 'b', op: 'put'}])).to.throw(/one put/)
      expect(() => applyArgv({...context, manifestDir: 'relative'}, [])).to.throw(/absolute/)
      expect(() => applyArgv({...context, random: '$(id)'}, [])).to.throw(/random/)
      for (const bad of ['x', sha256(''), '-\n$(id)\n', 'a b\n-\n']) expect(() => applyArgv({...context, fingerprint: bad}, []), JSON.stringify(bad)).to.throw(/fingerprint/)
    })

    it('the scripts are constants: nothing that varies is ever part of them', () => {
      const {argv} = applyArgv({
        backup: true, disabledDir: '/d', fingerprint: fingerprint([], []), manifestDir: '/m', random: '0123456789abcdef', stateDir: '/s',
      }, [{name: HOSTILE[0]!, op: 'rm'}])
      expect(argv.slice(0, 3)).to.deep.equal(['sh', '-c', APPLY_SCRIPT])
      expect(probeArgv({items: [{path: '/x', tag: 'file'}], mode: 'full'}).slice(0, 3)).to.deep.equal(['sh', '-c', PROBE_SCRIPT])
    })
  })
})
