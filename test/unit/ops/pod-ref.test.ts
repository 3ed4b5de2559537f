// POD and file name arguments are checked before anything reaches a node.
import {expect} from 'chai'

import {UserError} from '../../../src/errors.js'
import {
  fileNameProblem, manifestFileNameProblem, parsePodArg, selectFiles,
} from '../../../src/ops/pod-ref.js'
import {nodeState, pod} from './node-state.js'

describe('ops/pod-ref', () => {
  it('pod names (DNS-1123), NAMESPACE/NAME, and plain file names are accepted', () => {
    expect(parsePodArg('static-web')).to.deep.equal({arg: 'static-web', kind: 'name-or-file', name: 'static-web'})
    // A file name that is also a valid pod name is tried as a pod name first, then as a file name.
    expect(parsePodArg('static-web.yaml')).to.deep.equal({arg: 'static-web.yaml', kind: 'name-or-file', name: 'static-web.yaml'})
    expect(parsePodArg('kube-system/etcd')).to.deep.equal({
      arg: 'kube-system/etcd', kind: 'pod', name: 'etcd', namespace: 'kube-system',
    })
    for (const file of ['Static_Web.yaml', 'web.yaml~', 'web#1.yaml', 'README', 'kube-apiserver.yaml_bak']) {
      expect(parsePodArg(file), file).to.deep.equal({arg: file, file, kind: 'file'})
    }
  })

  it('nothing that could leave the manifest directory or mean something to a shell gets through', () => {
    const hostile = [
      '',
      '/',
      '.',
      '..',
      '../etc/passwd',
      '/etc/passwd',
      'a/b/c',
      'web/../../x',
      'nul\0byte',
      'new\nline',
      'tab\tname',
      '$(id)',
      '`id`',
      'a;b',
      'a|b',
      'a&b',
      'a b',
      '#comment',
      '"quoted"',
      "'quoted'",
      '<in',
      '>out',
      '*',
      '?',
      '[a]',
      '{a,b}',
      '~root',
      '-rf',
      '.hidden',
      '..hidden',
      'web..yaml',
      String.raw`\x`,
      'x\r',
      'ns/Upper',
      'UPPER/name',
      'a'.repeat(256),
    ]
    for (const arg of hostile) {
      expect(() => parsePodArg(arg), JSON.stringify(arg)).to.throw(UserError, /^invalid pod/)
    }

    const error = (() => {
      try {
        parsePodArg('new\nline')
      } catch (error_) {
        return error_ as UserError
      }
    })()
    expect(error!.message).to.equal(String.raw`invalid pod or file name "new\x0aline": as a pod name it must consist of lower case alphanumeric characters, "-" or ".", and must start and end with an alphanumeric character; as a file name it may only contain letters, digits and . _ - + ~ # @ % , = (and must start with a letter, digit or _)`)
    expect(error!.exitCode).to.equal(2)
  })

  it('a manifest\'s name on the node: a plain name ending in .yaml, .yml or .json, not a backup', () => {
    for (const name of ['web.yaml', 'web.yml', 'web.json', 'Web_1.YAML', 'kube-apiserver.yaml']) expect(manifestFileNameProblem(name), name).to.equal(undefined)
    expect(manifestFileNameProblem('web')).to.equal('must end in .yaml, .yml or .json')
    expect(manifestFileNameProblem('.web.yaml')).to.equal('must not start with "." (the kubelet ignores such files)')
    expect(manifestFileNameProblem('we b.yaml')).to.match(/may only contain/)
    expect(fileNameProblem('a/b.yaml')).to.equal('must be a file name, not a path (no "/")')
    expect(fileNameProblem('a..b.yaml')).to.equal('must not contain ".."')
  })

  it('selecting files: by pod name (any namespace, unless two), by NAMESPACE/NAME, else by file name', async () => {
    const state = await nodeState({
      'a.yaml': pod('web'), 'b.yaml': pod('web', 'other'), 'c.yaml': pod('db'), 'web.yaml': pod('api'),
    })
    const names = (arg: string) => {
      const found = selectFiles(state.files, parsePodArg(arg))
      return found.error ?? found.files.map(f => f.name)
    }

    expect(names('db')).to.deep.equal(['c.yaml'])
    expect(names('default/web')).to.deep.equal(['a.yaml'])
    expect(names('other/web')).to.deep.equal(['b.yaml'])
    expect(names('web')).to.equal('pod web exists in namespaces default, other: name one as NAMESPACE/NAME (default/web, other/web)')
    expect(names('web.yaml')).to.deep.equal(['web.yaml'])
    expect(names('api')).to.deep.equal(['web.yaml'])
    expect(names('missing')).to.deep.equal([])
  })
})
