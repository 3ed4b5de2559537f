import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {
  existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {editEnvFileFlags, envFileValues, parseEnvFile} from '../../../src/kubelet/env-file.js'
import {parseArgs} from '../../../src/kubelet/flags.js'
import {splitWords} from '../../../src/kubelet/words.js'
import {lineChanges} from './line-diff.js'
import {nodeFile} from './node-fixture.js'

const ENV_FILES: Array<[string, string]> = [
  ['kubeadm-deb', '/var/lib/kubelet/kubeadm-flags.env'],
  ['kubeadm-deb', '/etc/default/kubelet'],
  ['kubeadm-rpm-etc', '/etc/sysconfig/kubelet'],
  ['kubeadm-rpm-etc', '/var/lib/kubelet/kubeadm-flags.env'],
  ['fedora', '/etc/kubernetes/config'],
  ['fedora', '/etc/kubernetes/kubelet'],
  ['kubespray', '/etc/kubernetes/kubelet.env'],
]

/** The flags (name=value) a variable gives the kubelet. */
function flagsOf(text: string, variable: string): string[] {
  const value = envFileValues(parseEnvFile(text)).get(variable) ?? ''
  return parseArgs(splitWords(value).words.map(w => w.text)).map(a => `${a.name}=${a.value}`)
}

const GENERATOR = '/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator'

/**
 * systemd's own env-file parser as the oracle: the environment.d generator reads files with the same
 * parser as EnvironmentFile= and prints the result shell-quoted. (It also expands $VARS, so inputs
 * given to it contain no `$`.)
 */
function systemdReads(text: string): Map<string, string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'staticpod-envd-'))
  try {
    mkdirSync(path.join(dir, 'environment.d'))
    writeFileSync(path.join(dir, 'environment.d', '10-test.conf'), text)
    const out = execFileSync(GENERATOR, [], {encoding: 'utf8', env: {XDG_CONFIG_HOME: dir}, stdio: 'pipe'})
    const names = new Set(parseEnvFile(text).assignments.map(a => a.name))
    const values = new Map<string, string>()
    for (const line of out.split('\n')) {
      const eq = line.indexOf('=')
      if (eq === -1 || !names.has(line.slice(0, eq))) continue
      const raw = line.slice(eq + 1)
      values.set(line.slice(0, eq), raw.startsWith('"') ? raw.slice(1, -1).replaceAll(/\\(.)/g, '$1') : raw)
    }

    return values
  } finally {
    rmSync(dir, {force: true, recursive: true})
  }
}

/** environment.d drops empty assignments (EnvironmentFile= keeps them), so compare the others. */
function nonEmpty(values: Map<string, string>): Record<string, string> {
  return Object.fromEntries([...values].filter(([, v]) => v !== ''))
}

