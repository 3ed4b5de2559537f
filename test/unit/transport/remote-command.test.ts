import {expect} from 'chai'
import {spawn, spawnSync} from 'node:child_process'

import {remoteCommand, sudoWantsPassword} from '../../../src/transport/remote-command.js'

/** Run the line the way sshd does: the login shell's `-c`. The shell's parent is this test process. */
function runLine(line: string, stdin = ''): {code: null | number; stderr: string; stdout: string} {
  const result = spawnSync('/bin/sh', ['-c', line], {encoding: 'utf8', input: stdin})
  return {code: result.status, stderr: result.stderr, stdout: result.stdout}
}

function alive(marker: string): boolean {
  return spawnSync('pgrep', ['-f', marker]).status === 0
}

describe('remote command wrapper', () => {
  it('passes argv through untouched, with stdin, stdout, stderr and the exit status', () => {
    const argv = ['sh', '-c', 'printf "%s|" "$@"; cat; echo oops >&2; exit 7', 'x', "a b 'c'", '$(id)', '']
    const result = runLine(remoteCommand(argv), 'from stdin')
    expect(result).to.deep.equal({code: 7, stderr: 'oops\n', stdout: "a b 'c'|$(id)||from stdin"})
  })

  it('runs through sudo -n when asked', () => {
    const line = remoteCommand(['id', '-u'], {sudo: true})
    expect(line).to.match(/^exec sudo -n -- sh -c /)
    expect(runLine(line)).to.include({code: 0, stdout: '0\n'})
  })

  it('without the watchdog (read-only commands): exec argv as it is, no other process on the node', () => {
    const argv = ['sh', '-c', 'printf "%s|" "$@"; cat; echo $$ >&2', 'x', "a b 'c'", '$(id)', '']
    const line = remoteCommand(argv, {deadlineSeconds: 5, watchdog: false})
    expect(line).to.match(/^exec sh -c /)
    const result = runLine(line, 'from stdin')
    expect(result).to.include({code: 0, stdout: "a b 'c'|$(id)||from stdin"})
    expect(remoteCommand(['id', '-u'], {sudo: true, watchdog: false})).to.equal('exec sudo -n -- id -u')
  })

  it('stops the command and its children at the deadline', function () {
    this.timeout(20_000)
    const marker = `sleep 61.${process.pid}`
    const started = Date.now()
    const result = runLine(remoteCommand(['sh', '-c', `${marker} & ${marker}; echo never`], {deadlineSeconds: 1}))
    expect(Date.now() - started).to.be.lessThan(8000)
    expect(result.code).to.equal(143)
    expect(result.stdout).to.equal('')
    expect(alive(marker)).to.equal(false)
  })

  it('stops the command when the session process (its parent) goes away', async function () {
    this.timeout(20_000)
    const marker = `sleep 62.${process.pid}`
    // An intermediate shell plays sshd: the watchdog watches "$PPID", this shell's pid.
    // Like sshd, it starts the login shell with `-c LINE`, here in the background, then goes away.
    const session = spawn('/bin/sh', ['-c', '/bin/sh -c "$1" & sleep 2; exit 0', 'session', remoteCommand(['sh', '-c', marker])], {
      stdio: 'ignore',
    })
    const exited = new Promise(resolve => {
      session.on('exit', resolve)
    })
    await new Promise(resolve => {
      setTimeout(resolve, 1000)
    })
    expect(alive(marker), 'the remote sleep runs while the session does').to.equal(true)
    await exited
    // the session is gone; the watchdog notices within a second or two
    let gone = false
    for (let i = 0; i < 50 && !gone; i++) {
      // eslint-disable-next-line no-await-in-loop
      await new Promise(resolve => {
        setTimeout(resolve, 200)
      })
      gone = !alive(marker)
    }

    expect(gone, 'the remote sleep is gone').to.equal(true)
  })

  it('ends what the command left running in its group when it exits', function () {
    this.timeout(20_000)
    const marker = `sleep 63.${process.pid}`
    const started = Date.now()
    const result = runLine(remoteCommand(['sh', '-c', `${marker} & echo started`]))
    expect(result).to.include({code: 0, stdout: 'started\n'})
    expect(Date.now() - started).to.be.lessThan(8000)
    expect(alive(marker)).to.equal(false)
  })

  it('recognises sudo asking for a password', () => {
    expect(sudoWantsPassword({code: 1, stderr: 'sudo: a password is required\n'})).to.equal(true)
    expect(sudoWantsPassword({code: 1, stderr: 'other\n'})).to.equal(false)
  })
})
