import {expect} from 'chai'
import {
  existsSync, mkdtempSync, readdirSync, rmSync, statSync,
} from 'node:fs'
import module from 'node:module'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BIN, runNode} from '../helpers/cli.js'
import {FIXTURES} from '../helpers/fixtures.js'

// The fast path of validate is one bundle loaded with a V8 code cache (src/cli/fast-loader.ts). A
// cache that V8 rejects must change nothing but speed. Node >= 22.1 uses its own compile cache.
describe('validate with the V8 code cache (built CLI)', () => {
  const invalid = path.join(FIXTURES, 'manifests', 'invalid-unknown-field.yaml')
  let cacheHome: string

  before(function () {
    if ('enableCompileCache' in module) this.skip()
  })

  beforeEach(() => {
    cacheHome = mkdtempSync(path.join(tmpdir(), 'staticpod-cache-'))
  })

  afterEach(() => rmSync(cacheHome, {force: true, recursive: true}))

  const run = (nodeFlags: string[]) => runNode([...nodeFlags, BIN, 'validate', 'examples', invalid, '--format', 'json'], {
    env: {...process.env, XDG_CACHE_HOME: cacheHome},
  })
  const userCaches = () => (existsSync(path.join(cacheHome, 'staticpod')) ? readdirSync(path.join(cacheHome, 'staticpod')) : [])

  it('uses the cache made at build time, and writes none of its own', async () => {
    const {code, stderr} = await run([])
    expect(stderr).to.equal('')
    expect(code).to.equal(1)
    expect(userCaches()).to.deep.equal([])
  })

  it('falls back silently when V8 rejects it (other flags), and keeps a cache of its own for the next run', async () => {
    const reference = await run([])
    // Another young generation size is another V8 flag hash: the build-time cache does not fit.
    const first = await run(['--max-semi-space-size=8'])
    expect(first).to.include({code: reference.code, stderr: '', stdout: reference.stdout})
    const written = userCaches()
    expect(written).to.have.lengthOf(1)
    expect(written[0]).to.match(/^validate\.[\da-f]+\.v\d+\.\d+\.\d+-\w+\.v8cache$/)

    const file = path.join(cacheHome, 'staticpod', written[0]!)
    const writtenAt = statSync(file).mtimeMs
    const second = await run(['--max-semi-space-size=8'])
    expect(second).to.include({code: reference.code, stderr: '', stdout: reference.stdout})
    // Accepted this time: not written again.
    expect(userCaches()).to.deep.equal(written)
    expect(statSync(file).mtimeMs).to.equal(writtenAt)
  })
})
