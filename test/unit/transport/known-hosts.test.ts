import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {
  mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {HostKeyError} from '../../../src/transport/errors.js'
import {KnownHostsStore, preferredHostKeyTypes, verifyHostKey} from '../../../src/transport/host-keys.js'
import {
  checkHostKey,
  fingerprint,
  formatKnownHostsLine,
  hashedMatch,
  keyTypeOf,
  knownHostsName,
  matchPatternList,
  parseKnownHosts,
} from '../../../src/transport/known-hosts.js'

interface TestKey {
  base64: string
  blob: Buffer
  pub: string
  type: string
}

function policy(dir: string, file: string, strict: 'accept-new' | 'ask' | 'no' | 'yes', hash = false) {
  return {
    globalKnownHostsFiles: [join(dir, 'no-such-global')],
    hashKnownHosts: hash,
    strictHostKeyChecking: strict,
    userKnownHostsFiles: [file, join(dir, 'second')],
  }
}

describe('known_hosts', () => {
  let dir: string
  const keys: Record<string, TestKey> = {}

  function makeKey(name: string, type: string): TestKey {
    const path = join(dir, name)
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', path])
    const pub = readFileSync(`${path}.pub`, 'utf8').trim()
    const [keyType, base64] = pub.split(' ')
    return {
      base64: base64!, blob: Buffer.from(base64!, 'base64'), pub, type: keyType!,
    }
  }

  function line(hosts: string, key: TestKey, marker = ''): string {
    return `${marker ? `${marker} ` : ''}${hosts} ${key.type} ${key.base64}`
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'staticpod-known-hosts-'))
    keys.ed = makeKey('ed', 'ed25519')
    keys.ed2 = makeKey('ed2', 'ed25519')
    keys.ecdsa = makeKey('ecdsa', 'ecdsa')
  })

  after(() => rmSync(dir, {force: true, recursive: true}))

  describe('parsing', () => {
    it('reads plain, marked and commented lines and reports malformed ones with file:line', () => {
      const text = [
        '# comment',
        '',
        line('node1,10.0.0.1', keys.ed!),
        line('*.example.com', keys.ecdsa!, '@cert-authority'),
        line('*', keys.ed2!, '@revoked'),
        'garbage-only-one-field',
        'node2 ssh-ed25519 not*base64',
        line('node3', keys.ed!, '@bogus'),
        `node4 ssh-rsa ${keys.ed!.base64}`,
      ].join('\n')
      const parsed = parseKnownHosts(text, 'kh')
      expect(parsed.entries.map(entry => [entry.line, entry.marker, entry.keyType])).to.deep.equal([
        [3, undefined, 'ssh-ed25519'],
        [4, 'cert-authority', 'ecdsa-sha2-nistp256'],
        [5, 'revoked', 'ssh-ed25519'],
      ])
      expect(parsed.skipped.map(skip => skip.line)).to.deep.equal([6, 7, 8, 9])
      expect(parsed.skipped[3]?.reason).to.match(/does not match/)
    })

    it('computes the same SHA256 fingerprint as ssh-keygen -l', () => {
      const path = join(dir, 'ed.pub')
      const expected = execFileSync('ssh-keygen', ['-lf', path], {encoding: 'utf8'}).split(' ')[1]
      expect(fingerprint(keys.ed!.blob)).to.equal(expected)
      expect(keyTypeOf(keys.ed!.blob)).to.equal('ssh-ed25519')
    })
  })

  describe('host patterns', () => {
    it('formats [host]:port for non-22 ports only', () => {
      expect(knownHostsName('10.0.0.1', 22)).to.equal('10.0.0.1')
      expect(knownHostsName('10.0.0.1', 2222)).to.equal('[10.0.0.1]:2222')
    })

    it('matches comma lists, wildcards and ? case-insensitively', () => {
      expect(matchPatternList('node1', 'a,node1,b')).to.equal(true)
      expect(matchPatternList('NODE1', 'node1')).to.equal(true)
      expect(matchPatternList('node12', 'node?')).to.equal(false)
      expect(matchPatternList('node1', 'node?')).to.equal(true)
      expect(matchPatternList('web.prod.example.com', '*.example.com')).to.equal(true)
      expect(matchPatternList('[127.0.0.5]:2222', '[127.0.0.*]:2222')).to.equal(true)
      expect(matchPatternList('[127.0.0.5]:2223', '[127.0.0.*]:2222')).to.equal(false)
      expect(matchPatternList('127.0.0.5', '[127.0.0.5]:2222')).to.equal(false)
    })

    it('rejects the whole line when a negated pattern matches, whatever the order', () => {
      expect(matchPatternList('db1', '*,!db*')).to.equal(false)
      expect(matchPatternList('db1', '!db*,*')).to.equal(false)
      expect(matchPatternList('web1', '!db*,*')).to.equal(true)
      expect(matchPatternList('web1', '!db*')).to.equal(false)
    })
  })

  describe('hashed entries made by ssh-keygen -H', () => {
    let hashedFile: string

    before(() => {
      hashedFile = join(dir, 'hashed_known_hosts')
      writeFileSync(hashedFile, `${line('node1', keys.ed!)}\n${line('[127.0.0.9]:2222', keys.ecdsa!)}\n`)
      execFileSync('ssh-keygen', ['-q', '-H', '-f', hashedFile])
    })

    it('matches the hashed name, including [host]:port, and nothing else', () => {
      const {entries} = parseKnownHosts(readFileSync(hashedFile, 'utf8'), hashedFile)
      expect(entries).to.have.length(2)
      expect(entries.every(entry => entry.patterns.startsWith('|1|'))).to.equal(true)
      expect(hashedMatch(entries[0]!.patterns, 'node1')).to.equal(true)
      expect(hashedMatch(entries[0]!.patterns, 'node2')).to.equal(false)
      expect(hashedMatch(entries[1]!.patterns, '[127.0.0.9]:2222')).to.equal(true)
      expect(hashedMatch(entries[1]!.patterns, '127.0.0.9')).to.equal(false)
      expect(checkHostKey(entries, '127.0.0.9', 2222, keys.ecdsa!.blob).verdict.status).to.equal('known')
      expect(checkHostKey(entries, 'node1', 22, keys.ed2!.blob).verdict.status).to.equal('changed')
    })

    it('writes hashed lines that ssh-keygen -F finds', () => {
      const file = join(dir, 'ours_hashed')
      writeFileSync(file, `${formatKnownHostsLine('127.0.0.7', 2200, keys.ed!.blob, {hash: true})}\n`)
      const found = execFileSync('ssh-keygen', ['-F', '[127.0.0.7]:2200', '-f', file], {encoding: 'utf8'})
      expect(found).to.include(keys.ed!.base64)
    })
  })

  describe('verdicts', () => {
    it('known, changed (same type, other key), unknown (only other types known), revoked', () => {
      const {entries} = parseKnownHosts(
        [
          line('[127.0.0.2]:2222', keys.ed!),
          line('node-ec', keys.ecdsa!),
          line('*', keys.ed2!, '@revoked'),
          line('node-rev', keys.ed2!),
        ].join('\n'),
        'kh',
      )
      expect(checkHostKey(entries, '127.0.0.2', 2222, keys.ed!.blob).verdict.status).to.equal('known')
      const changed = checkHostKey(entries, '127.0.0.2', 2222, keys.ed2!.blob).verdict
      // ed2 is revoked everywhere, revocation wins over "changed"
      expect(changed.status).to.equal('revoked')
      const unknown = checkHostKey(entries, 'node-ec', 22, keys.ed!.blob).verdict
      expect(unknown.status).to.equal('unknown')
      expect(unknown.status === 'unknown' && unknown.otherTypes.map(entry => entry.line)).to.deep.equal([2])
      expect(checkHostKey(entries, 'node-rev', 22, keys.ed2!.blob).verdict.status).to.equal('revoked')
      expect(checkHostKey(entries, 'elsewhere', 22, keys.ed!.blob).verdict.status).to.equal('unknown')
    })

    it('reports a changed key with the old entry', () => {
      const {entries} = parseKnownHosts(line('node1', keys.ed!), 'kh')
      const check = checkHostKey(entries, 'node1', 22, keys.ed2!.blob)
      expect(check.verdict.status).to.equal('changed')
      expect(check.verdict.status === 'changed' && check.verdict.expected[0]?.line).to.equal(1)
    })

    it('ignores @cert-authority lines but reports them', () => {
      const {entries} = parseKnownHosts(line('*.example.com', keys.ecdsa!, '@cert-authority'), 'kh')
      const check = checkHostKey(entries, 'a.example.com', 22, keys.ecdsa!.blob)
      expect(check.verdict.status).to.equal('unknown')
      expect(check.certAuthorities).to.have.length(1)
    })
  })

  describe('verifyHostKey policy', () => {
    it('refuses an unknown key under yes/ask with the fingerprint and the exact line to add', () => {
      const file = join(dir, 'kh-unknown')
      for (const strict of ['yes', 'ask'] as const) {
        const store = new KnownHostsStore()
        let error: unknown
        try {
          verifyHostKey({
            host: '127.0.0.3', key: keys.ed!.blob, node: 'node3', policy: policy(dir, file, strict), port: 2222, store,
          })
        } catch (error_) {
          error = error_
        }

        expect(error).to.be.instanceOf(HostKeyError)
        const {hints, message} = error as HostKeyError
        expect(message).to.include(fingerprint(keys.ed!.blob)).and.include('not known').and.include('node3 ([127.0.0.3]:2222)')
        if (strict === 'ask') expect(message).to.include('cannot ask')
        expect(hints.join('\n')).to.include(`[127.0.0.3]:2222 ssh-ed25519 ${keys.ed!.base64}`)
      }
    })

    it('records an unknown key under accept-new in the first file, in a form ssh-keygen -F finds, then knows it', () => {
      const file = join(dir, 'sub', 'kh-accept')
      const store = new KnownHostsStore()
      const result = verifyHostKey({
        host: '127.0.0.4',
        key: keys.ed!.blob,
        node: 'node4',
        policy: policy(dir, file, 'accept-new'),
        port: 2222,
        store,
      })
      expect(result.notes.join(',')).to.include('recorded in').and.include(`${file}:1`)
      const found = execFileSync('ssh-keygen', ['-F', '[127.0.0.4]:2222', '-f', file], {encoding: 'utf8'})
      expect(found).to.include(keys.ed!.base64)
      const again = verifyHostKey({
        host: '127.0.0.4',
        key: keys.ed!.blob,
        node: 'node4',
        policy: policy(dir, file, 'accept-new'),
        port: 2222,
        store: new KnownHostsStore(),
      })
      expect(again.notes).to.deep.equal([])
    })

    it('refuses a changed key even under accept-new and no, naming both fingerprints and the old line', () => {
      const file = join(dir, 'kh-changed')
      writeFileSync(file, `# first\n${line('[127.0.0.5]:2222', keys.ed!)}\n`)
      for (const strict of ['accept-new', 'no'] as const) {
        let error: unknown
        try {
          verifyHostKey({
            host: '127.0.0.5',
            key: keys.ed2!.blob,
            node: 'node5',
            policy: policy(dir, file, strict),
            port: 2222,
            store: new KnownHostsStore(),
          })
        } catch (error_) {
          error = error_
        }

        expect(error).to.be.instanceOf(HostKeyError)
        const {hints, message} = error as HostKeyError
        expect(message).to.include('REMOTE HOST IDENTIFICATION HAS CHANGED')
        expect(message).to.include(fingerprint(keys.ed!.blob)).and.include(fingerprint(keys.ed2!.blob))
        expect(message).to.include(`${file}:2`)
        expect(hints.join(',')).to.include(`ssh-keygen -f ${file} -R '[127.0.0.5]:2222'`)
      }

      expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).to.have.length(2)
    })

    it('honours HostKeyAlias and orders known key types first', () => {
      const file = join(dir, 'kh-alias')
      writeFileSync(file, `${line('myalias', keys.ecdsa!)}\n`)
      const aliasPolicy = {...policy(dir, file, 'yes'), hostKeyAlias: 'myalias'}
      const store = new KnownHostsStore()
      expect(preferredHostKeyTypes(store, aliasPolicy, '127.0.0.6', 2222)).to.deep.equal(['ecdsa-sha2-nistp256'])
      expect(() =>
        verifyHostKey({
          host: '127.0.0.6', key: keys.ecdsa!.blob, node: 'n6', policy: aliasPolicy, port: 2222, store,
        })).not.to.throw()
    })
  })
})