describe('kubelet/env-file', () => {
  describe('parse', () => {
    it('reads quoting, escapes, comments and continuations as systemd does', () => {
      const text = [
        '# comment',
        '; also a comment',
        'A="x" \'y\' z  ',
        'B=  plain value   ',
        String.raw`C="a\"b\q \\ end"`,
        String.raw`D='s\p "q"'`,
        'E=a\\',
        ' b',
        'F="multi',
        'line"',
        'G=',
        '  H = spaced key',
        'export I=exported',
        'J=first',
        'J=second',
        'K="--cluster-dns=10.254.0.10 --cluster-domain=kube.local --pod-manifest-path=/etc/kubelet.d/"',
        'no equals sign here',
        'L=last-without-newline',
      ].join('\n')
      const ours = envFileValues(parseEnvFile(text))
      expect(Object.fromEntries(ours)).to.deep.equal({
        A: 'xyz',
        B: 'plain value',
        C: String.raw`a"b\q \ end`,
        D: String.raw`s\p "q"`,
        E: 'a b',
        F: 'multi\nline',
        G: '',
        H: 'spaced key',
        J: 'second',
        K: '--cluster-dns=10.254.0.10 --cluster-domain=kube.local --pod-manifest-path=/etc/kubelet.d/',
        L: 'last-without-newline',
      })
      expect(parseEnvFile(text).warnings).to.deep.equal([
        'line 13: "export I=…" is ignored by systemd\'s EnvironmentFile= (only shells understand export)',
        'line 17: no "=" in "no equals sign here", ignored',
      ])
    })

    describe('agrees with systemd (environment.d generator)', () => {
      before(() => {
        expect(existsSync(GENERATOR), `${GENERATOR} (Debian package systemd) is needed as the reference`).to.equal(true)
      })

      it('on tricky input', () => {
        const text = 'A="x" \'y\' z  \nB=  plain value   \nC="a\\"b\\q \\\\ end"\nD=\'s\\p "q"\'\nE=a\\\n b\nexport I=x\nJ=1\nJ=2\n'
        expect(nonEmpty(envFileValues(parseEnvFile(text)))).to.deep.equal(Object.fromEntries(systemdReads(text)))
      })

      for (const [layout, file] of ENV_FILES) {
        it(`on ${layout} ${file}`, () => {
          const text = nodeFile(layout, file)
          expect(nonEmpty(envFileValues(parseEnvFile(text)))).to.deep.equal(Object.fromEntries(systemdReads(text)))
        })
      }
    })
  })

  describe('edit', () => {
    for (const [layout, file] of ENV_FILES) {
      it(`round-trips ${layout} ${file} byte for byte when a flag is set to the value it has`, () => {
        const text = nodeFile(layout, file)
        const parsed = parseEnvFile(text)
        for (const a of parsed.assignments) {
          const args = parseArgs(splitWords(a.value).words.map(w => w.text)).filter(x => !x.positional)
          for (const arg of args) expect(editEnvFileFlags(text, a.name, [{flag: arg.name, values: [arg.value]}])).to.equal(text)
        }

        expect(editEnvFileFlags(text, 'KUBELET_ARGS', [])).to.equal(text)
      })
    }

    it('adds --pod-manifest-path to Fedora\'s KUBELET_ARGS, changing only that line', () => {
      const before = nodeFile('fedora', '/etc/kubernetes/kubelet').replace(' --pod-manifest-path=/etc/kubelet.d/', '')
      const after = editEnvFileFlags(before, 'KUBELET_ARGS', [{flag: 'pod-manifest-path', values: ['/etc/kubelet.d/']}])
      expect(lineChanges(before, after)).to.deep.equal({
        added: ['KUBELET_ARGS="--cluster-dns=10.254.0.10 --cluster-domain=kube.local --pod-manifest-path=/etc/kubelet.d/"\n'],
        removed: ['KUBELET_ARGS="--cluster-dns=10.254.0.10 --cluster-domain=kube.local"\n'],
      })
      expect(after).to.equal(nodeFile('fedora', '/etc/kubernetes/kubelet'))
    })

    it('replaces a value in place and removes a flag with its separating space', () => {
      const text = nodeFile('fedora', '/etc/kubernetes/kubelet')
      const replaced = editEnvFileFlags(text, 'KUBELET_ARGS', [{flag: 'pod-manifest-path', values: ['/srv/pods with space']}])
      expect(lineChanges(text, replaced).added).to.deep.equal([
        'KUBELET_ARGS="--cluster-dns=10.254.0.10 --cluster-domain=kube.local --pod-manifest-path=\'/srv/pods with space\'"\n',
      ])
      expect(flagsOf(replaced, 'KUBELET_ARGS')).to.include('pod-manifest-path=/srv/pods with space')
      const removed = editEnvFileFlags(text, 'KUBELET_ARGS', [{flag: '--cluster-dns'}])
      expect(lineChanges(text, removed).added).to.deep.equal([
        'KUBELET_ARGS="--cluster-domain=kube.local --pod-manifest-path=/etc/kubelet.d/"\n',
      ])
    })

    it('edits one physical line of kubespray\'s backslash-continued KUBELET_ARGS', () => {
      const text = nodeFile('kubespray', '/etc/kubernetes/kubelet.env')
      const after = editEnvFileFlags(text, 'KUBELET_ARGS', [{flag: 'config', values: ['/etc/kubernetes/kubelet/config.yaml']}])
      expect(lineChanges(text, after)).to.deep.equal({
        added: ['--config=/etc/kubernetes/kubelet/config.yaml \\\n'],
        removed: ['--config=/etc/kubernetes/kubelet-config.yaml \\\n'],
      })
      expect(lineChanges(text, editEnvFileFlags(text, 'KUBELET_ARGS', [{flag: 'bootstrap-kubeconfig'}]))).to.deep.equal({
        // the first flag and its space go; the line continuation stays
        added: ['KUBELET_ARGS="\\\n'],
        removed: ['KUBELET_ARGS="--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \\\n'],
      })
      const dropped = editEnvFileFlags(text, 'KUBELET_ARGS', [{flag: 'runtime-cgroups'}])
      expect(flagsOf(dropped, 'KUBELET_ARGS')).to.not.include('runtime-cgroups=/system.slice/containerd.service')
      expect(flagsOf(dropped, 'KUBELET_ARGS')).to.have.length(4)
    })

    it('keeps the `--flag value` form and a flag\'s own spelling', () => {
      const text = 'KUBELET_EXTRA_ARGS="--pod_manifest_path /a --max-pods=3"\n'
      expect(editEnvFileFlags(text, 'KUBELET_EXTRA_ARGS', [{flag: 'pod-manifest-path', values: ['/b']}]))
      .to.equal('KUBELET_EXTRA_ARGS="--pod_manifest_path /b --max-pods=3"\n')
      expect(editEnvFileFlags(text, 'KUBELET_EXTRA_ARGS', [{flag: 'staticPodPath'}])).to.equal('KUBELET_EXTRA_ARGS="--max-pods=3"\n')
    })

    it('creates the file or the variable line when missing', () => {
      expect(editEnvFileFlags(undefined, 'KUBELET_EXTRA_ARGS', [{flag: 'max-pods', values: ['200']}])).to.equal('KUBELET_EXTRA_ARGS="--max-pods=200"\n')
      expect(editEnvFileFlags('# mine\nFOO=1', 'KUBELET_EXTRA_ARGS', [{flag: 'max-pods', values: ['200']}]))
      .to.equal('# mine\nFOO=1\nKUBELET_EXTRA_ARGS="--max-pods=200"\n')
      expect(editEnvFileFlags('FOO=1\n', 'KUBELET_EXTRA_ARGS', [{flag: 'max-pods'}])).to.equal('FOO=1\n')
    })

    it('fills an empty value inside its quotes, or quotes an unquoted value that needs a space', () => {
      expect(editEnvFileFlags(nodeFile('kubeadm-deb', '/etc/default/kubelet'), 'KUBELET_EXTRA_ARGS', [{flag: 'max-pods', values: ['200']}]))
      .to.equal('KUBELET_EXTRA_ARGS="--max-pods=200"\n')
      expect(editEnvFileFlags('KUBELET_EXTRA_ARGS=""\n', 'KUBELET_EXTRA_ARGS', [{flag: 'max-pods', values: ['200']}])).to.equal('KUBELET_EXTRA_ARGS="--max-pods=200"\n')
      expect(editEnvFileFlags("KUBELET_EXTRA_ARGS=''\n", 'KUBELET_EXTRA_ARGS', [{flag: 'max-pods', values: ['200']}])).to.equal("KUBELET_EXTRA_ARGS='--max-pods=200'\n")
      expect(editEnvFileFlags('KUBELET_EXTRA_ARGS=--node-ip=10.0.0.1\n', 'KUBELET_EXTRA_ARGS', [{flag: 'max-pods', values: ['200']}]))
      .to.equal('KUBELET_EXTRA_ARGS="--node-ip=10.0.0.1 --max-pods=200"\n')
      expect(editEnvFileFlags('KUBELET_EXTRA_ARGS=--node-ip=10.0.0.1\n', 'KUBELET_EXTRA_ARGS', [{flag: 'node-ip', values: ['10.0.0.2']}]))
      .to.equal('KUBELET_EXTRA_ARGS=--node-ip=10.0.0.2\n')
    })

    it('keeps single quotes, quoting inner words with double quotes', () => {
      const after = editEnvFileFlags("KUBELET_ARGS='--v=2'\n", 'KUBELET_ARGS', [{flag: 'manifest-url-header', values: ['Authorization:Bearer abc']}])
      expect(after).to.equal('KUBELET_ARGS=\'--v=2 "--manifest-url-header=Authorization:Bearer abc"\'\n')
      expect(flagsOf(after, 'KUBELET_ARGS')).to.deep.equal(['v=2', 'manifest-url-header=Authorization:Bearer abc'])
    })

    it('escapes what double quotes need', () => {
      const after = editEnvFileFlags('X="--v=2"\n', 'X', [{flag: 'node-labels', values: ['a=$b"c']}])
      expect(after).to.equal('X="--v=2 --node-labels=\'a=\\$b\\"c\'"\n')
      expect(flagsOf(after, 'X')).to.deep.equal(['v=2', 'node-labels=a=$b"c'])
    })

    it('edits the assignment systemd uses (the last, not an export line), and repeated flags', () => {
      const text = 'KUBELET_ARGS="--max-pods=1"\nexport KUBELET_ARGS="--max-pods=2"\nKUBELET_ARGS="--max-pods=3 --manifest-url-header=a:1 --manifest-url-header=b:2"\n'
      const after = editEnvFileFlags(text, 'KUBELET_ARGS', [
        {flag: 'max-pods', values: ['4']},
        {flag: 'manifest-url-header', values: ['c:3']},
      ])
      expect(after).to.equal('KUBELET_ARGS="--max-pods=1"\nexport KUBELET_ARGS="--max-pods=2"\nKUBELET_ARGS="--max-pods=4 --manifest-url-header=c:3"\n')
    })

    it('re-renders the value when quoting contexts meet inside a word', () => {
      const after = editEnvFileFlags('X="--a=1"\' --b=2\'\n', 'X', [{flag: 'a'}])
      expect(after).to.equal('X="--b=2"\n')
      expect(flagsOf(after, 'X')).to.deep.equal(['b=2'])
    })

    describe('edited files read back by systemd', () => {
      before(() => {
        expect(existsSync(GENERATOR), `${GENERATOR} (Debian package systemd) is needed as the reference`).to.equal(true)
      })

      it('give the flags that were written', () => {
        const text = nodeFile('kubespray', '/etc/kubernetes/kubelet.env').replace('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n', '')
        const after = editEnvFileFlags(text, 'KUBELET_ARGS', [
          {flag: 'pod-manifest-path', values: ['/srv/my pods']},
          {flag: 'config', values: ['/etc/k.yaml']},
          {flag: 'bootstrap-kubeconfig'},
        ])
        const value = systemdReads(after).get('KUBELET_ARGS')!
        expect(parseArgs(splitWords(value).words.map(w => w.text)).map(a => `${a.name}=${a.value}`)).to.deep.equal([
          'config=/etc/k.yaml',
          'kubeconfig=/etc/kubernetes/kubelet.conf',
          'container-runtime-endpoint=unix:///var/run/containerd/containerd.sock',
          'runtime-cgroups=/system.slice/containerd.service',
          'pod-manifest-path=/srv/my pods',
        ])
      })
    })
  })
})
