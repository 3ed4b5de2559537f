import {expect} from 'chai'
import {spawnSync} from 'node:child_process'

import {NodeTimeoutError} from '../../../src/transport/errors.js'
import {LocalNode} from '../../../src/transport/local-node.js'

describe('LocalNode', () => {
  const node = new LocalNode('here')

  after(async () => node.close())

  it('runs argv without a shell, with stdin, and reports the exit status', async () => {
    const result = await node.run(['sh', '-c', 'cat; echo "$1" >&2; exit 5', 'x', '$(id); echo'], {stdin: 'in'})
    expect(result).to.deep.include({code: 5, stderr: '$(id); echo\n', stdout: 'in'})
  })

  it('reports a missing program as 127', async () => {
    expect((await node.run(['staticpod-no-such-program'])).code).to.equal(127)
  })

  it('runs as root (directly when we are root, else through sudo -n)', async () => {
    const result = await node.runAsRoot(['id', '-u'])
    expect(result.stdout.trim()).to.equal('0')
  })

  it('stops the command and its children on timeout', async () => {
    const marker = `sleep 64.${process.pid}`
    let error: unknown
    try {
      await node.run(['sh', '-c', `${marker} & ${marker}`], {timeoutMs: 300})
    } catch (error_) {
      error = error_
    }

    expect(error).to.be.instanceOf(NodeTimeoutError)
    await new Promise(resolve => {
      setTimeout(resolve, 300)
    })
    expect(spawnSync('pgrep', ['-f', marker]).status).to.equal(1)
  })
})
