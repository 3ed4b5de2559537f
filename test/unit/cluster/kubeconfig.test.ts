import {expect} from 'chai'
import {
  mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {kubeconfigPaths, loadClusterAccess} from '../../../src/cluster/kubeconfig.js'
import {UserError} from '../../../src/errors.js'

/** A kubeconfig with one cluster, one user and one context each named after `name`. */
function kubeconfig(name: string, options: {current?: null | string; server?: string; user?: Record<string, unknown>} = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    clusters: [{cluster: {server: options.server ?? `https://${name}.example:6443`}, name}],
    contexts: [{context: {cluster: name, user: name}, name}],
    ...(options.current === null ? {} : {'current-context': options.current ?? name}),
    kind: 'Config',
    users: [{name, user: options.user ?? {token: `token-${name}`}}],
  })
}

describe('kubeconfig', () => {
  let home: string
  const write = (path: string, text: string): string => {
    const full = join(home, path)
    mkdirSync(dirname(full), {recursive: true})
    writeFileSync(full, text)
    return full
  }

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'staticpod-kubeconfig-'))
  })

  afterEach(() => rmSync(home, {force: true, recursive: true}))

  it('no kubeconfig anywhere: undefined (mirror pods are simply not looked up)', () => {
    expect(loadClusterAccess({env: {}, home})).to.equal(undefined)
    expect(loadClusterAccess({env: {KUBECONFIG: join(home, 'nope')}, home})).to.equal(undefined)
  })

  it('~/.kube/config when KUBECONFIG is unset or empty', () => {
    write('.kube/config', kubeconfig('a'))
    for (const env of [{}, {KUBECONFIG: ''}]) {
      const access = loadClusterAccess({env, home})!
      expect(access).to.include({
        cluster: 'a', context: 'a', server: 'https://a.example:6443', token: 'token-a', user: 'a',
      })
      expect(access.sources).to.deep.equal([join(home, '.kube/config')])
    }
  })

  it('KUBECONFIG replaces ~/.kube/config; its files merge, the first to name a cluster, user, context or current-context wins', () => {
    write('.kube/config', kubeconfig('home'))
    const first = write('one.yaml', kubeconfig('a', {current: null, server: 'https://first:6443'}))
    const second = write('two.yaml', JSON.stringify({
      ...JSON.parse(kubeconfig('b')),
      clusters: [{cluster: {server: 'https://second:6443'}, name: 'a'}, {cluster: {server: 'https://b:6443'}, name: 'b'}],
    }))
    const env = {KUBECONFIG: [first, join(home, 'missing.yaml'), second].join(':')}
    // current-context comes from the second file (the first sets none)
    expect(loadClusterAccess({env, home})).to.include({context: 'b', server: 'https://b:6443'})
    // cluster "a" is the first file's, though the second also defines it
    expect(loadClusterAccess({context: 'a', env, home})).to.include({server: 'https://first:6443', token: 'token-a'})
    expect(() => loadClusterAccess({context: 'home', env, home})).to.throw(UserError, /context "home" is not in kubeconfig .*one\.yaml.*two\.yaml/)
  })

  it('--kubeconfig (or the inventory\'s kubeconfig:) wins over KUBECONFIG, and must exist', () => {
    const explicit = write('explicit.yaml', kubeconfig('x'))
    const other = write('other.yaml', kubeconfig('y'))
    expect(loadClusterAccess({env: {KUBECONFIG: other}, home, kubeconfig: explicit})).to.include({context: 'x'})
    expect(loadClusterAccess({env: {}, home, kubeconfig: '~/explicit.yaml'})).to.include({context: 'x'})
    expect(() => loadClusterAccess({env: {}, home, kubeconfig: join(home, 'gone.yaml')})).to.throw(UserError, /gone\.yaml does not exist/)
  })

  it('--context picks another context; an unknown one is a usage error listing the contexts', () => {
    write('.kube/config', JSON.stringify({
      clusters: [{cluster: {server: 'https://one:6443'}, name: 'one'}, {cluster: {server: 'https://two:6443/'}, name: 'two'}],
      contexts: [{context: {cluster: 'one'}, name: 'c1'}, {context: {cluster: 'two', namespace: 'kube-system'}, name: 'c2'}],
      'current-context': 'c1',
    }))
    expect(loadClusterAccess({env: {}, home})).to.include({server: 'https://one:6443', user: ''})
    expect(loadClusterAccess({context: 'c2', env: {}, home})).to.include({server: 'https://two:6443'})
    try {
      loadClusterAccess({context: 'c3', env: {}, home})
      expect.fail('no error')
    } catch (error) {
      expect(error).to.be.instanceOf(UserError)
      expect((error as UserError).hints).to.deep.equal(['Contexts: c1, c2.'])
      expect((error as UserError).exitCode).to.equal(2)
    }
  })

  it('relative certificate, key, CA and token file paths are relative to the kubeconfig that names them', () => {
    write('certs/ca.crt', 'CA PEM')
    write('certs/client.crt', 'CERT PEM')
    write('certs/client.key', 'KEY PEM')
    write('certs/token', 'file-token\n')
    const path = write('sub/../kc.yaml', [
      'apiVersion: v1',
      'clusters:',
      '- name: c',
      '  cluster: {server: "https://c:6443", certificate-authority: certs/ca.crt, tls-server-name: api.internal}',
      'users:',
      '- name: u',
      '  user: {client-certificate: certs/client.crt, client-key: certs/client.key, tokenFile: certs/token}',
      'contexts:',
      '- {name: ctx, context: {cluster: c, user: u}}',
      'current-context: ctx',
      '',
    ].join('\n'))
    const access = loadClusterAccess({env: {KUBECONFIG: path}, home})!
    expect(access.ca?.toString()).to.equal('CA PEM')
    expect(access.cert?.toString()).to.equal('CERT PEM')
    expect(access.key?.toString()).to.equal('KEY PEM')
    expect(access.token).to.equal('file-token')
    expect(access.tlsServerName).to.equal('api.internal')
  })

  it('-data fields (base64) win over paths; insecure-skip-tls-verify; basic auth', () => {
    write('.kube/config', JSON.stringify({
      clusters: [{
        cluster: {
          'certificate-authority': '/nonexistent', 'certificate-authority-data': Buffer.from('INLINE CA').toString('base64'), 'insecure-skip-tls-verify': true, server: 'https://c:6443',
        }, name: 'c',
      }],
      contexts: [{context: {cluster: 'c', user: 'u'}, name: 'ctx'}],
      'current-context': 'ctx',
      users: [{name: 'u', user: {password: 'p', username: 'admin'}}],
    }))
    const access = loadClusterAccess({env: {}, home})!
    expect(access.ca?.toString()).to.equal('INLINE CA')
    expect(access).to.include({insecureSkipTlsVerify: true, password: 'p', username: 'admin'})
  })

  it('an exec credential plugin is kept for the client to run', () => {
    write('.kube/config', kubeconfig('e', {
      user: {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1', args: ['get-token'], command: 'my-plugin', env: [{name: 'A', value: '1'}],
        },
      },
    }))
    expect(loadClusterAccess({env: {}, home})!.exec).to.deep.equal({
      apiVersion: 'client.authentication.k8s.io/v1', args: ['get-token'], command: 'my-plugin', dir: join(home, '.kube'), env: {A: '1'},
    })
  })

  it('broken kubeconfigs are usage errors naming the file', () => {
    const cases: Array<[string, RegExp]> = [
      ['clusters: [unclosed', /config is not valid YAML/],
      ['- a list', /is not a kubeconfig/],
      [kubeconfig('a', {current: 'a'}).replace('"cluster":"a"', '"cluster":"zz"'), /names cluster "zz", which is not defined/],
      [kubeconfig('a').replace('"user":"a"', '"user":"nobody"'), /names user "nobody", which is not defined/],
      [kubeconfig('a', {server: 'c:6443'}), /server "c:6443" is not an http\(s\) URL/],
      [JSON.stringify({contexts: [{context: {cluster: 'a'}, name: 'a'}, {context: {cluster: 'a'}, name: 'b'}]}), /has no current context/],
      [kubeconfig('a', {user: {tokenFile: 'missing-token'}}), /missing-token \(named in kubeconfig .*\) does not exist/],
    ]
    for (const [text, message] of cases) {
      write('.kube/config', text)
      expect(() => loadClusterAccess({env: {}, home}), text).to.throw(UserError, message)
    }
  })

  it('a kubeconfig without contexts (an empty file) is no kubeconfig', () => {
    write('.kube/config', '')
    expect(loadClusterAccess({env: {}, home})).to.equal(undefined)
  })

  it('kubeconfigPaths: KUBECONFIG entries are de-duplicated and ~ is expanded', () => {
    expect(kubeconfigPaths({env: {KUBECONFIG: '~/a:/b::~/a'}, home: '/h'}).files).to.deep.equal(['/h/a', '/b'])
  })
})
