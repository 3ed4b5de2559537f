import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {
  chmodSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {
  kubeletLogArgv, lineReader, parseSource,
} from '../../../src/ops/kubelet-log.js'

describe('kubelet log script', () => {
  let dir: string
  const lines = [
    '2026-11-30T00:22:02+00:00 node1 kubelet[7]: I1130 00:22:02.1 7 kubelet.go:414] "Adding static pod path" path="/etc/kubernetes/manifests"',
    '2026-11-30T00:22:03+00:00 node1 kubelet[7]: E1130 00:22:03.1 7 file.go:224] "Could not process manifest file" err="x" path="/etc/kubernetes/manifests/a.yaml"',
    '2026-11-30T00:22:04+00:00 node1 kubelet[7]: I1130 00:22:04.1 7 kubelet.go:2543] "SyncLoop ADD" source="file" pods=["default/web-node1"]',
    '2026-11-30T00:22:05+00:00 node1 kubelet[7]: E1130 00:22:05.1 7 file.go:224] "Could not process manifest file" err="y" path="/etc/kubernetes/manifests/a.yaml"',
  ]

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'staticpod-kubelet-log-'))
    // A journalctl that records its arguments and prints the journal.
    const journal = path.join(dir, 'journal.txt')
    writeFileSync(journal, `${lines.join('\n')}\n`)
    writeFileSync(path.join(dir, 'journalctl'), `#!/bin/sh\necho "$*" >> ${dir}/args\ncase " $* " in *" cat "*) echo x;; *) cat ${journal};; esac\n`)
    chmodSync(path.join(dir, 'journalctl'), 0o755)
  })

  after(() => rmSync(dir, {force: true, recursive: true}))

  function run(options: Parameters<typeof kubeletLogArgv>[0]): {args: string; stdout: string} {
    rmSync(path.join(dir, 'args'), {force: true})
    const [sh, ...rest] = kubeletLogArgv(options)
    const stdout = execFileSync(sh!, rest, {encoding: 'utf8', env: {...process.env, PATH: `${dir}:${process.env.PATH}`}})
    return {args: execFileSync('cat', [path.join(dir, 'args')], {encoding: 'utf8'}), stdout}
  }

  it('reads the journal of the kubelet units when it has entries', () => {
    const {args, stdout} = run({})
    expect(stdout).to.equal(`staticpod-kubelet-log journalctl -u kubelet\n${lines.join('\n')}\n`)
    expect(args.split('\n')[1]).to.equal('-q --no-pager -o short-iso -u kubelet -u k3s -u k3s-agent')
  })

  it('keeps the lines holding one of the strings, then the last N of them', () => {
    expect(run({grep: ['a.yaml', 'web-node1']}).stdout.split('\n').slice(1, -1)).to.deep.equal(lines.slice(1))
    expect(run({grep: ['a.yaml'], tail: 1}).stdout.split('\n').slice(1, -1)).to.deep.equal([lines[3]])
    expect(run({grep: ['no such thing']}).stdout).to.equal('staticpod-kubelet-log journalctl -u kubelet\n')
  })

  it('following, prints the last N kept lines, then follows the journal from its start, skipping what was shown', () => {
    const {args, stdout} = run({follow: true, grep: ['a.yaml'], tail: 1})
    expect(stdout).to.equal(`staticpod-kubelet-log journalctl -u kubelet\n${lines[3]}\n`)
    expect(args.split('\n').slice(1, -1)).to.deep.equal([
      '-q --no-pager -o short-iso -u kubelet -u k3s -u k3s-agent',
      '-q --no-pager -o short-iso -u kubelet -u k3s -u k3s-agent -f -n all',
    ])
    expect(run({follow: true, grep: ['a.yaml'], tail: 0}).stdout).to.equal('staticpod-kubelet-log journalctl -u kubelet\n')
  })

  it('asks the journal for the time window, in whole seconds', () => {
    expect(run({sinceMs: 90_500}).args.split('\n')[1]).to.equal('-q --no-pager -o short-iso -u kubelet -u k3s -u k3s-agent --since=-91s')
  })

  it('reads the first log file there is when the journal has no kubelet entries, else says there is none', () => {
    writeFileSync(path.join(dir, 'journalctl'), '#!/bin/sh\nexit 0\n')
    const file = path.join(dir, 'kubelet.log')
    writeFileSync(file, `${lines.map(line => line.replace(/^.*?kubelet\[7]: /, '')).join('\n')}\n`)
    const logFiles = [path.join(dir, 'absent.log'), file]
    const read = (options: Parameters<typeof kubeletLogArgv>[0]): string => execFileSync('sh', kubeletLogArgv(options).slice(1), {encoding: 'utf8', env: {...process.env, PATH: `${dir}:${process.env.PATH}`}})
    expect(read({grep: ['a.yaml'], logFiles, tail: 1})).to.equal(`staticpod-kubelet-log ${file}\nE1130 00:22:05.1 7 file.go:224] "Could not process manifest file" err="y" path="/etc/kubernetes/manifests/a.yaml"\n`)
    expect(read({logFiles: [path.join(dir, 'absent.log')]})).to.equal('staticpod-kubelet-log none\n')
  })

  it('parses the source line', () => {
    expect(parseSource('staticpod-kubelet-log journalctl -u kubelet')).to.equal('journalctl -u kubelet')
    expect(parseSource('staticpod-kubelet-log /var/log/kubelet.log')).to.equal('/var/log/kubelet.log')
    expect(parseSource('staticpod-kubelet-log none')).to.equal(undefined)
    expect(() => parseSource('sh: 1: oops')).to.throw(/unexpected output/)
  })

  it('lineReader joins chunks into lines and gives a last partial line at the end', () => {
    const seen: string[] = []
    const reader = lineReader(line => seen.push(line))
    reader.push('a\nb')
    expect(seen).to.deep.equal(['a'])
    reader.push(Buffer.from('c\n\nd'))
    expect(seen).to.deep.equal(['a', 'bc', ''])
    reader.end()
    expect(seen).to.deep.equal(['a', 'bc', '', 'd'])
  })
})
