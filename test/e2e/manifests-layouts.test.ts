// Finding the manifest directory on real (sandbox) nodes, one node per kubelet layout, each with its
// directory somewhere else than /etc/kubernetes/manifests: the files of test/fixtures/kubelet are
// written into the nodes, no kubelet runs (except where a test starts a process that looks like one)
// and systemd cannot be asked. One `add` installs static-web on all of them; the file must land in
// each node's own directory and nowhere else, and `ls` must say where it looked.
import {expect} from 'chai'
import {
  existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {sha256} from '../../src/ops/node-scripts.js'
import {FIXTURES, ROOT} from '../helpers/fixtures.js'
import {
  flat, nodeDir, nodeFile, staticpod, writeNodeFile,
} from '../helpers/sandbox-cli.js'
import {type Sandbox, type SandboxNode, startSandbox} from '../sandbox/index.js'

const WEB = readFileSync(path.join(FIXTURES, 'manifests-on-nodes/static-web.yaml'), 'utf8')
const KUBELET = path.join(FIXTURES, 'kubelet')

/** A fixture file's text, by layout and path on the node. */
const fixture = (layout: string, file: string): string => readFileSync(path.join(KUBELET, layout, file), 'utf8')

/**
 * Write a layout's files into a node. /usr is the host's in a sandbox node, so unit files packaged
 * under /usr/lib/systemd/system go to /etc/systemd/system, where systemd looks first.
 */
async function install(node: SandboxNode, layout: string, overrides: Record<string, string | undefined> = {}): Promise<void> {
  const root = path.join(KUBELET, layout)
  const files: Record<string, string | undefined> = {}
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name)
      if (statSync(full).isDirectory()) walk(full)
      else files['/' + path.relative(root, full).replace(/^(usr\/)?lib\/systemd\/system\//, 'etc/systemd/system/')] = readFileSync(full, 'utf8')
    }
  }

  walk(root)
  Object.assign(files, overrides)
  for (const [file, text] of Object.entries(files)) {
    // eslint-disable-next-line no-await-in-loop
    if (text !== undefined) await writeNodeFile(node, file, text)
  }
}

/** Start a process named kubelet with this command line in the node (a copy of sh that sleeps). */
async function fakeKubelet(node: SandboxNode, program: string, args: string[]): Promise<void> {
  const script = 'mkdir -p "$(dirname "$1")" && cp /bin/sh "$1" && p=$1 && shift && setsid "$p" -c "sleep 1000000; :" "$@" </dev/null >/dev/null 2>&1 &'
  const result = await node.exec(['sh', '-c', script, 'sh', program, ...args])
  expect(result.code, result.stderr).to.equal(0)
}

interface Layout {
  dir: string
  /** Set up the node. */
  setup(node: SandboxNode): Promise<void>
  /** What `ls --json` says about how the directory was found (a warning, if any). */
  warning?: string
}

