import {expect} from 'chai'

import {
  parseRestartOutput, RESTART_SCRIPT, restartArgv, sequencedExitCode,
} from '../../../src/ops/kubelet-restart.js'

describe('ops/kubelet-restart', () => {
  it('parses a restart that came back, and one that did not', () => {
    expect(parseRestartOutput('reloaded\nrestarted\nhealthy 1234\n', 'http://127.0.0.1:10248/healthz')).to.deep.equal({
      daemonReloaded: true, durationMs: 1234, healthy: true, waitedFor: 'http://127.0.0.1:10248/healthz',
    })
    const last = Buffer.from('curl: (7) Failed to connect to 127.0.0.1 port 10248\n').toString('base64')
    expect(parseRestartOutput(`restarted\nunhealthy 4012 ${last}\n`, 'u')).to.deep.equal({
      daemonReloaded: false, durationMs: 4012, healthy: false, lastAnswer: 'curl: (7) Failed to connect to 127.0.0.1 port 10248', waitedFor: 'u',
    })
    expect(parseRestartOutput(`restart-failed 1\nunhealthy 5 ${Buffer.from('no unit').toString('base64')}\n`, 'u')).to.deep.include({healthy: false, restartFailed: true})
    expect(() => parseRestartOutput('restarted\n', 'u')).to.throw(/unexpected output/)
    const journal = Buffer.from('kubelet[9]: E1129 "command failed" err="maxPods must not be a negative number"\n').toString('base64')
    const rolledBack = [
      'reloaded',
      'restarted',
      `unhealthy 4000 ${last}`,
      'journal',
      journal.slice(0, 10),
      journal.slice(10),
      '.',
      'restored',
      'rollback-reloaded',
      'rollback-restarted',
      'rollback-healthy 800',
      '',
    ].join('\n')
    expect(parseRestartOutput(rolledBack, 'new', 'old')).to.deep.equal({
      daemonReloaded: true,
      durationMs: 4000,
      healthy: false,
      lastAnswer: 'curl: (7) Failed to connect to 127.0.0.1 port 10248',
      rollback: {
        journal: 'kubelet[9]: E1129 "command failed" err="maxPods must not be a negative number"',
        restart: {
          daemonReloaded: true, durationMs: 800, healthy: true, waitedFor: 'old',
        },
        restored: true,
      },
      waitedFor: 'new',
    })
    const notRestored = parseRestartOutput(`restarted\nunhealthy 1 ${last}\njournal\n.\nrestore-failed ${Buffer.from('could not restore: /a').toString('base64')}\nrollback-restarted\nrollback-unhealthy 2 ${last}\n`, 'u')
    expect(notRestored.rollback).to.deep.include({journal: '', restored: false, restoreError: 'could not restore: /a'})
    expect(notRestored.rollback?.restart?.healthy).to.equal(false)
  })

  it('passes the healthz endpoint and the rollback as arguments; healthzPort 0 waits for is-active', () => {
    const on = restartArgv({
      address: '127.0.0.1', enabled: true, port: 10_248, url: 'http://127.0.0.1:10248/healthz',
    }, {daemonReload: true, waitMs: 30_000})
    expect(on.slice(3, 5)).to.deep.equal(['staticpod-restart', RESTART_SCRIPT])
    expect(on.slice(5)).to.deep.equal(['1', 'http://127.0.0.1:10248/healthz', '127.0.0.1', '10248', '30000'])
    const off = restartArgv({address: '127.0.0.1', enabled: false, port: 0}, {daemonReload: false, waitMs: 1000})
    expect(off.slice(5, 7)).to.deep.equal(['0', ''])
    const withUndo = restartArgv(
      {
        address: '127.0.0.1', enabled: true, port: 1, url: 'http://127.0.0.1:1/healthz',
      },
      {
        daemonReload: false,
        rollback: {
          endpoint: {
            address: '127.0.0.1', enabled: true, port: 2, url: 'http://127.0.0.1:2/healthz',
          }, undo: [{backup: '/b/etc/x', path: '/etc/x'}, {path: '/etc/new.conf'}],
        },
        waitMs: 1,
      },
    )
    expect(withUndo.slice(10)).to.deep.equal(['http://127.0.0.1:2/healthz', '127.0.0.1', '2', 'r', '/etc/x', '/b/etc/x', 'd', '/etc/new.conf'])
    expect(restartArgv({
      address: '::1', enabled: true, port: 1, url: 'http://[::1]:1/healthz',
    }, {daemonReload: 'auto', waitMs: 1}).slice(5, 6)).to.deep.equal(['auto'])
  })

  it('counts skipped nodes as a failure of the run', () => {
    expect(sequencedExitCode([{status: 'changed'}, {status: 'ok'}])).to.equal(0)
    expect(sequencedExitCode([{status: 'changed'}, {status: 'skipped'}])).to.equal(1)
    expect(sequencedExitCode([{status: 'failed'}])).to.equal(1)
  })
})
