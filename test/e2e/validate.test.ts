import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BIN, runCli, runNode} from '../helpers/cli.js'
import {FIXTURES} from '../helpers/fixtures.js'

const fixture = (name: string) => path.join(FIXTURES, 'manifests', name)
const STACK_TRACE = /^\s+at .+\(.+:\d+:\d+\)$/m

/** The same command line, run through oclif's execute() instead of bin/run.js's fast path. */
function viaOclif(args: string[]) {
  const script = `import {execute} from '@oclif/core'; await execute({args: ${JSON.stringify(args)}, dir: ${JSON.stringify(BIN)}})`
  return runNode(['--input-type=module', '-e', script])
}

describe('staticpod validate (built CLI)', () => {
  let dir: string

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'staticpod-cli-'))
  })

  after(() => rmSync(dir, {force: true, recursive: true}))

  it('passes the shipped examples with exit 0', async () => {
    const {code, stdout} = await runCli(['validate', 'examples'])
    expect(stdout.trim()).to.equal('4 files, 4 documents: 4 valid')
    expect(code).to.equal(0)
  })

  it('reports file:line:column findings and exits 1', async () => {
    const file = fixture('invalid-unknown-field.yaml')
    const {code, stdout} = await runCli(['validate', file])
    expect(stdout.split('\n')[0]).to.equal(`${file}:10:7: error schema/unknown-field: unknown field "imagePullPolcy" (did you mean "imagePullPolicy"?)`)
    expect(code).to.equal(1)
  })

  it('prints the JSON document of the design contract', async () => {
    const file = fixture('invalid-unknown-field.yaml')
    const {code, stdout} = await runCli(['validate', '--format', 'json', file])
    expect(JSON.parse(stdout)).to.deep.equal({
      results: [
        {
          document: 0,
          file,
          findings: [
            {
              column: 7,
              line: 10,
              message: 'unknown field "imagePullPolcy" (did you mean "imagePullPolicy"?)',
              path: '/spec/containers/0/imagePullPolcy',
              rule: 'schema/unknown-field',
              severity: 'error',
            },
          ],
          kind: 'Pod',
          name: 'static-web',
          status: 'invalid',
        },
      ],
      summary: {
        documents: 1, errors: 0, files: 1, invalid: 1, valid: 0,
      },
    })
    expect(code).to.equal(1)
  })

  it('reads standard input for -', async () => {
    const input = 'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - name: web\n'
    const {code, stdout} = await runCli(['validate', '-'], {input})
    expect(stdout).to.contain('<stdin>:6:7: error api/image-required: container "web" has no image')
    expect(code).to.equal(1)
  })

  it('writes JUnit and SARIF that parse', async () => {
    const junit = await runCli(['validate', '-f', 'junit', fixture('invalid-ports.yaml')])
    expect(junit.stdout).to.match(/^<\?xml/)
    expect(junit.stdout).to.match(/<testsuites[^>]* tests="1" failures="1"/)
    expect(junit.stdout.match(/<failure /g)).to.have.length(4)
    const sarif = await runCli(['validate', '-f', 'sarif', fixture('invalid-ports.yaml')])
    const log = JSON.parse(sarif.stdout) as {runs: Array<{results: Array<{locations: Array<{physicalLocation: {region: {startLine: number}}}>}>}>}
    expect(log.runs[0]!.results.map(r => r.locations[0]!.physicalLocation.region.startLine)).to.deep.equal([14, 17, 20, 25])
    expect(sarif.code).to.equal(1)
  })

  it('exits 2 on usage errors, with a message and no stack trace', async () => {
    for (const args of [['--no-such-flag'], ['--format', 'xml', 'examples'], [path.join(dir, 'missing.yaml')], ['--ignore', 'api/nope', 'examples'], ['--schema', path.join(dir, 'missing.json'), 'examples']]) {
      // eslint-disable-next-line no-await-in-loop -- one CLI run at a time keeps the output readable
      const {code, stderr} = await runCli(['validate', ...args])
      expect(code, args.join(' ')).to.equal(2)
      expect(stderr, args.join(' ')).to.match(/Error: /)
      expect(stderr, args.join(' ')).not.to.match(STACK_TRACE)
    }
  })

  it('handles hostile input with a finding and exit 1: binary, 11 MiB, alias bomb, empty, no manifests', async () => {
    writeFileSync(path.join(dir, 'binary.yaml'), Buffer.from([0x7F, 0x45, 0x4C, 0x46, 0, 0, 1]))
    writeFileSync(path.join(dir, 'huge.yaml'), Buffer.alloc(11 * 1024 * 1024, 'a'))
    writeFileSync(path.join(dir, 'empty.yaml'), '')
    const files = ['binary.yaml', 'huge.yaml', 'empty.yaml'].map(f => path.join(dir, f))
    const {code, stderr, stdout} = await runCli(['validate', ...files, fixture('invalid-alias-bomb.yaml')], {timeoutMs: 20_000})
    expect(stdout).to.contain('error file/binary')
    expect(stdout).to.contain('error file/too-large')
    expect(stdout).to.contain('error yaml/empty')
    expect(stdout).to.contain('error yaml/alias-limit')
    expect(stderr).not.to.match(STACK_TRACE)
    expect(code).to.equal(1)

    const emptyDir = mkdtempSync(path.join(dir, 'empty-'))
    const none = await runCli(['validate', emptyDir])
    expect(none.stdout).to.contain('error dir/empty')
    expect(none.code).to.equal(1)
  })

  it('shows help through oclif', async () => {
    const {code, stdout} = await runCli(['validate', '--help'])
    expect(stdout).to.contain('USAGE')
    expect(stdout).to.contain('--format')
    expect(code).to.equal(0)
  })

  it('gives the same output through oclif as through the fast path', async () => {
    for (const args of [
      ['validate', 'examples'],
      ['validate', '-f', 'json', '--ignore', 'api', fixture('invalid-names.yaml')],
      ['validate', '-q', '--node-name', 'cp-1', fixture('invalid-mirror-name-length.yaml')],
    ]) {
      // eslint-disable-next-line no-await-in-loop -- compared one pair at a time
      const [fast, full] = await Promise.all([runCli(args), viaOclif(args)])
      expect(fast.stdout, args.join(' ')).to.equal(full.stdout)
      expect(fast.code, args.join(' ')).to.equal(full.code)
    }
  })
})
