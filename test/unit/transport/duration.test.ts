import {expect} from 'chai'

import {UserError} from '../../../src/errors.js'
import {parseDuration} from '../../../src/flags.js'
import {formatMs} from '../../../src/transport/duration.js'

describe('durations', () => {
  it('parses 500ms, 30s, 5m, 1h, 1m30s, 1.5s and bare seconds', () => {
    expect(['500ms', '30s', '5m', '1h', '1m30s', '1.5s', '10'].map(text => parseDuration(text))).to.deep.equal([
      500, 30_000, 300_000, 3_600_000, 90_000, 1500, 10_000,
    ])
  })

  it('rejects anything else as a usage error', () => {
    for (const text of ['', 'soon', '5 m', '1m30', '-1s', '0s', '10x', 's']) {
      expect(() => parseDuration(text), text).to.throw(UserError, /invalid duration/)
    }
  })

  it('formats durations the way they are written', () => {
    expect([850, 1000, 1500, 10_000, 300_000, 90_000].map(ms => formatMs(ms))).to.deep.equal(['850ms', '1s', '1.5s', '10s', '5m', '1m30s'])
  })
})