const LAYOUTS: Record<string, Layout> = {
  'config-only': {
    dir: '/var/lib/static-pods',
    // --config and --config-dir of its own: read in a second round trip.
    setup: async node => install(node, 'config-only', {
      '/etc/kubernetes/kubelet/config.d/10-static-pods.conf': fixture('config-only', 'etc/kubernetes/kubelet/config.d/10-static-pods.conf').replace('/srv/static-pods', '/var/lib/static-pods'),
    }),
  },
  'env-only': {
    dir: '/etc/kubernetes/env-pods',
    // No unit, no running kubelet, no systemd: kubeadm's files and /etc/default/kubelet alone.
    setup: async node => install(node, 'kubeadm-deb', {
      '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS="--pod-manifest-path=/etc/kubernetes/env-pods"\n',
      '/etc/systemd/system/kubelet.service': undefined,
      '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf': undefined,
    }),
  },
  fedora: {dir: '/etc/kubelet.d', setup: async node => install(node, 'fedora')},
  inventory: {
    dir: '/var/lib/inventory-pods',
    setup: async node => install(node, 'kubeadm-deb'),
    warning: 'the inventory says manifestDir /var/lib/inventory-pods but the kubelet reads /etc/kubernetes/manifests (staticPodPath in /var/lib/kubelet/config.yaml)',
  },
  k3s: {dir: '/var/lib/rancher/k3s/agent/pod-manifests', setup: async node => install(node, 'k3s')},
  kubeadm: {
    dir: '/etc/kubernetes/pods-kubeadm',
    setup: async node => install(node, 'kubeadm-deb', {
      '/var/lib/kubelet/config.yaml': fixture('kubeadm-deb', 'var/lib/kubelet/config.yaml').replace('staticPodPath: /etc/kubernetes/manifests', 'staticPodPath: /etc/kubernetes/pods-kubeadm'),
    }),
  },
  'kubeadm-extra': {
    dir: '/etc/kubernetes/extra-pods',
    setup: async node => install(node, 'kubeadm-deb', {'/etc/default/kubelet': 'KUBELET_EXTRA_ARGS=--pod-manifest-path=/etc/kubernetes/extra-pods\n'}),
  },
  'kubeadm-flags': {
    dir: '/var/lib/kubelet/kubeadm-pods',
    setup: async node => install(node, 'kubeadm-deb', {
      '/var/lib/kubelet/kubeadm-flags.env': 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-manifest-path=/var/lib/kubelet/kubeadm-pods"\n',
    }),
  },
  'kubeadm-rpm': {
    dir: '/etc/kubernetes/rpm-pods',
    setup: async node => install(node, 'kubeadm-rpm-etc', {'/etc/sysconfig/kubelet': 'KUBELET_EXTRA_ARGS="--node-ip=10.0.0.12 --pod-manifest-path=/etc/kubernetes/rpm-pods"\n'}),
  },
  kubespray: {
    dir: '/etc/kubernetes/kubespray-pods',
    setup: async node => install(node, 'kubespray', {
      '/etc/kubernetes/kubelet-config.yaml': fixture('kubespray', 'etc/kubernetes/kubelet-config.yaml').replace('staticPodPath: /etc/kubernetes/manifests', 'staticPodPath: /etc/kubernetes/kubespray-pods'),
    }),
  },
  plain: {
    dir: '/etc/kubernetes/manifests',
    async setup() {},
    warning: 'no kubelet configuration was found; assuming /etc/kubernetes/manifests',
  },
  rke2: {
    dir: '/var/lib/rancher/rke2/agent/pod-manifests',
    async setup(node) {
      await install(node, 'rke2')
      const [program, ...args] = fixture('_captures', 'rke2.cmdline').split('\0').filter(Boolean)
      await fakeKubelet(node, program!, args)
    },
  },
  running: {
    dir: '/var/lib/running-pods',
    // The files say /etc/kubernetes/manifests; the kubelet that runs was started with another --config.
    async setup(node) {
      await install(node, 'kubeadm-deb')
      await writeNodeFile(node, '/etc/kubernetes/running/config.yaml', 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: /var/lib/running-pods\n')
      await fakeKubelet(node, '/usr/bin/kubelet', ['--config=/etc/kubernetes/running/config.yaml', '--kubeconfig=/etc/kubernetes/kubelet.conf'])
    },
  },
}

describe('e2e: the manifest directory of each kubelet layout', function () {
  this.timeout(180_000)
  let sandbox: Sandbox
  let env: Record<string, string>
  let work: string
  let inventory: string
  const names = Object.keys(LAYOUTS)

  before(async () => {
    if (!existsSync(path.join(ROOT, 'dist/commands/add.js'))) throw new Error('build first: npm run build')
    sandbox = await startSandbox({nodes: [...names, 'single']})
    env = sandbox.env()
    work = mkdtempSync(path.join(tmpdir(), 'staticpod-e2e-layouts-'))
    // The inventory names one node, reached as sp-admin (sudo), with a manifestDir of its own.
    inventory = path.join(work, 'staticpod.yaml')
    writeFileSync(inventory, `nodes:\n  inventory: {host: ${sandbox.node('inventory').address}, user: ${sandbox.users.sudoer}, manifestDir: /var/lib/inventory-pods}\n`)
    await Promise.all(names.map(async name => LAYOUTS[name]!.setup(sandbox.node(name))))
  })

  after(async () => {
    await sandbox?.stop()
    if (work) rmSync(work, {force: true, recursive: true})
  })

  it('one add: static-web lands in each node\'s own directory (created 0700), and nowhere else', async () => {
    const run = await staticpod(['add', names.join(','), path.join(FIXTURES, 'manifests-on-nodes/static-web.yaml'), '--config', inventory], env)
    expect(run.code, run.stderr).to.equal(0)
    await Promise.all(names.map(async name => {
      const node = sandbox.node(name)
      const {dir} = LAYOUTS[name]!
      const entries = await nodeDir(node, dir)
      expect(entries.map(e => [e.name, e.mode, e.sha256]), name).to.deep.equal([['static-web.yaml', '600', sha256(WEB)]])
      expect(run.stdout, name).to.match(new RegExp(`^${name} +default/static-web +${dir}/static-web\\.yaml +created `, 'm'))
      if (dir !== '/etc/kubernetes/manifests') expect(await nodeFile(node, '/etc/kubernetes/manifests/static-web.yaml'), name).to.equal(undefined)
      if (!['fedora', 'k3s', 'rke2'].includes(name)) expect((await node.exec(['stat', '-c', '%a', dir])).stdout.trim(), name).to.equal('700')
    }))
    for (const [name, layout] of Object.entries(LAYOUTS)) {
      if (layout.warning) expect(run.stderr, name).to.include(`warning ${name}: ${layout.warning}`)
    }

    console.log(`      (add to ${names.length} layouts: ${run.ms} ms wall time)`)
  })

  it('ls finds each directory the same way and shows the pod there', async () => {
    const run = await staticpod(['ls', names.join(','), '--json', '--config', inventory], env)
    expect(run.code, run.stderr).to.equal(0)
    const entries = JSON.parse(run.stdout) as Array<{manifestDir: string; name: string; node: string; path: string}>
    const byNode = Object.fromEntries(entries.map(e => [e.node, e]))
    for (const name of names) {
      const {dir} = LAYOUTS[name]!
      expect(byNode[name], name).to.deep.include({name: 'static-web', path: `${dir}/static-web.yaml`})
      expect(byNode[name]!.manifestDir.replace(/\/$/, ''), name).to.equal(dir)
    }

    expect(entries).to.have.length(names.length)
  })

  it('a static pod path that is a single file: ls lists it, add refuses clearly', async () => {
    const node = sandbox.node('single')
    await writeNodeFile(node, '/var/lib/kubelet/config.yaml', 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: /etc/kubernetes/the-pod.yaml\n')
    await writeNodeFile(node, '/etc/kubernetes/the-pod.yaml', WEB)
    const ls = await staticpod(['ls', 'single', '--json'], env)
    expect(ls.code, ls.stderr).to.equal(0)
    expect(JSON.parse(ls.stdout)).to.deep.equal([{
      disabled: false,
      file: 'the-pod.yaml',
      manifestDir: '/etc/kubernetes/the-pod.yaml',
      modified: (JSON.parse(ls.stdout) as Array<{modified: string}>)[0]!.modified,
      name: 'static-web',
      namespace: 'default',
      node: 'single',
      path: '/etc/kubernetes/the-pod.yaml',
      sha256: sha256(WEB),
      size: WEB.length,
      status: 'valid',
      warnings: [],
    }])
    const add = await staticpod(['add', 'single', path.join(FIXTURES, 'manifests-on-nodes/etcd-backup.yaml')], env)
    expect(add.code).to.equal(1)
    expect(flat(add.stderr)).to.include('single: failed: the kubelet\'s static pod path /etc/kubernetes/the-pod.yaml is a single file, not a directory: staticpod only manages manifest directories')
    expect(await nodeFile(node, '/etc/kubernetes/the-pod.yaml')).to.equal(WEB)
  })
})
