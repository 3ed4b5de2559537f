// What the probe does to cost fewer processes on a node: names encoded by the shell itself, and one
// stat for a whole directory. Its output must be the same as when every name and file is asked
// alone, in dash and in bash (the two /bin/sh of the distributions).
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {
  mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {parseProbeOutput, PROBE_SCRIPT, type ProbeRequest} from '../../../src/ops/node-scripts.js'

const SHELLS = ['dash', 'bash'].filter(shell => spawnSync(shell, ['-c', 'exit 0']).status === 0)
/** Every printable ASCII character in some name (not "/"; no name starts with "."), and names that go through base64(1). */
const NAMES = [
  ...Array.from({length: 8}, (_, i) => Array.from({length: 12}, (__, j) => String.fromCodePoint(33 + (((i * 12) + j) % 94))).join('')),
  ' leading space.yaml',
  'a',
  'ab',
  'abc',
  'tab\there.yaml',
  'ünïcødé.yaml',
].filter(name => !name.includes('/') && !name.startsWith('.'))

function probe(shell: string, request: ProbeRequest): ReturnType<typeof parseProbeOutput> {
  const argv = ['-c', PROBE_SCRIPT, 'probe', '1000', '0123456789abcdef', request.mode, ...request.items.map(item => `m:${item.path}`)]
  const result = spawnSync(shell, argv)
  expect(result.status, result.stderr.toString()).to.equal(0)
  return parseProbeOutput(result.stdout, request)
}

describe('the probe, cheaply', () => {
  let root: string

  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'probe-batch-'))
  })

  after(() => rmSync(root, {force: true, recursive: true}))

  for (const shell of SHELLS) {
    it(`${shell}: every name comes back byte for byte, with each file's own time and content`, () => {
      const dir = path.join(root, `names-${shell}`)
      mkdirSync(dir)
      for (const [i, name] of NAMES.entries()) {
        writeFileSync(path.join(dir, name), `content ${i}\n`)
        utimesSync(path.join(dir, name), 1_700_000_000 + i, 1_700_000_000 + i)
      }

      const [listed] = probe(shell, {items: [{path: dir, tag: 'manifest-dir'}], mode: 'more'}).results
      const byName = new Map(listed!.entries!.map(entry => [entry.raw.toString('utf8'), entry]))
      expect([...byName.keys()].sort()).to.deep.equal([...NAMES].sort())
      for (const [i, name] of NAMES.entries()) {
        expect(byName.get(name)).to.deep.include({kind: 'file', mtime: 1_700_000_000 + i})
        expect(byName.get(name)!.content!.toString()).to.equal(`content ${i}\n`)
      }
    })

    it(`${shell}: a broken link among the files: each entry is asked alone, and nothing is shifted`, () => {
      const dir = path.join(root, `broken-${shell}`)
      mkdirSync(dir)
      writeFileSync(path.join(dir, 'a.yaml'), 'a\n')
      symlinkSync('/nonexistent/target', path.join(dir, 'b-broken'))
      writeFileSync(path.join(dir, 'c.yaml'), 'c'.repeat(2000))
      mkdirSync(path.join(dir, 'd-dir'))
      utimesSync(path.join(dir, 'a.yaml'), 1_600_000_000, 1_600_000_000)
      utimesSync(path.join(dir, 'c.yaml'), 1_600_000_100, 1_600_000_100)
      const [listed] = probe(shell, {items: [{path: dir, tag: 'manifest-dir'}], mode: 'more'}).results
      expect(listed!.entries!.map(({kind, mtime, name, size, tooLarge}) => ({
        kind, mtime, name, size, tooLarge,
      }))).to.deep.equal([
        {
          kind: 'file', mtime: 1_600_000_000, name: 'a.yaml', size: 2, tooLarge: undefined,
        },
        {
          kind: 'other', mtime: undefined, name: 'b-broken', size: undefined, tooLarge: undefined,
        },
        {
          kind: 'file', mtime: 1_600_000_100, name: 'c.yaml', size: 2000, tooLarge: true,
        },
        {
          kind: 'dir', mtime: undefined, name: 'd-dir', size: undefined, tooLarge: undefined,
        },
      ])
    })
  }
})
