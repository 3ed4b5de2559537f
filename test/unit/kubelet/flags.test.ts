/* eslint-disable no-template-curly-in-string -- systemd's ${VAR} syntax, not template strings */
import {expect} from 'chai'

import {UserError} from '../../../src/errors.js'
import {
  expandExecArgs, foldFlagValues, formatFlagValues, lookupFlag, parseArgs, parseCmdline, parseUserValue, resolveKey,
} from '../../../src/kubelet/flags.js'
import {quoteWord, splitWords} from '../../../src/kubelet/words.js'
import {capture} from './node-fixture.js'

describe('kubelet/flags', () => {
  describe('keys', () => {
    it('maps flags and config fields both ways, whatever the spelling', () => {
      for (const key of ['pod-manifest-path', '--pod-manifest-path', 'pod_manifest_path', 'staticPodPath', 'staticpodpath']) {
        expect(lookupFlag(key), key).to.include({field: 'staticPodPath', flag: 'pod-manifest-path'})
      }

      expect(lookupFlag('manifest-url')).to.include({field: 'staticPodURL', kind: 'string'})
      expect(lookupFlag('staticPodURLHeader')).to.include({flag: 'manifest-url-header', kind: 'headers'})
      expect(lookupFlag('clusterDNS')).to.include({flag: 'cluster-dns', kind: 'list'})
      expect(lookupFlag('container-runtime-endpoint')).to.include({field: 'containerRuntimeEndpoint'})
      expect(lookupFlag('client-ca-file')).to.include({field: 'authentication.x509.clientCAFile'})
      expect(lookupFlag('config')).to.include({field: undefined, flag: 'config'})
      expect(lookupFlag('hostname-override')?.field).to.equal(undefined)
      expect(lookupFlag('healthzPort')).to.include({default: 10_248, flag: 'healthz-port'})
      expect(lookupFlag('fileCheckFrequency')).to.include({default: '20s'})
    })

    it('rejects unknown keys naming the closest known one', () => {
      expect(() => resolveKey('pod-manifests-path')).to.throw(UserError, 'unknown kubelet flag or config field "pod-manifests-path" (did you mean "--pod-manifest-path"?)')
      expect(() => resolveKey('staticPodPth')).to.throw(UserError, '(did you mean "staticPodPath"?)')
      expect(() => resolveKey('zzzzzzzzzzzzzzzz')).to.throw(UserError).that.satisfies((e: Error) => !e.message.includes('did you mean'))
    })
  })

  describe('parseArgs', () => {
    it('splits --flag=value, --flag value, booleans, shorthands and strays like pflag', () => {
      const args = parseArgs([
        '--pod-manifest-path',
        '/etc/kubelet.d',
        '--fail-swap-on',
        '--max-pods=10',
        '--rotate-certificates=false',
        '-v',
        '3',
        '-v4',
        '--some-unknown',
        'value',
        '--unknown-bool',
        '--register-node',
        'stray',
        '--cluster_dns=1.1.1.1',
      ])
      expect(args.map(a => [a.name, a.value, a.index, a.count, a.positional ?? false])).to.deep.equal([
        ['pod-manifest-path', '/etc/kubelet.d', 0, 2, false],
        ['fail-swap-on', 'true', 2, 1, false],
        ['max-pods', '10', 3, 1, false],
        ['rotate-certificates', 'false', 4, 1, false],
        ['v', '3', 5, 2, false],
        ['v', '4', 7, 1, false],
        ['some-unknown', 'value', 8, 2, false],
        ['unknown-bool', 'true', 10, 1, false],
        ['register-node', 'true', 11, 1, false],
        ['stray', 'stray', 12, 1, true],
        ['cluster-dns', '1.1.1.1', 13, 1, false],
      ])
    })

    it('gives a value flag the next word whatever it is', () => {
      expect(parseArgs(['--node-labels', '--weird']).map(a => [a.name, a.value])).to.deep.equal([['node-labels', '--weird']])
    })
  })

  describe('values', () => {
    it('combines repeats as pflag does: last wins, lists append, maps merge, headers accumulate', () => {
      expect(foldFlagValues(lookupFlag('max-pods'), ['10', '20'])).to.equal(20)
      expect(foldFlagValues(lookupFlag('cluster-dns'), ['10.0.0.1,10.0.0.2', '10.0.0.3'])).to.deep.equal(['10.0.0.1', '10.0.0.2', '10.0.0.3'])
      expect(foldFlagValues(lookupFlag('node-labels'), ['a=1,b=2', 'b=3'])).to.deep.equal({a: '1', b: '3'})
      expect(foldFlagValues(lookupFlag('eviction-hard'), ['memory.available<100Mi'])).to.deep.equal({'memory.available': '100Mi'})
      expect(foldFlagValues(lookupFlag('manifest-url-header'), ['a:hello,b:again,c:world', 'b:beautiful'])).to.deep.equal({
        a: ['hello'], b: ['again', 'beautiful'], c: ['world'],
      })
      expect(foldFlagValues(lookupFlag('fail-swap-on'), ['false'])).to.equal(false)
    })

    it('checks and converts values given with --set', () => {
      expect(parseUserValue(lookupFlag('fileCheckFrequency')!, '1m30s')).to.equal('1m30s')
      expect(() => parseUserValue(lookupFlag('fileCheckFrequency')!, '20')).to.throw(UserError, 'takes a duration')
      expect(parseUserValue(lookupFlag('healthzPort')!, '0')).to.equal(0)
      expect(() => parseUserValue(lookupFlag('max-pods')!, 'many')).to.throw(UserError, 'takes an integer')
      expect(parseUserValue(lookupFlag('fail-swap-on')!, 'false')).to.equal(false)
      expect(() => parseUserValue(lookupFlag('fail-swap-on')!, 'no')).to.throw(UserError)
      expect(parseUserValue(lookupFlag('clusterDNS')!, '10.0.0.10,10.0.0.11')).to.deep.equal(['10.0.0.10', '10.0.0.11'])
      expect(parseUserValue(lookupFlag('clusterDNS')!, '["10.0.0.10"]')).to.deep.equal(['10.0.0.10'])
      expect(parseUserValue(lookupFlag('staticPodURLHeader')!, 'a:hello,b:again,a:x')).to.deep.equal({a: ['hello', 'x'], b: ['again']})
      expect(parseUserValue(lookupFlag('staticPodURLHeader')!, '{"Authorization": ["Bearer t"]}')).to.deep.equal({Authorization: ['Bearer t']})
      expect(() => parseUserValue(lookupFlag('staticPodURLHeader')!, 'no-colon')).to.throw(UserError, 'expected name:value')
    })

    it('writes a header map back as one flag in its own syntax', () => {
      expect(formatFlagValues(lookupFlag('manifest-url-header')!, {a: ['hello', 'x'], b: ['again']})).to.deep.equal(['a:hello,a:x,b:again'])
    })
  })

  describe('expandExecArgs (systemd)', () => {
    const env = new Map([
      ['ARGS', '--a=1 "--b=two words" \'--c=x y\''],
      ['EMPTY', ''],
      ['ONE', 'single value'],
    ])

    it('splits a lone $VAR into words honouring quotes, keeps ${VAR} as one word, drops unset ones', () => {
      const {unset, words} = expandExecArgs(['/usr/bin/kubelet', '$ARGS', '${ONE}', '--x=${ONE}', '$EMPTY', '$NOPE', 'pre$ONE', '$$ONE', '${A:-b}'], env)
      expect(words).to.deep.equal([
        {variable: undefined, word: '/usr/bin/kubelet'},
        {variable: 'ARGS', word: '--a=1'},
        {variable: 'ARGS', word: '--b=two words'},
        {variable: 'ARGS', word: '--c=x y'},
        {variable: 'ONE', word: 'single value'},
        {variable: 'ONE', word: '--x=single value'},
        {variable: undefined, word: 'pre$ONE'},
        {variable: undefined, word: '$ONE'},
        {variable: undefined, word: '${A:-b}'},
      ])
      expect(unset).to.deep.equal(['NOPE'])
    })

    it('does not expand with the ":" prefix', () => {
      expect(expandExecArgs(['/usr/bin/kubelet', '$ARGS'], env, true).words.map(w => w.word)).to.deep.equal(['/usr/bin/kubelet', '$ARGS'])
    })
  })

  describe('cmdline and words', () => {
    it('reads /proc/<pid>/cmdline', () => {
      const argv = parseCmdline(capture('rke2.cmdline'))
      expect(argv[0]).to.match(/\/bin\/kubelet$/)
      expect(argv).to.include('--file-check-frequency=5s')
      expect(argv).to.include('--node-labels=')
      expect(parseCmdline('a\0b c\0\0')).to.deep.equal(['a', 'b c', ''])
    })

    it('quotes words so that splitting gives them back', () => {
      for (const word of ['plain', 'two words', "it's", String.raw`back\slash`, 'dq"inside', '', '$HOME']) {
        for (const q of ['"', "'"] as const) {
          expect(splitWords(quoteWord(word, q)).words.map(w => w.text), `${word} ${q}`).to.deep.equal([word])
        }
      }
    })
  })
})
