import {expect} from 'chai'
import {spawnSync} from 'node:child_process'

import {quoteArg, quoteArgv} from '../../../src/transport/shell-quote.js'

/** What a real POSIX shell makes of the quoted command line: the argv it would run. */
function shellSplit(commandLine: string): string[] {
  const result = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${commandLine}`], {encoding: 'utf8'})
  expect(result.status, result.stderr).to.equal(0)
  return result.stdout.split('\0').slice(0, -1)
}

describe('shell-quote', () => {
  const cases: Record<string, string> = {
    'ampersand and pipe': 'a & b | c',
    assignment: 'FOO=bar',
    backslashes: String.raw`C:\temp\n`,
    backticks: '`id`',
    'command substitution': '$(touch /tmp/staticpod-pwned)',
    'dollar variable': '$HOME $PATH',
    'double quotes': 'say "hi"',
    empty: '',
    glob: '*.yaml',
    'hash comment': '# not a comment',
    'leading dash': '-rf',
    newline: 'line1\nline2\n',
    'only quote': "'",
    redirection: '> /etc/passwd',
    semicolon: 'a; rm -rf /',
    'single quotes': "it's 'quoted'",
    spaces: '  two  spaces  ',
    tab: 'a\tb',
    tilde: '~root',
    unicode: 'pod-ünïcødé-名前-🚀',
  }

  for (const [name, arg] of Object.entries(cases)) {
    it(`round-trips ${name} through /bin/sh`, () => {
      expect(shellSplit(quoteArg(arg))).to.deep.equal([arg])
    })
  }

  it('round-trips a whole argv, one word per argument', () => {
    const argv = Object.values(cases)
    expect(shellSplit(quoteArgv(argv))).to.deep.equal(argv)
  })

  it('leaves plain words readable', () => {
    expect(quoteArgv(['uname', '-n', '/etc/kubernetes/manifests', 'user@host:22'])).to.equal('uname -n /etc/kubernetes/manifests user@host:22')
  })

  it('quotes an empty string as a real empty argument', () => {
    expect(quoteArg('')).to.equal("''")
    expect(shellSplit(`${quoteArg('')} x`)).to.deep.equal(['', 'x'])
  })
})
