/* eslint-disable no-template-curly-in-string -- systemd's ${VAR} syntax, not template strings */
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {
  chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {
  mergeUnit, parseSystemctlCat, parseUnitFile, type ServiceConfig, unitFromFiles, unitFromSystemctlCat,
} from '../../../src/kubelet/systemd.js'
import {splitWords} from '../../../src/kubelet/words.js'
import {capture, KUBELET_FIXTURES, loadNode} from './node-fixture.js'

function fromNode(layout: string, extra: Record<string, string | undefined> = {}): ServiceConfig | undefined {
  const {files} = loadNode(layout, extra)
  const present = Object.keys(files).filter(k => files[k] !== undefined)
  return unitFromFiles(present, p => files[p])
}

/** What we compare with systemd: the pieces of the merged unit staticpod uses. */
function summary(unit: ServiceConfig | undefined): {dropIns: string[]; environment: string[]; environmentFiles: string[]; execStart: string[][]; fragment?: string} {
  return {
    dropIns: unit?.dropIns ?? [],
    environment: (unit?.environment ?? []).map(e => `${e.name}=${e.value}`),
    environmentFiles: (unit?.environmentFiles ?? []).map(e => (e.optional ? '-' : '') + e.path),
    execStart: (unit?.execStart ?? []).map(e => e.argv),
    fragment: unit?.fragment,
  }
}

const SYSTEMD = '/lib/systemd/systemd'

/**
 * systemd itself as the oracle: `systemd --test` loads the unit from a unit path we choose and dumps
 * it (Fragment Path, DropIn Path, Environment, EnvironmentFile, ExecStart command lines). It refuses to
 * run as root, so root runs it as nobody.
 */
function systemdDump(root: string): ReturnType<typeof summary> {
  const unitPath = ['/etc/systemd/system', '/usr/lib/systemd/system'].map(d => root + d).join(':') + ':'
  const args = ['--test', '--system', '--unit=kubelet.service', '--log-target=null']
  const env = {...process.env, SYSTEMD_UNIT_PATH: unitPath}
  const out = process.getuid?.() === 0
    ? execFileSync('runuser', ['-u', 'nobody', '--', 'env', `SYSTEMD_UNIT_PATH=${unitPath}`, SYSTEMD, ...args], {encoding: 'utf8', stdio: 'pipe'})
    : execFileSync(SYSTEMD, args, {encoding: 'utf8', env, stdio: 'pipe'})
  const lines = out.split('\n')
  const start = lines.indexOf('\t-> Unit kubelet.service:')
  expect(start, 'systemd dumped kubelet.service').to.be.greaterThan(-1)
  const section: string[] = []
  for (const l of lines.slice(start + 1)) {
    if (l.startsWith('\t-> Unit ')) break
    section.push(l)
  }

  const strip = (p: string): string => (p.startsWith(root) ? p.slice(root.length) : p)
  const field = (name: string): string[] => section.filter(l => l.startsWith(`\t\t${name}: `)).map(l => l.slice(name.length + 4))
  return {
    dropIns: field('DropIn Path').map(p => strip(p)),
    environment: field('Environment'),
    environmentFiles: field('EnvironmentFile'),
    execStart: section.filter(l => l.startsWith('\t\t\tCommand Line: ')).map(l => splitWords(l.slice('\t\t\tCommand Line: '.length)).words.map(w => w.text)),
    fragment: field('Fragment Path').map(p => strip(p))[0],
  }
}

describe('kubelet/systemd', () => {
  describe('parseUnitFile', () => {
    it('joins continuation lines, skips comment lines even inside a continuation, keeps sections', () => {
      const unit = parseUnitFile([
        '[Unit]',
        'Description=test',
        '',
        '[Service]',
        'ExecStart=/usr/bin/kubelet \\',
        '# a comment inside the continuation',
        '  --a=1 \\',
        '; another comment',
        '  --b=2',
        'Environment=X=1',
        'bogus line',
        '',
      ].join('\n'), '/etc/systemd/system/kubelet.service')
      expect(unit.directives).to.deep.equal([
        {
          key: 'Description', line: 2, section: 'Unit', value: 'test',
        },
        {
          key: 'ExecStart', line: 5, section: 'Service', value: '/usr/bin/kubelet    --a=1    --b=2',
        },
        {
          key: 'Environment', line: 10, section: 'Service', value: 'X=1',
        },
      ])
      expect(unit.warnings).to.deep.equal(['/etc/systemd/system/kubelet.service:11: missing "=", ignoring line'])
    })

    it('does not continue a line ending in an escaped backslash', () => {
      const unit = parseUnitFile('[Service]\nEnvironment=A=x\\\\\nEnvironment=B=y\n', 'u')
      expect(unit.directives.map(d => d.value)).to.deep.equal(['A=x\\\\', 'B=y'])
    })
  })

  describe('mergeUnit', () => {
    it('applies Environment= quoting, several assignments per line, C escapes, specifiers and resets', () => {
      const fragment = parseUnitFile([
        '[Service]',
        'Environment="A=1 2" B=3 \'C=x y\'',
        String.raw`Environment=D=\x41\tE F=%n G=100%%`,
        'Environment=B=overridden',
        'EnvironmentFile=-/etc/default/kubelet',
        'EnvironmentFile=/etc/kubernetes/kubelet',
        'ExecStart=/usr/bin/kubelet $A',
      ].join('\n'), '/usr/lib/systemd/system/kubelet.service')
      const dropIn = parseUnitFile([
        '[Service]',
        'Environment=',
        'Environment=H=after-reset',
        'ExecStart=',
        'ExecStart=-/usr/bin/kubelet "--x=a b" ${H}',
      ].join('\n'), '/etc/systemd/system/kubelet.service.d/20-x.conf')
      const merged = mergeUnit(fragment, [dropIn])
      expect(merged.environment.map(e => [e.name, e.value, e.source.line])).to.deep.equal([['H', 'after-reset', 3]])
      expect(merged.environmentFiles.map(e => [e.path, e.optional])).to.deep.equal([['/etc/default/kubelet', true], ['/etc/kubernetes/kubelet', false]])
      expect(merged.execStart).to.have.length(1)
      expect(merged.execStart[0]).to.deep.include({argv: ['/usr/bin/kubelet', '--x=a b', '${H}'], ignoreFailure: true, path: '/usr/bin/kubelet'})
      const before = mergeUnit(fragment, [])
      expect(before.environment.map(e => `${e.name}=${e.value}`)).to.deep.equal([
        'A=1 2', 'B=overridden', 'C=x y', 'D=A\tE', 'F=kubelet.service', 'G=100%',
      ])
    })

    it('drops invalid assignments with a warning', () => {
      const merged = mergeUnit(parseUnitFile('[Service]\nEnvironment=1BAD=x GOOD=y nothing\n', 'u'), [])
      expect(merged.environment.map(e => e.name)).to.deep.equal(['GOOD'])
      expect(merged.warnings).to.have.length(2)
    })
  })

  describe('unitFromFiles', () => {
    it('finds the kubeadm drop-in under /usr/lib (current packages) and under /etc (older ones)', () => {
      expect(fromNode('kubeadm-deb')?.dropIns).to.deep.equal(['/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf'])
      expect(fromNode('kubeadm-rpm-etc')?.dropIns).to.deep.equal(['/etc/systemd/system/kubelet.service.d/10-kubeadm.conf'])
      const deb = fromNode('kubeadm-deb')!
      expect(deb.execStart.map(e => e.argv)).to.deep.equal([
        ['/usr/bin/kubelet', '$KUBELET_KUBECONFIG_ARGS', '$KUBELET_CONFIG_ARGS', '$KUBELET_KUBEADM_ARGS', '$KUBELET_EXTRA_ARGS'],
      ])
    })

    it('lets a drop-in in /etc hide the same name in /usr/lib, and applies drop-ins by name across directories', () => {
      const unit = fromNode('kubeadm-deb', {
        '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf': '[Service]\nEnvironment=FROM=etc\n',
        '/etc/systemd/system/kubelet.service.d/30-late.conf': '[Service]\nEnvironment=ORDER=30\n',
        '/run/systemd/system/kubelet.service.d/20-mid.conf': '[Service]\nEnvironment=ORDER=20\n',
      })!
      expect(unit.dropIns).to.deep.equal([
        '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf',
        '/run/systemd/system/kubelet.service.d/20-mid.conf',
        '/etc/systemd/system/kubelet.service.d/30-late.conf',
      ])
      expect(unit.environment.map(e => `${e.name}=${e.value}`)).to.deep.equal(['FROM=etc', 'ORDER=30'])
      // the hidden /usr/lib drop-in's ExecStart reset never happened: only the unit's own ExecStart is left
      expect(unit.execStart.map(e => e.argv)).to.deep.equal([['/usr/bin/kubelet']])
    })

    it('prefers /etc/systemd/system/kubelet.service over the packaged one', () => {
      const unit = fromNode('kubeadm-deb', {'/etc/systemd/system/kubelet.service': '[Service]\nExecStart=/opt/bin/kubelet\n'})!
      expect(unit.fragment).to.equal('/etc/systemd/system/kubelet.service')
    })
  })

  describe('systemctl cat', () => {
    it('splits the output into files and merges them like the files themselves', () => {
      const text = capture('kubeadm-deb.systemctl-cat.txt')
      const files = parseSystemctlCat(text)
      expect(files.map(f => f.path)).to.deep.equal([
        '/usr/lib/systemd/system/kubelet.service',
        '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf',
      ])
      const {files: node} = loadNode('kubeadm-deb')
      expect(files.map(f => f.text)).to.deep.equal(files.map(f => node[f.path]))
      expect(summary(unitFromSystemctlCat(text))).to.deep.equal(summary(fromNode('kubeadm-deb')))
    })

    it('skips warnings before the first file and keeps "# /path" comments inside a file', () => {
      const text = [
        '# Warning: kubelet.service changed on disk, the version systemd has loaded is outdated.',
        '# /etc/systemd/system/kubelet.service',
        '[Service]',
        '# /not/a/header',
        'ExecStart=/usr/bin/kubelet',
        '',
        '# /etc/systemd/system/kubelet.service.d/override.conf',
        '[Service]',
        'Environment=A=1',
        '',
      ].join('\n')
      const files = parseSystemctlCat(text)
      expect(files).to.deep.equal([
        {path: '/etc/systemd/system/kubelet.service', text: '[Service]\n# /not/a/header\nExecStart=/usr/bin/kubelet\n'},
        {path: '/etc/systemd/system/kubelet.service.d/override.conf', text: '[Service]\nEnvironment=A=1\n'},
      ])
    })
  })

  describe('agrees with systemd (systemd --test dump)', () => {
    let dir: string

    before(() => {
      expect(existsSync(SYSTEMD), `${SYSTEMD} (Debian package systemd) is needed as the reference`).to.equal(true)
    })

    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'staticpod-systemd-'))
      chmodSync(dir, 0o755)
    })

    afterEach(() => rmSync(dir, {force: true, recursive: true}))

    function stage(layout: string, extra: Record<string, string> = {}): string {
      for (const sub of ['etc/systemd/system', 'usr/lib/systemd/system']) {
        const from = path.join(KUBELET_FIXTURES, layout, sub)
        mkdirSync(path.join(dir, sub), {recursive: true})
        if (existsSync(from)) execFileSync('cp', ['-a', from + '/.', path.join(dir, sub)])
      }

      // The units' Requires= must resolve, or systemd finds no transaction to dump.
      for (const dep of ['docker.service', 'containerd.service']) writeFileSync(path.join(dir, 'usr/lib/systemd/system', dep), '[Service]\nExecStart=/bin/true\n')
      for (const [p, text] of Object.entries(extra)) {
        mkdirSync(path.dirname(path.join(dir, p)), {recursive: true})
        writeFileSync(path.join(dir, p), text)
      }

      execFileSync('chmod', ['-R', 'a+rX', dir])
      return dir
    }

    for (const layout of ['kubeadm-deb', 'kubeadm-rpm-etc', 'fedora', 'kubespray', 'config-only']) {
      it(`reads the ${layout} unit as systemd does`, () => {
        expect(summary(fromNode(layout))).to.deep.equal(systemdDump(stage(layout)))
      })
    }

    it('reads tricky quoting, escapes, resets and overrides as systemd does', () => {
      const extra = {
        '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf': [
          '[Service]',
          String.raw`Environment="KUBELET_EXTRA_ARGS=--node-labels=a=b,c=d --v=2" 'Q=it is' R=\x41\x42`,
          'Environment=S=100%% \\',
          '  T=continued',
          'EnvironmentFile=-/etc/sysconfig/kubelet',
          'ExecStart=',
          'ExecStart=/usr/bin/kubelet $KUBELET_EXTRA_ARGS "--x=a b" ${Q} \'--y=it\\\'s\'',
          '',
        ].join('\n'),
        '/usr/lib/systemd/system/kubelet.service.d/20-more.conf': '[Service]\nEnvironment=Q=later\nEnvironmentFile=\nEnvironmentFile=/etc/kubernetes/kubelet\n',
      }
      const mine = fromNode('kubeadm-deb', extra)
      expect(summary(mine)).to.deep.equal(systemdDump(stage('kubeadm-deb', extra)))
      expect(summary(mine).environment).to.include('Q=later')
    })
  })
})
