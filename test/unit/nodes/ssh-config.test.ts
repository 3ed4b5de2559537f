import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {
  mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import os, {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {expandGlob, SshConfig} from '../../../src/nodes/ssh-config.js'

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/ssh')

/** `ssh -G` is the oracle: what OpenSSH itself computes for the host. */
function sshG(configPath: string, host: string): Map<string, string[]> {
  const out = execFileSync('ssh', ['-G', '-F', configPath, host], {encoding: 'utf8'})
  const map = new Map<string, string[]>()
  for (const line of out.split('\n')) {
    const space = line.indexOf(' ')
    if (space === -1) continue
    const key = line.slice(0, space)
    map.set(key, [...(map.get(key) ?? []), line.slice(space + 1)])
  }

  return map
}

function firstOf(map: Map<string, string[]>, key: string): string | undefined {
  return map.get(key)?.[0]
}

describe('ssh config', () => {
  let dir: string
  const realHome = os.userInfo().homedir

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'staticpod-ssh-config-'))
  })

  afterEach(() => rmSync(dir, {force: true, recursive: true}))

  function write(name: string, text: string): string {
    const path = join(dir, name)
    mkdirSync(join(path, '..'), {recursive: true})
    writeFileSync(path, text)
    return path
  }

  it('agrees with ssh -G on Host patterns, first-value-wins, Include (glob, nested, inside Host) and tokens', () => {
    write('conf.d/10-web.conf', 'Host web*\n  User webadmin\n  Port 2201\n')
    write('conf.d/20-all.conf', 'Host *\n  IdentityFile %d/.ssh/id_from_include_%r\n')
    write('conf.d/skip.txt', 'Host *\n  User never\n')
    write('node1-only.conf', 'ConnectTimeout 7\nHost node1\n  Port 2299\n')
    write('inner.conf', 'User inner-user\nHost never-matches\n  User nope\n')
    const main = write(
      'config',
      [
        `Include ${dir}/conf.d/*.conf`,
        'Host db1',
        '  HostName 10.1.0.%h.example',
        `  Include ${dir}/inner.conf`,
        '  Port 2202',
        'Host node? !node9',
        '  HostName 127.0.0.%h',
        '  IdentityFile ~/.ssh/id_%h_%p_%r_%u',
        '  User admin',
        '  ProxyJump jump1,jumpuser@jump2:2022',
        `  UserKnownHostsFile ${dir}/kh_%h_%p %d/.ssh/second`,
        '  StrictHostKeyChecking accept-new',
        'Host node1',
        '  User ignored-first-wins',
        '  Port 2200',
        `  Include ${dir}/node1-only.conf`,
        'Host *',
        '  User fallback',
        '',
      ].join('\n'),
    )
    const config = new SshConfig({home: realHome, path: main})
    for (const host of ['node1', 'node9', 'web3', 'db1', 'other']) {
      const ours = config.resolve(host)
      const theirs = sshG(main, host)
      expect(ours.hostName, `${host} hostname`).to.equal(theirs.get('hostname')?.[0])
      expect(String(ours.port), `${host} port`).to.equal(theirs.get('port')?.[0])
      expect(ours.user, `${host} user`).to.equal(theirs.get('user')?.[0])
      // ssh -G prints IdentityFile unexpanded; expand its tokens from its own answers.
      const tokens: Record<string, string> = {
        d: realHome,
        h: theirs.get('hostname')?.[0] ?? '',
        p: theirs.get('port')?.[0] ?? '',
        r: theirs.get('user')?.[0] ?? '',
        u: os.userInfo().username,
      }
      const theirIdentities = (theirs.get('identityfile') ?? []).map(path =>
        path.replace(/^~/, realHome).replaceAll(/%([dhpru])/g, (_, key: string) => tokens[key] ?? ''))
      if (ours.identityFilesExplicit) expect(ours.identityFiles, `${host} identityfile`).to.deep.equal(theirIdentities)
      expect(ours.proxyJump.join(','), `${host} proxyjump`).to.equal(theirs.get('proxyjump')?.[0] ?? '')
      const theirKnown = (theirs.get('userknownhostsfile')?.[0] ?? '').split(' ').map(path => path.replace(/^~/, realHome))
      expect(ours.userKnownHostsFiles, `${host} userknownhostsfile`).to.deep.equal(theirKnown)
      const theirStrict = theirs.get('stricthostkeychecking')?.[0]
      const expectedStrict = {
        'accept-new': 'accept-new', ask: 'ask', false: 'no', true: 'yes',
      }[theirStrict ?? 'ask']
      expect(ours.strictHostKeyChecking, `${host} stricthostkeychecking`).to.equal(expectedStrict)
    }

    const node1 = config.resolve('node1')
    expect(node1.hostName).to.equal('127.0.0.node1')
    expect(node1.user).to.equal('admin')
    expect(node1.connectTimeoutMs).to.equal(7000)
    expect(node1.proxyJump).to.deep.equal(['jump1', 'jumpuser@jump2:2022'])
    expect(node1.matchedHostBlock).to.equal(true)
    expect(node1.identityFiles).to.deep.equal([
      join(realHome, '.ssh/id_from_include_admin'),
      join(realHome, `.ssh/id_127.0.0.node1_2200_admin_${os.userInfo().username}`),
    ])
    expect(config.resolve('db1').user).to.equal('inner-user')
    expect(config.resolve('web3')).to.include({port: 2201, user: 'webadmin'})
    expect(config.resolve('other').matchedHostBlock).to.equal(false)
  })

  it('agrees with ssh -G on a realistic config (fixture): case, =, quotes, negation, Match, first value wins', () => {
    const fixture = join(FIXTURES, 'realistic-config')
    const hosts = /^# ssh-g-hosts: (.*)$/m.exec(readFileSync(fixture, 'utf8'))![1]!.split(' ')
    const config = new SshConfig({home: realHome, path: fixture})
    for (const host of hosts) {
      const ours = config.resolve(host)
      const theirs = sshG(fixture, host)
      expect(ours.hostName, `${host} hostname`).to.equal(firstOf(theirs, 'hostname'))
      expect(String(ours.port), `${host} port`).to.equal(firstOf(theirs, 'port'))
      expect(ours.user, `${host} user`).to.equal(firstOf(theirs, 'user'))
      expect(ours.proxyJump.join(','), `${host} proxyjump`).to.equal(firstOf(theirs, 'proxyjump') ?? '')
      expect(ours.proxyCommand, `${host} proxycommand`).to.equal(firstOf(theirs, 'proxycommand'))
      expect(ours.hostKeyAlias, `${host} hostkeyalias`).to.equal(firstOf(theirs, 'hostkeyalias'))
      expect(ours.identitiesOnly, `${host} identitiesonly`).to.equal(firstOf(theirs, 'identitiesonly') === 'yes')
      expect(ours.connectTimeoutMs === undefined ? 'none' : String(ours.connectTimeoutMs / 1000), `${host} connecttimeout`).to.equal(firstOf(theirs, 'connecttimeout'))
      if (ours.identityFilesExplicit) expect(ours.identityFiles, `${host} identityfile`).to.deep.equal(theirs.get('identityfile'))
      const known = firstOf(theirs, 'userknownhostsfile')!.split(' ').map(path => path.replace(/^~/, realHome))
      expect(ours.userKnownHostsFiles, `${host} userknownhostsfile`).to.deep.equal(known)
      const strict = {
        'accept-new': 'accept-new', ask: 'ask', false: 'no', true: 'yes',
      }[firstOf(theirs, 'stricthostkeychecking') ?? 'ask']
      expect(ours.strictHostKeyChecking, `${host} stricthostkeychecking`).to.equal(strict)
    }
  })

  it('applies OpenSSH defaults when nothing is configured', () => {
    const home = join(dir, 'home')
    const config = new SshConfig({
      env: {SSH_AUTH_SOCK: '/tmp/agent.sock'}, home, localUser: 'alice', path: write('empty', ''),
    })
    const host = config.resolve('plain.example')
    expect(host).to.deep.include({
      hostName: 'plain.example',
      identitiesOnly: false,
      identityAgent: '/tmp/agent.sock',
      identityFilesExplicit: false,
      matchedHostBlock: false,
      port: 22,
      proxyJump: [],
      strictHostKeyChecking: 'ask',
      user: 'alice',
    })
    expect(host.identityFiles).to.deep.equal(['id_ed25519', 'id_ecdsa', 'id_rsa'].map(name => join(home, '.ssh', name)))
    expect(host.userKnownHostsFiles).to.deep.equal([join(home, '.ssh/known_hosts'), join(home, '.ssh/known_hosts2')])
    expect(host.globalKnownHostsFiles).to.deep.equal(['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'])
  })

  it('reads ~/.ssh/config then the system file by default, Include relative to ~/.ssh', () => {
    const home = join(dir, 'home')
    write('home/.ssh/config', 'Host a1\n  Include extra/*.conf\nHost *\n  Port 2022\n')
    write('home/.ssh/extra/a.conf', 'User from-relative-include\n')
    const system = write('ssh_config', 'Host *\n  User system-user\n  HashKnownHosts yes\n  IdentityAgent none\n')
    const config = new SshConfig({
      env: {SSH_AUTH_SOCK: '/x'}, home, localUser: 'alice', systemPath: system,
    })
    expect(config.resolve('a1')).to.deep.include({
      hashKnownHosts: true, identityAgent: undefined, port: 2022, user: 'from-relative-include',
    })
    expect(config.resolve('b1').user).to.equal('system-user')
    expect(config.files).to.include(join(home, '.ssh/extra/a.conf'))
  })

  it('lets inventory overrides win like ssh -o HostName= -p -l, and expands %h in IdentityFile with them', () => {
    const main = write('config', 'Host n1\n  HostName wrong\n  Port 1\n  User wrong\n  IdentityFile /keys/%h-%p-%r\n')
    const host = new SshConfig({home: dir, path: main}).resolve('n1', {hostName: '127.0.0.8', port: 2222, user: 'root'})
    expect(host).to.deep.include({hostName: '127.0.0.8', port: 2222, user: 'root'})
    expect(host.identityFiles).to.deep.equal(['/keys/127.0.0.8-2222-root'])
  })

  it('lists the non-pattern Host aliases as known nodes, including those in included files', () => {
    write('inc.conf', 'Host inc1 inc2\n  Port 2\n')
    const main = write('config', `Host node1 node2 node*\n  User a\nHost !bad ?x bastion\nInclude ${dir}/inc.conf\nHost *\n`)
    expect(new SshConfig({home: dir, path: main}).aliases()).to.deep.equal(['node1', 'node2', 'bastion', 'inc1', 'inc2'])
  })

  it('treats ProxyJump none and IdentityFile none as empty', () => {
    const main = write('config', 'Host x\n  ProxyJump none\n  IdentityFile none\n')
    expect(new SshConfig({home: dir, path: main}).resolve('x')).to.deep.include({identityFiles: [], proxyJump: []})
  })

  it('fails clearly on a missing explicit file and on invalid values', () => {
    expect(() => new SshConfig({home: dir, path: join(dir, 'nope')})).to.throw(/cannot read ssh config .*nope/)
    const bad = write('bad', 'Host x\n  StrictHostKeyChecking maybe\n  Port 99999\n')
    expect(() => new SshConfig({home: dir, path: bad}).resolve('x')).to.throw(/invalid Port "99999"/)
  })

  it('globs like glob(3): sorted, no dotfiles for *', () => {
    write('g/b.conf', '')
    write('g/a.conf', '')
    write('g/.hidden.conf', '')
    write('g/sub/c.conf', '')
    expect(expandGlob(join(dir, 'g/*.conf'))).to.deep.equal([join(dir, 'g/a.conf'), join(dir, 'g/b.conf')])
    expect(expandGlob(join(dir, 'g/*/c.con?'))).to.deep.equal([join(dir, 'g/sub/c.conf')])
    expect(expandGlob(join(dir, 'g/[ab].conf'))).to.deep.equal([join(dir, 'g/a.conf'), join(dir, 'g/b.conf')])
    expect(expandGlob(join(dir, 'nothing/*'))).to.deep.equal([])
  })
})
