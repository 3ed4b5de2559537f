import {expect} from 'chai'
import {
  mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {DocumentResult} from '../../../src/manifest/types.js'

import {UserError} from '../../../src/errors.js'
import {validate, type ValidateOptions} from '../../../src/ops/validate.js'

const pod = (name: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
    - name: web
      image: nginx
`

function run(paths: string[], extra: Partial<ValidateOptions> = {}) {
  return validate({
    ignore: [], paths, readStdin: async () => Buffer.from(''), ...extra,
  })
}

function rules(results: DocumentResult[], file: string): string[] {
  return results.filter(r => r.file === file).flatMap(r => r.findings.map(f => f.rule))
}

describe('validate operation', () => {
  let dir: string

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'staticpod-validate-'))
  })

  afterEach(() => rmSync(dir, {force: true, recursive: true}))

  it('reads a directory as the kubelet reads a manifest directory', async () => {
    const manifests = path.join(dir, 'manifests')
    mkdirSync(path.join(manifests, 'old'), {recursive: true})
    writeFileSync(path.join(manifests, 'static-web.yaml'), pod('static-web'))
    writeFileSync(path.join(manifests, 'static-web.yaml.bak'), pod('static-web'))
    writeFileSync(path.join(manifests, 'README'), 'notes about this node\n')
    writeFileSync(path.join(manifests, '.static-web.yaml.swp'), 'binary\0swap')
    writeFileSync(path.join(manifests, 'etcd.json'), JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: {name: 'etcd', namespace: 'kube-system'}, spec: {containers: [{image: 'etcd', name: 'etcd'}]},
    }))
    writeFileSync(path.join(manifests, 'old', 'web.yaml'), pod('web'))

    const {results, summary} = await run([manifests])
    const at = (name: string) => path.join(manifests, name)
    expect(rules(results, at('static-web.yaml'))).to.deep.equal(['dir/duplicate-pod'])
    expect(rules(results, at('static-web.yaml.bak')).sort()).to.deep.equal(['dir/duplicate-pod', 'dir/stray-file'])
    expect(rules(results, at('README')).sort()).to.deep.equal(['dir/stray-file', 'schema/type'])
    expect(rules(results, at('etcd.json'))).to.deep.equal([])
    expect(rules(results, at('old'))).to.deep.equal(['dir/subdirectory'])
    // Below the top directory only manifests are read, and nothing more is said about directories.
    expect(rules(results, path.join(manifests, 'old', 'web.yaml'))).to.deep.equal([])
    // Dot files are ignored, as the kubelet ignores them.
    expect(results.map(r => path.basename(r.file))).not.to.include('.static-web.yaml.swp')
    expect(summary).to.deep.equal({
      documents: 6, errors: 0, files: 6, invalid: 3, valid: 3,
    })

    const duplicate = results.find(r => r.file === at('static-web.yaml'))!.findings[0]!
    expect(duplicate).to.include({line: 4, path: '/metadata/name'})
    expect(duplicate.message).to.contain('static-web.yaml.bak')
  })

  it('reports a directory with no manifests', async () => {
    const {results} = await run([dir])
    expect(results).to.have.length(1)
    expect(results[0]!.findings[0]!.rule).to.equal('dir/empty')
    expect(results[0]!.status).to.equal('invalid')
  })

  it('refuses a path that does not exist with a usage error', async () => {
    const error = await run([path.join(dir, 'nope.yaml')]).catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(UserError)
    expect((error as UserError).exitCode).to.equal(2)
  })

  it('refuses an unknown --ignore rule and suggests the right one', async () => {
    const error = (await run([dir], {ignore: ['dir/subdirectroy']}).catch((error_: unknown) => error_)) as UserError
    expect(error).to.be.instanceOf(UserError)
    expect(error.hints.join(',')).to.contain('dir/subdirectory')
  })

  it('leaves out ignored rules and whole categories', async () => {
    writeFileSync(path.join(dir, 'a.yaml.bak'), pod('a'))
    const none = await run([dir], {ignore: ['dir']})
    expect(none.results.flatMap(r => r.findings)).to.deep.equal([])
    expect(none.summary.valid).to.equal(1)
    const one = await run([dir], {ignore: ['dir/duplicate-pod']})
    expect(one.results.flatMap(r => r.findings.map(f => f.rule))).to.deep.equal(['dir/stray-file'])
  })

  it('reads standard input for -', async () => {
    const {results} = await run(['-'], {readStdin: async () => Buffer.from(pod('Bad_Name'))})
    expect(results.map(r => [r.file, r.status, r.findings.map(f => f.rule)])).to.deep.equal([['-', 'invalid', ['api/name']]])
  })

  it('reports binary, oversized, unreadable and empty files as errors without reading past the limit', async () => {
    writeFileSync(path.join(dir, 'binary.yaml'), Buffer.from([0x7F, 0x45, 0x4C, 0x46, 0, 1, 2]))
    writeFileSync(path.join(dir, 'huge.yaml'), Buffer.alloc(11 * 1024 * 1024, 'a'))
    writeFileSync(path.join(dir, 'empty.yaml'), '')
    const socket = path.join(dir, 'socket.yaml')
    const server: Server = createServer()
    await new Promise<void>(resolve => {
      server.listen(socket, resolve)
    })
    try {
      const {results, summary} = await run([
        path.join(dir, 'binary.yaml'),
        path.join(dir, 'huge.yaml'),
        path.join(dir, 'empty.yaml'),
        socket,
      ])
      expect(results.map(r => [path.basename(r.file), r.status, r.findings.map(f => f.rule)])).to.deep.equal([
        ['binary.yaml', 'error', ['file/binary']],
        ['huge.yaml', 'error', ['file/too-large']],
        ['empty.yaml', 'error', ['yaml/empty']],
        ['socket.yaml', 'error', ['file/unreadable']],
      ])
      expect(summary.errors).to.equal(4)
    } finally {
      server.close()
    }
  })

  it('checks the mirror pod name against the node name', async () => {
    writeFileSync(path.join(dir, 'web.yaml'), pod('w'.repeat(240)))
    const ok = await run([path.join(dir, 'web.yaml')], {nodeName: 'node1'})
    expect(ok.summary.valid).to.equal(1)
    const long = await run([path.join(dir, 'web.yaml')], {nodeName: 'n'.repeat(20)})
    expect(long.results[0]!.findings.map(f => f.rule)).to.deep.equal(['static-pod/mirror-name-length'])
  })
})
