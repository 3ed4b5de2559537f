// Finding a node's manifest directory from what the probes read: the rounds of probing for each
// realistic layout (test/fixtures/kubelet), answered from the fixture files the way the probe
// script answers (its real behaviour is tested in node-scripts.test.ts; this fake node does not
// look for candidate directories, so a directory the kubelet's files name costs a round here).
import {expect} from 'chai'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {
  absorbProbe, discover, emptyGathered, firstProbeRequest, type Gathered, nodeManifests, normalizeDir,
} from '../../../src/ops/manifest-dir.js'
import {
  type ProbeAnswer, type ProbedEntry, type ProbeRequest, sha256,
} from '../../../src/ops/node-scripts.js'
import {loadSchema} from '../../../src/ops/validate.js'
import {FIXTURES} from '../../helpers/fixtures.js'

type Files = Record<string, string>

/** A layout's files by their path on the node. */
function layout(name: string, overrides: Record<string, string | undefined> = {}): Files {
  const root = path.join(FIXTURES, 'kubelet', name)
  const files: Files = {}
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry)
      if (statSync(full).isDirectory()) walk(full)
      else files['/' + path.relative(root, full)] = readFileSync(full, 'utf8')
    }
  }

  walk(root)
  for (const [file, text] of Object.entries(overrides)) {
    if (text === undefined) delete files[file]
    else files[file] = text
  }

  return files
}

const capture = (name: string): string => readFileSync(path.join(FIXTURES, 'kubelet/_captures', name), 'utf8')

/** Answers a probe request from `files` as the probe script would (minus candidate directories). */
function answerFrom(files: Files, request: ProbeRequest, extra: {candidates?: string[]; cmdline?: string; hostname?: string; systemctlCat?: string} = {}): ProbeAnswer {
  const isDir = (p: string): boolean => Object.keys(files).some(f => f.startsWith(normalizeDir(p) + '/'))
  const entryOf = (p: string, name: string): ProbedEntry => {
    const raw = Buffer.from(name)
    if (files[p] !== undefined) {
      const content = Buffer.from(files[p]!)
      return {
        content, kind: 'file', mtime: 1_700_000_000, name, raw, sha256: sha256(content), size: content.length,
      }
    }

    return {kind: isDir(p) ? 'dir' : 'absent', name, raw}
  }

  const children = (dir: string, confOnly: boolean): ProbedEntry[] => {
    const base = normalizeDir(dir) + '/'
    const names = new Set(Object.keys(files).filter(f => f.startsWith(base)).map(f => f.slice(base.length).split('/')[0]!))
    return [...names].filter(n => !n.startsWith('.') && (!confOnly || (n.endsWith('.conf') && files[base + n] !== undefined))).sort().map(n => entryOf(base + n, n))
  }

  return {
    candidates: request.mode === 'full'
      ? (extra.candidates ?? []).map(dir => ({entry: entryOf(dir, dir), path: dir, ...(isDir(dir) ? {entries: children(dir, false)} : {})}))
      : [],
    ...(request.mode === 'full' ? {hostname: extra.hostname ?? 'Node-A', now: 1_700_000_100} : {}),
    ...(request.mode === 'full' && extra.cmdline ? {cmdline: {pid: 42, text: extra.cmdline}} : {}),
    ...(request.mode === 'full' && extra.systemctlCat ? {systemctlCat: extra.systemctlCat} : {}),
    results: request.items.map(item => {
      const entry = entryOf(item.path, item.path)
      if (item.tag === 'exists') return {entry: {...entry, kind: entry.kind === 'absent' ? 'absent' : 'other'}, item, path: item.path}
      const listed = entry.kind === 'dir' && (item.tag === 'conf-dir' || item.tag === 'manifest-dir')
      return {
        entry, item, path: item.path, ...(listed ? {entries: children(item.path, item.tag === 'conf-dir')} : {}),
      }
    }),
  }
}

/** Probe until discover() is satisfied, as readNodeManifests does; the requests made after the first. */
function probeUntilKnown(files: Files, options: {candidates?: string[]; cmdline?: string; hostname?: string; inventoryManifestDir?: string; systemctlCat?: string} = {}) {
  const gathered: Gathered = emptyGathered()
  let request: ProbeRequest | undefined = firstProbeRequest({inventoryManifestDir: options.inventoryManifestDir})
  const later: ProbeRequest[] = []
  let discovery
  while (request) {
    absorbProbe(gathered, request, answerFrom(files, request, options))
    discovery = discover(gathered, options)
    request = gathered.rounds < 4 ? discovery.next : undefined
    if (request) later.push(request)
  }

  return {discovery: discovery!, gathered, later}
}

