import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {UserError} from '../../../src/errors.js'
import {resolveNodes} from '../../../src/nodes/resolve.js'

async function noDns(): Promise<boolean> {
  return false
}

describe('node resolution (inventory + ssh config)', () => {
  let dir: string

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'staticpod-resolve-'))
  })

  afterEach(() => rmSync(dir, {force: true, recursive: true}))

  function file(name: string, text: string): string {
    const path = join(dir, name)
    writeFileSync(path, text)
    return path
  }

  const sshConfig = [
    'Host node1 node2 bastion',
    '  User root',
    'Host node1',
    '  HostName 127.0.0.11',
    '  ProxyJump bastion',
    'Host node2',
    '  HostName 127.0.0.12',
    '  Port 2222',
    'Host bastion',
    '  HostName 127.0.0.10',
    '  User jumper',
    '  StrictHostKeyChecking accept-new',
    'Host *.lab',
    '  HostName %h.internal',
    '',
  ].join('\n')

  it('without inventory: the Host aliases are the nodes; HostName/Port/User/ProxyJump come from the config', async () => {
    const resolved = await resolveNodes({
      cwd: dir, home: dir, lookupHost: noDns, sshConfigPath: file('config', sshConfig),
    })
    expect(resolved.known).to.deep.equal(['node1', 'node2', 'bastion'])
    const [node1, node2] = resolved.targets
    expect(node1).to.deep.include({
      host: '127.0.0.11', name: 'node1', port: 22, source: 'ssh-config', sudo: false, user: 'root',
    })
    expect(node1!.jump.map(hop => [hop.name, hop.host, hop.user, hop.hostKey.strictHostKeyChecking])).to.deep.equal([
      ['bastion', '127.0.0.10', 'root', 'accept-new'], // first value wins: User root came first,
    ])
    expect(node2).to.deep.include({host: '127.0.0.12', port: 2222})
    expect(node2!.jump).to.deep.equal([])
  })

  it('with inventory: node fields, then defaults, win over the ssh config; sudo when not root', async () => {
    const inventory = file(
      'inv.yaml',
      'defaults: {user: sp-admin, manifestDir: /m}\nnodes:\n  node1: {}\n  node2: {user: root, port: 2200}\n  node9: {host: 127.0.0.19}\ngroups:\n  pair: [node1, node2]\n',
    )
    const resolved = await resolveNodes({
      configPath: inventory,
      cwd: dir,
      home: dir,
      lookupHost: noDns,
      spec: 'pair,node9',
      sshConfigPath: file('config', sshConfig),
    })
    expect(resolved.known).to.deep.equal(['node1', 'node2', 'node9'])
    expect(resolved.targets.map(target => [target.name, target.host, target.port, target.user, target.sudo, target.manifestDir])).to.deep.equal([
      ['node1', '127.0.0.11', 22, 'sp-admin', true, '/m'],
      ['node2', '127.0.0.12', 2200, 'root', false, '/m'],
      ['node9', '127.0.0.19', 22, 'sp-admin', true, '/m'],
    ])
  })

  it('an unknown name works when ssh NAME would: IP literal, HostName from a pattern block, or DNS', async () => {
    const sshConfigPath = file('config', sshConfig)
    const asked: string[] = []
    const dns = async (name: string): Promise<boolean> => {
      asked.push(name)
      return name === 'resolvable'
    }

    const resolved = await resolveNodes({
      cwd: dir, home: dir, lookupHost: dns, spec: '127.0.0.99,db.lab,resolvable', sshConfigPath,
    })
    expect(resolved.targets.map(target => [target.name, target.host, target.source])).to.deep.equal([
      ['127.0.0.99', '127.0.0.99', 'hostname'],
      ['db.lab', 'db.lab.internal', 'ssh-config'],
      ['resolvable', 'resolvable', 'hostname'],
    ])
    expect(asked).to.deep.equal(['resolvable'])
  })

  it('an unknown name that does not resolve is a usage error with a did-you-mean', async () => {
    let error: unknown
    try {
      await resolveNodes({
        cwd: dir, home: dir, lookupHost: noDns, spec: 'node1,nod2', sshConfigPath: file('config', sshConfig),
      })
    } catch (error_) {
      error = error_
    }

    expect(error).to.be.instanceOf(UserError)
    expect((error as UserError).exitCode).to.equal(2)
    expect((error as UserError).message).to.match(/^unknown node or group "nod2" \(did you mean "node\d"\?\)/)
  })

  it('ProxyJump chains: user@host:port hops, the first hop through its own ProxyJump', async () => {
    const config = file(
      'config',
      'Host target\n  HostName 127.0.0.50\n  ProxyJump hop1,ops@hop2:2022\nHost hop1\n  HostName 127.0.0.41\n  ProxyJump outer\nHost outer\n  HostName 127.0.0.40\nHost hop2\n  HostName 127.0.0.42\n',
    )
    const {targets} = await resolveNodes({
      cwd: dir, home: dir, lookupHost: noDns, spec: 'target', sshConfigPath: config,
    })
    expect(targets[0]!.jump.map(hop => `${hop.user}@${hop.host}:${hop.port}`)).to.deep.equal([
      `${targets[0]!.user}@127.0.0.40:22`,
      `${targets[0]!.user}@127.0.0.41:22`,
      'ops@127.0.0.42:2022',
    ])
  })
})