describe('ops/manifest-dir: finding the manifest directory', () => {
  it('the first probe reads every kubelet file of every layout and lists the usual directories and the disabled one', () => {
    const request = firstProbeRequest()
    expect(request.mode).to.equal('full')
    const paths = (tag: string) => request.items.filter(i => i.tag === tag).map(i => i.path)
    expect(paths('file')).to.include.members(['/var/lib/kubelet/config.yaml', '/var/lib/kubelet/kubeadm-flags.env', '/etc/default/kubelet', '/etc/sysconfig/kubelet', '/etc/kubernetes/kubelet'])
    expect(paths('conf-dir')).to.include.members(['/etc/systemd/system/kubelet.service.d', '/usr/lib/systemd/system/kubelet.service.d'])
    expect(paths('exists')).to.include.members(['/etc/rancher/k3s', '/var/lib/rancher/rke2'])
    expect(paths('manifest-dir')).to.deep.equal(['/etc/kubernetes/manifests', '/var/lib/rancher/k3s/agent/pod-manifests', '/var/lib/rancher/rke2/agent/pod-manifests', '/var/lib/staticpod/disabled'])
    expect(paths('manifest-dir').length + paths('file').length + paths('conf-dir').length + paths('exists').length).to.equal(request.items.length)
    expect(firstProbeRequest({inventoryManifestDir: '/srv/pods'}).items.filter(i => i.tag === 'manifest-dir').map(i => i.path)).to.deep.equal(['/srv/pods', '/var/lib/staticpod/disabled'])
  })

  const cases: Array<{files: Files; name: string; options?: Parameters<typeof probeUntilKnown>[1]; path: string; rounds: number; source: string}> = [
    {
      files: layout('kubeadm-deb'), name: 'kubeadm (DEB): staticPodPath of /var/lib/kubelet/config.yaml', path: '/etc/kubernetes/manifests', rounds: 1, source: 'kubelet',
    },
    {
      files: layout('kubeadm-rpm-etc'), name: 'kubeadm (older RPM, drop-in in /etc)', path: '/etc/kubernetes/manifests', rounds: 1, source: 'kubelet',
    },
    {
      files: layout('kubeadm-deb', {'/var/lib/kubelet/config.yaml': layout('kubeadm-deb')['/var/lib/kubelet/config.yaml']!.replace('staticPodPath: /etc/kubernetes/manifests', 'staticPodPath: /etc/kubernetes/pods')}),
      name: 'kubeadm with staticPodPath changed',
      path: '/etc/kubernetes/pods',
      rounds: 2,
      source: 'kubelet',
    },
    {
      files: layout('kubeadm-deb', {'/etc/default/kubelet': 'KUBELET_EXTRA_ARGS="--pod-manifest-path=/etc/kubernetes/extra"\n'}),
      name: 'kubeadm: --pod-manifest-path in KUBELET_EXTRA_ARGS (/etc/default/kubelet) beats the config file',
      path: '/etc/kubernetes/extra',
      rounds: 2,
      source: 'kubelet',
    },
    {
      files: layout('kubeadm-rpm-etc', {'/var/lib/kubelet/kubeadm-flags.env': 'KUBELET_KUBEADM_ARGS="--pod-manifest-path=/etc/kubernetes/kubeadm-pods"\n'}),
      name: 'kubeadm: --pod-manifest-path in KUBELET_KUBEADM_ARGS (kubeadm-flags.env)',
      path: '/etc/kubernetes/kubeadm-pods',
      rounds: 2,
      source: 'kubelet',
    },
    {
      files: layout('fedora'), name: 'Fedora: --pod-manifest-path in KUBELET_ARGS of /etc/kubernetes/kubelet (the guide\'s /etc/kubelet.d/)', path: '/etc/kubelet.d/', rounds: 2, source: 'kubelet',
    },
    {
      files: layout('kubespray'), name: 'kubespray: --config=/etc/kubernetes/kubelet-config.yaml in kubelet.env', path: '/etc/kubernetes/manifests', rounds: 1, source: 'kubelet',
    },
    {
      files: layout('config-only'),
      name: 'a unit with a --config and --config-dir of its own: a second round reads them, a third lists the directory',
      path: '/srv/static-pods',
      rounds: 3,
      source: 'kubelet',
    },
    {
      files: layout('k3s'), name: 'k3s: its generated kubelet drop-in', path: '/var/lib/rancher/k3s/agent/pod-manifests', rounds: 1, source: 'kubelet',
    },
    {
      files: layout('k3s', {'/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/00-k3s-defaults.conf': undefined}),
      name: 'k3s installed, its drop-in not there yet: the k3s default',
      path: '/var/lib/rancher/k3s/agent/pod-manifests',
      rounds: 1,
      source: 'k3s',
    },
    {
      files: layout('rke2'), name: 'RKE2 (no kubelet unit), files only', options: {}, path: '/var/lib/rancher/rke2/agent/pod-manifests', rounds: 1, source: 'kubelet',
    },
    {
      files: layout('rke2'), name: 'RKE2 with its running kubelet\'s command line', options: {cmdline: capture('rke2.cmdline')}, path: '/var/lib/rancher/rke2/agent/pod-manifests', rounds: 1, source: 'kubelet',
    },
    {
      files: {'/etc/kubernetes/kubelet': layout('fedora')['/etc/kubernetes/kubelet']!},
      name: 'no unit, no running kubelet, no systemd: Fedora\'s environment file alone',
      path: '/etc/kubelet.d/',
      rounds: 2,
      source: 'kubelet',
    },
    {
      files: {
        '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS=--pod-manifest-path=/etc/kubernetes/extra-pods\n',
        '/var/lib/kubelet/config.yaml': layout('kubeadm-deb')['/var/lib/kubelet/config.yaml']!,
        '/var/lib/kubelet/kubeadm-flags.env': layout('kubeadm-deb')['/var/lib/kubelet/kubeadm-flags.env']!,
      },
      name: 'no unit: kubeadm\'s files, the flag in /etc/default/kubelet still beats config.yaml',
      path: '/etc/kubernetes/extra-pods',
      rounds: 2,
      source: 'kubelet',
    },
    {
      files: {'/etc/sysconfig/kubelet': 'KUBELET_EXTRA_ARGS="--pod-manifest-path=/etc/kubernetes/rpm-pods"\n', '/var/lib/kubelet/config.yaml': layout('kubeadm-deb')['/var/lib/kubelet/config.yaml']!},
      name: 'no unit: /etc/sysconfig/kubelet',
      path: '/etc/kubernetes/rpm-pods',
      rounds: 2,
      source: 'kubelet',
    },
    {
      files: {'/etc/kubernetes/kubelet.env': 'KUBELET_ARGS="--config=/opt/kubelet/config.yaml"\n', '/opt/kubelet/config.yaml': 'kind: KubeletConfiguration\nstaticPodPath: /opt/pods\n'},
      name: 'no unit: a --config elsewhere, named in an environment file, is read in a second round',
      path: '/opt/pods',
      rounds: 3,
      source: 'kubelet',
    },
    {
      files: {'/var/lib/kubelet/config.yaml': 'kind: KubeletConfiguration\nstaticPodPath: /var/lib/kubelet/pods-static\n'},
      name: 'nothing but the default config file',
      path: '/var/lib/kubelet/pods-static',
      rounds: 2,
      source: 'kubelet',
    },
    {
      files: layout('kubeadm-deb'),
      name: 'the running kubelet\'s command line wins over the files',
      options: {cmdline: capture('kubeadm-deb.cmdline').replace('--config=', '--pod-manifest-path=/run/pods\0--config=')},
      path: '/run/pods',
      rounds: 2,
      source: 'kubelet',
    },
    {
      files: layout('kubeadm-deb', {'/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf': undefined}),
      name: '`systemctl cat kubelet` when systemd answers (here: the unit files are not where we look)',
      options: {systemctlCat: capture('kubeadm-deb.systemctl-cat.txt')},
      path: '/etc/kubernetes/manifests',
      rounds: 1,
      source: 'kubelet',
    },
    {
      files: layout('fedora'), name: 'the inventory\'s manifestDir comes first', options: {inventoryManifestDir: '/srv/pods'}, path: '/srv/pods', rounds: 1, source: 'inventory',
    },
    {
      files: {}, name: 'nothing at all: /etc/kubernetes/manifests', path: '/etc/kubernetes/manifests', rounds: 1, source: 'default',
    },
  ]

  for (const c of cases) {
    it(c.name, () => {
      const {discovery, gathered, later} = probeUntilKnown(c.files, c.options)
      expect(discovery.dir.path).to.equal(c.path)
      expect(discovery.dir.source).to.equal(c.source)
      expect(gathered.rounds, JSON.stringify(later)).to.equal(c.rounds)
      expect(discovery.next).to.equal(undefined)
      // The directory is listed, whatever the round it was found in.
      expect(gathered.listings.has(normalizeDir(c.path))).to.equal(true)
    })
  }

  it('a directory the probe found named in the kubelet\'s files (and listed) needs no second round: one round trip for the guide\'s node', () => {
    const files = {...layout('fedora'), '/etc/kubelet.d/static-web.yaml': 'kind: Pod\n'}
    const {discovery, gathered} = probeUntilKnown(files, {candidates: ['/etc/kubelet.d/']})
    expect(gathered.rounds).to.equal(1)
    expect(discovery.dir.path).to.equal('/etc/kubelet.d/')
    expect(gathered.listings.get('/etc/kubelet.d')!.entries!.map(e => e.name)).to.deep.equal(['static-web.yaml'])
    // A candidate that turns out not to be the directory costs nothing but its listing.
    expect(probeUntilKnown(layout('kubeadm-deb'), {candidates: ['/etc/elsewhere']}).gathered.rounds).to.equal(1)
  })

  it('asks the second time only for what it lacks: the unread config file and drop-in directory, then the directory', () => {
    const {later} = probeUntilKnown(layout('config-only'))
    expect(later.map(r => r.items)).to.deep.equal([
      [{path: '/etc/kubernetes/kubelet/config.d', tag: 'conf-dir'}, {path: '/etc/kubernetes/kubelet/config.yaml', tag: 'file'}],
      [{path: '/srv/static-pods', tag: 'manifest-dir'}],
    ])
    expect(later.every(r => r.mode === 'more')).to.equal(true)
  })

  it('warns when it falls back to /etc/kubernetes/manifests, and when the inventory disagrees with the kubelet', () => {
    expect(probeUntilKnown({}).discovery.dir.warnings).to.deep.equal(['no kubelet configuration was found; assuming /etc/kubernetes/manifests'])
    expect(probeUntilKnown(layout('fedora'), {inventoryManifestDir: '/srv/pods'}).discovery.dir.warnings[0]).to.match(/inventory says manifestDir \/srv\/pods but the kubelet reads \/etc\/kubelet\.d\//)
    expect(probeUntilKnown(layout('kubeadm-deb')).discovery.dir.warnings).to.deep.equal([])
  })

  it('the node name for mirror pods: --hostname-override when set, else the host name, lowercased', async () => {
    const schema = await loadSchema()
    const fedora = probeUntilKnown(layout('fedora'))
    expect(nodeManifests(fedora.gathered, fedora.discovery, {schema}).nodeName).to.equal('127.0.0.1')
    const kubeadm = probeUntilKnown(layout('kubeadm-deb'), {hostname: 'Worker-7'})
    expect(nodeManifests(kubeadm.gathered, kubeadm.discovery, {schema}).nodeName).to.equal('worker-7')
  })

  it('a static pod path that is a single file: that file is the only entry', async () => {
    const files = {
      '/etc/kubernetes/only-pod.yaml': readFileSync(path.join(FIXTURES, 'manifests-on-nodes/static-web.yaml'), 'utf8'),
      '/var/lib/kubelet/config.yaml': 'kind: KubeletConfiguration\nstaticPodPath: /etc/kubernetes/only-pod.yaml\n',
    }
    const {discovery, gathered} = probeUntilKnown(files)
    const state = nodeManifests(gathered, discovery, {schema: await loadSchema()})
    expect(state.dir).to.deep.include({kind: 'file', path: '/etc/kubernetes/only-pod.yaml'})
    expect(state.files.map(f => [f.name, f.path, f.pod])).to.deep.equal([['only-pod.yaml', '/etc/kubernetes/only-pod.yaml', {name: 'static-web', namespace: 'default'}]])
  })
})
