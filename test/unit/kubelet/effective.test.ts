import {expect} from 'chai'

import {UserError} from '../../../src/errors.js'
import {
  computeEffective, type EditPlan, healthz, KUBELET_FILES, type KubeletNodeFiles, manifestDir, planEdit, setting,
} from '../../../src/kubelet/effective.js'
import {lineChanges} from './line-diff.js'
import {capture, loadNode} from './node-fixture.js'

const eff = (layout: string, overrides: Record<string, string | undefined> = {}, extra: Partial<KubeletNodeFiles> = {}) =>
  computeEffective({...loadNode(layout, overrides), ...extra})

/** The node's files after applying a plan (what the kubelet would read after a restart). */
function applied(layout: string, plan: EditPlan, overrides: Record<string, string | undefined> = {}) {
  const node = loadNode(layout, overrides)
  for (const [p, text] of plan.files) node.files[p] = text
  return computeEffective({...node, existing: [...node.existing ?? [], ...plan.files.keys()]})
}

describe('kubelet/effective', () => {
  it('lists the files to fetch in one round trip', () => {
    expect(KUBELET_FILES.files).to.include.members([
      '/etc/systemd/system/kubelet.service',
      '/usr/lib/systemd/system/kubelet.service',
      '/lib/systemd/system/kubelet.service',
      '/var/lib/kubelet/kubeadm-flags.env',
      '/etc/default/kubelet',
      '/etc/sysconfig/kubelet',
      '/etc/kubernetes/kubelet',
      '/etc/kubernetes/config',
      '/var/lib/kubelet/config.yaml',
    ])
    expect(KUBELET_FILES.dirs).to.include.members([
      '/etc/systemd/system/kubelet.service.d',
      '/run/systemd/system/kubelet.service.d',
      '/usr/lib/systemd/system/kubelet.service.d',
      '/lib/systemd/system/kubelet.service.d',
    ])
    expect(KUBELET_FILES.probe).to.include.members(['/etc/rancher/k3s', '/var/lib/rancher/k3s'])
  })

  it('detects the layout', () => {
    expect(eff('kubeadm-deb').layout).to.equal('kubeadm')
    expect(eff('kubeadm-rpm-etc').layout).to.equal('kubeadm')
    expect(eff('fedora').layout).to.equal('fedora')
    expect(eff('kubespray').layout).to.equal('kubespray')
    expect(eff('config-only').layout).to.equal('config-file-only')
    expect(eff('k3s').layout).to.equal('k3s')
    expect(eff('rke2', {}, {cmdline: capture('rke2.cmdline')}).layout).to.equal('rke2')
    expect(computeEffective({files: {}}).layout).to.equal('unknown')
  })

  describe('precedence', () => {
    it('kubeadm: the config file sets staticPodPath; a flag in KUBELET_EXTRA_ARGS beats it', () => {
      const plain = setting(eff('kubeadm-deb'), 'staticPodPath')
      expect(plain).to.deep.include({flag: 'pod-manifest-path', key: 'staticPodPath', value: '/etc/kubernetes/manifests'})
      expect(plain.source).to.deep.equal({field: 'staticPodPath', file: '/var/lib/kubelet/config.yaml'})
      const withFlag = setting(eff('kubeadm-deb', {'/etc/default/kubelet': 'KUBELET_EXTRA_ARGS="--pod-manifest-path=/etc/kubernetes/extra"\n'}), 'pod-manifest-path')
      expect(withFlag.value).to.equal('/etc/kubernetes/extra')
      expect(withFlag.source).to.deep.equal({file: '/etc/default/kubelet', variable: 'KUBELET_EXTRA_ARGS'})
      expect(withFlag.overridden).to.deep.equal([
        {source: {default: true}, value: ''},
        {source: {field: 'staticPodPath', file: '/var/lib/kubelet/config.yaml'}, value: '/etc/kubernetes/manifests'},
      ])
    })

    it('kubeadm: KUBELET_EXTRA_ARGS, last on the command line, beats KUBELET_KUBEADM_ARGS', () => {
      const s = setting(eff('kubeadm-deb', {'/etc/default/kubelet': 'KUBELET_EXTRA_ARGS=--container-runtime-endpoint=unix:///run/crio/crio.sock\n'}), 'containerRuntimeEndpoint')
      expect(s.value).to.equal('unix:///run/crio/crio.sock')
      expect(s.overridden.at(-1)).to.deep.equal({
        source: {file: '/var/lib/kubelet/kubeadm-flags.env', variable: 'KUBELET_KUBEADM_ARGS'}, value: 'unix:///var/run/containerd/containerd.sock',
      })
    })

    it('resolves variables as systemd does: EnvironmentFile= beats Environment=, later files beat earlier ones', () => {
      const overrides = {
        '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS=--max-pods=7\n',
        '/etc/systemd/system/kubelet.service.d/20-env.conf': '[Service]\nEnvironment="KUBELET_EXTRA_ARGS=--max-pods=5"\n',
        '/var/lib/kubelet/kubeadm-flags.env': 'KUBELET_KUBEADM_ARGS=\nKUBELET_EXTRA_ARGS=--max-pods=1\n',
      }
      const s = setting(eff('kubeadm-deb', overrides), 'max-pods')
      expect(s).to.deep.include({source: {file: '/etc/default/kubelet', variable: 'KUBELET_EXTRA_ARGS'}, value: 7})
      expect(s.overridden).to.deep.equal([{source: {default: true}, value: 110}])
    })

    it('a --config-dir drop-in beats the config file; lists are replaced and maps merged', () => {
      const e = eff('config-only')
      expect(e.configDropIns).to.deep.equal(['/etc/kubernetes/kubelet/config.d/10-static-pods.conf', '/etc/kubernetes/kubelet/config.d/20-dns.conf'])
      expect(setting(e, 'staticPodPath')).to.deep.include({
        source: {field: 'staticPodPath', file: '/etc/kubernetes/kubelet/config.d/10-static-pods.conf'}, value: '/srv/static-pods',
      })
      expect(setting(e, 'clusterDNS').value).to.deep.equal(['10.0.0.53'])
      expect(setting(e, 'featureGates').value).to.deep.equal({GracefulNodeShutdown: 'true', KubeletInUserNamespace: 'false'})
      expect(setting(e, 'fileCheckFrequency')).to.deep.include({source: {field: 'fileCheckFrequency', file: '/etc/kubernetes/kubelet/config.yaml'}, value: '10s'})
    })

    it('command-line flags beat drop-ins', () => {
      const e = eff('config-only', {'/etc/systemd/system/kubelet.service.d/override.conf': '[Service]\nExecStart=\nExecStart=/usr/local/bin/kubelet --config=/etc/kubernetes/kubelet/config.yaml --config-dir=/etc/kubernetes/kubelet/config.d --pod-manifest-path=/flag\n'})
      expect(setting(e, 'staticPodPath')).to.deep.include({source: {execStart: true, file: '/etc/systemd/system/kubelet.service.d/override.conf'}, value: '/flag'})
      expect(setting(e, 'staticPodPath').overridden.map(o => o.value)).to.deep.equal(['', '/etc/kubernetes/manifests', '/srv/static-pods'])
    })

    it('applies the kubelet\'s defaulting of zero values in the config file, and says so', () => {
      const s = setting(eff('kubeadm-deb'), 'fileCheckFrequency')
      expect(s.value).to.equal('20s')
      expect(s.note).to.equal('/var/lib/kubelet/config.yaml says "0s", which the kubelet replaces by its default 20s')
    })

    it('resolves a relative staticPodPath against the config file\'s directory', () => {
      const e = eff('config-only', {'/etc/kubernetes/kubelet/config.d/10-static-pods.conf': undefined, '/etc/kubernetes/kubelet/config.yaml': 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: manifests\n'})
      expect(setting(e, 'staticPodPath').value).to.equal('/etc/kubernetes/kubelet/manifests')
    })

    it('reads Fedora\'s flags from /etc/kubernetes/kubelet with no config file (legacy defaults)', () => {
      const e = eff('fedora')
      expect(e.configFile).to.equal(undefined)
      expect(setting(e, 'staticPodPath')).to.deep.include({source: {file: '/etc/kubernetes/kubelet', variable: 'KUBELET_ARGS'}, value: '/etc/kubelet.d/'})
      expect(setting(e, 'clusterDomain').value).to.equal('kube.local')
      expect(setting(e, 'readOnlyPort')).to.deep.include({source: {default: true, legacy: true}, value: 10_255})
    })
  })

  describe('manifest directory discovery', () => {
    it('takes the inventory first, warning when the kubelet reads another directory', () => {
      expect(manifestDir(eff('fedora'), {inventoryManifestDir: '/etc/kubelet.d'})).to.deep.equal({path: '/etc/kubelet.d', source: 'inventory', warnings: []})
      const r = manifestDir(eff('fedora'), {inventoryManifestDir: '/srv/other'})
      expect(r.path).to.equal('/srv/other')
      expect(r.warnings).to.deep.equal(['the inventory says manifestDir /srv/other but the kubelet reads /etc/kubelet.d/ (KUBELET_ARGS in /etc/kubernetes/kubelet)'])
    })

    it('then the kubelet\'s config file, then its flags (the flag winning as in the kubelet)', () => {
      expect(manifestDir(eff('kubeadm-deb'))).to.deep.include({path: '/etc/kubernetes/manifests', source: 'kubelet'})
      expect(manifestDir(eff('kubespray')).path).to.equal('/etc/kubernetes/manifests')
      expect(manifestDir(eff('fedora')).path).to.equal('/etc/kubelet.d/')
      expect(manifestDir(eff('kubeadm-deb', {'/etc/default/kubelet': 'KUBELET_EXTRA_ARGS="--pod-manifest-path=/etc/kubernetes/extra"'})).path).to.equal('/etc/kubernetes/extra')
    })

    it('finds the config file from the files alone, with no unit: the default /var/lib/kubelet/config.yaml', () => {
      const e = computeEffective({files: {'/var/lib/kubelet/config.yaml': 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: /opt/pods\n'}})
      expect(manifestDir(e).path).to.equal('/opt/pods')
      expect(e.warnings).to.include('no kubelet command line found (no kubelet unit, no running kubelet): assuming --config=/var/lib/kubelet/config.yaml')
    })

    it('then the k3s and RKE2 defaults where they are installed', () => {
      expect(manifestDir(eff('k3s')).path).to.equal('/var/lib/rancher/k3s/agent/pod-manifests')
      const bare = computeEffective({existing: ['/etc/rancher/k3s'], files: {}})
      expect(manifestDir(bare)).to.deep.include({path: '/var/lib/rancher/k3s/agent/pod-manifests', source: 'k3s', warnings: []})
      const rke2 = computeEffective({existing: ['/var/lib/rancher/rke2'], files: {}})
      expect(manifestDir(rke2)).to.deep.include({path: '/var/lib/rancher/rke2/agent/pod-manifests', source: 'rke2'})
    })

    it('else /etc/kubernetes/manifests with a warning', () => {
      const none = manifestDir(computeEffective({files: {}}))
      expect(none.path).to.equal('/etc/kubernetes/manifests')
      expect(none.source).to.equal('default')
      expect(none.warnings[0]).to.equal('no kubelet configuration was found; assuming /etc/kubernetes/manifests')
      const off = manifestDir(eff('kubeadm-deb', {'/var/lib/kubelet/config.yaml': 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n'}))
      expect(off.warnings[0]).to.equal('the kubelet has no staticPodPath or --pod-manifest-path (static pods are off); assuming /etc/kubernetes/manifests')
    })

    it('asks for files it could not see', () => {
      const e = eff('kubespray', {'/etc/kubernetes/kubelet.env': 'KUBELET_ARGS="--config=/opt/kubelet/config.yaml"\n'})
      expect(e.unfetched).to.deep.equal(['/opt/kubelet/config.yaml'])
    })
  })

  describe('the running kubelet and systemctl cat', () => {
    it('gives the same result from `systemctl cat` as from the unit files', () => {
      const fromFiles = eff('kubeadm-deb')
      const fromCat = eff('kubeadm-deb', {}, {systemctlCat: capture('kubeadm-deb.systemctl-cat.txt')})
      expect(fromCat.settings).to.deep.equal(fromFiles.settings)
      expect(fromCat.argv).to.deep.equal(fromFiles.argv)
    })

    it('attributes the running command line to the files when they agree', () => {
      const e = eff('kubeadm-deb', {}, {cmdline: capture('kubeadm-deb.cmdline')})
      expect(e.warnings).to.deep.equal([])
      expect(setting(e, 'containerRuntimeEndpoint').source).to.deep.equal({file: '/var/lib/kubelet/kubeadm-flags.env', variable: 'KUBELET_KUBEADM_ARGS'})
    })

    it('reports flags changed in the files since the kubelet started', () => {
      const e = eff('kubeadm-deb', {'/etc/default/kubelet': 'KUBELET_EXTRA_ARGS=--max-pods=200\n'}, {cmdline: capture('kubeadm-deb.cmdline')})
      expect(setting(e, 'maxPods').value).to.equal(110)
      expect(e.warnings).to.deep.equal(["the running kubelet's flags differ from what its unit files give (files: --max-pods=200): a restart would apply the files"])
    })

    it('reads RKE2\'s flags from its command line', () => {
      const e = eff('rke2', {}, {cmdline: capture('rke2.cmdline')})
      expect(setting(e, 'fileCheckFrequency')).to.deep.include({source: {cmdline: true}, value: '5s'})
      expect(e.configDir).to.equal('/var/lib/rancher/rke2/agent/etc/kubelet.conf.d')
      expect(manifestDir(e)).to.deep.include({path: '/var/lib/rancher/rke2/agent/pod-manifests', source: 'kubelet'})
    })
  })

  it('finds the healthz endpoint to poll', () => {
    expect(healthz(eff('kubeadm-deb'))).to.deep.equal({
      address: '127.0.0.1', enabled: true, port: 10_248, url: 'http://127.0.0.1:10248/healthz',
    })
    const all = eff('fedora', {'/etc/kubernetes/kubelet': 'KUBELET_ARGS="--healthz-bind-address=0.0.0.0 --healthz-port=10300"\n'})
    expect(healthz(all)).to.deep.equal({
      address: '127.0.0.1', enabled: true, port: 10_300, url: 'http://127.0.0.1:10300/healthz',
    })
    const off = eff('config-only', {'/etc/kubernetes/kubelet/config.d/30-off.conf': 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nhealthzPort: 0\n'})
    expect(healthz(off)).to.deep.equal({address: '127.0.0.1', enabled: false, port: 0})
  })

  describe('planEdit', () => {
    it('kubeadm: writes a config field in config.yaml and takes the flag out of KUBELET_EXTRA_ARGS', () => {
      const overrides = {'/etc/default/kubelet': 'KUBELET_EXTRA_ARGS="--pod-manifest-path=/etc/kubernetes/extra --node-ip=10.0.0.11"\n'}
      const plan = planEdit(eff('kubeadm-deb', overrides), {set: {'pod-manifest-path': '/etc/kubelet.d'}})
      expect([...plan.files.keys()]).to.deep.equal(['/var/lib/kubelet/config.yaml', '/etc/default/kubelet'])
      expect(lineChanges(loadNode('kubeadm-deb').files['/var/lib/kubelet/config.yaml']!, plan.files.get('/var/lib/kubelet/config.yaml')!)).to.deep.equal({
        added: ['staticPodPath: /etc/kubelet.d\n'], removed: ['staticPodPath: /etc/kubernetes/manifests\n'],
      })
      expect(plan.files.get('/etc/default/kubelet')).to.equal('KUBELET_EXTRA_ARGS="--node-ip=10.0.0.11"\n')
      expect(plan.changes).to.deep.equal([
        {
          action: 'set', file: '/var/lib/kubelet/config.yaml', key: 'pod-manifest-path', where: {field: 'staticPodPath'},
        },
        {
          action: 'set', file: '/etc/default/kubelet', key: 'pod-manifest-path', where: {variable: 'KUBELET_EXTRA_ARGS'},
        },
      ])
      expect(plan.warnings).to.deep.equal(['kubeadm rewrites /var/lib/kubelet/config.yaml on upgrade: make the same change in the kube-system/kubelet-config ConfigMap to keep it'])
      expect(setting(applied('kubeadm-deb', plan, overrides), 'staticPodPath').value).to.equal('/etc/kubelet.d')
    })

    it('kubeadm: moving a flag from kubeadm-flags.env into config.yaml warns that kubeadm may put it back', () => {
      const plan = planEdit(eff('kubeadm-deb'), {set: {containerRuntimeEndpoint: 'unix:///run/crio/crio.sock'}})
      expect([...plan.files.keys()]).to.deep.equal(['/var/lib/kubelet/config.yaml', '/var/lib/kubelet/kubeadm-flags.env'])
      expect(plan.files.get('/var/lib/kubelet/kubeadm-flags.env')).to.equal('KUBELET_KUBEADM_ARGS="--pod-infra-container-image=registry.k8s.io/pause:3.9"\n')
      expect(plan.warnings).to.include('kubeadm rewrites /var/lib/kubelet/kubeadm-flags.env on init, join and upgrade: --container-runtime-endpoint may come back there')
      expect(setting(applied('kubeadm-deb', plan), 'container-runtime-endpoint')).to.deep.include({
        source: {field: 'containerRuntimeEndpoint', file: '/var/lib/kubelet/config.yaml'}, value: 'unix:///run/crio/crio.sock',
      })
    })

    it('plans from `systemctl cat` output as well as from unit files', () => {
      const plan = planEdit(eff('kubeadm-deb', {}, {systemctlCat: capture('kubeadm-deb.systemctl-cat.txt')}), {set: {maxPods: '20'}})
      expect([...plan.files.keys()]).to.deep.equal(['/var/lib/kubelet/config.yaml'])
      expect(plan.warnings).to.have.length(1)
    })

    it('kubeadm: a flag-only setting goes to KUBELET_EXTRA_ARGS in /etc/default/kubelet or /etc/sysconfig/kubelet', () => {
      const deb = planEdit(eff('kubeadm-deb'), {set: {'hostname-override': 'node-1'}})
      expect(Object.fromEntries(deb.files)).to.deep.equal({'/etc/default/kubelet': 'KUBELET_EXTRA_ARGS="--hostname-override=node-1"\n'})
      const rpm = planEdit(eff('kubeadm-rpm-etc'), {set: {'node-ip': '10.0.0.99'}})
      expect(Object.fromEntries(rpm.files)).to.deep.equal({'/etc/sysconfig/kubelet': 'KUBELET_EXTRA_ARGS="--node-ip=10.0.0.99 --max-pods=200"\n'})
    })

    it('kubeadm: a missing /etc/default/kubelet is created', () => {
      const plan = planEdit(eff('kubeadm-deb', {'/etc/default/kubelet': undefined}), {set: {'node-labels': 'role=edge'}})
      expect(Object.fromEntries(plan.files)).to.deep.equal({'/etc/default/kubelet': 'KUBELET_EXTRA_ARGS="--node-labels=role=edge"\n'})
    })

    it('fedora: no config file, so flags go to KUBELET_ARGS in /etc/kubernetes/kubelet, in place', () => {
      const before = loadNode('fedora').files['/etc/kubernetes/kubelet']!
      const plan = planEdit(eff('fedora'), {set: {'manifest-url-header': 'a:hello,b:again', staticPodPath: '/srv/pods'}})
      expect([...plan.files.keys()]).to.deep.equal(['/etc/kubernetes/kubelet'])
      expect(lineChanges(before, plan.files.get('/etc/kubernetes/kubelet')!)).to.deep.equal({
        added: ['KUBELET_ARGS="--cluster-dns=10.254.0.10 --cluster-domain=kube.local --pod-manifest-path=/srv/pods --manifest-url-header=a:hello,b:again"\n'],
        removed: ['KUBELET_ARGS="--cluster-dns=10.254.0.10 --cluster-domain=kube.local --pod-manifest-path=/etc/kubelet.d/"\n'],
      })
      const after = applied('fedora', plan)
      expect(setting(after, 'staticPodURLHeader').value).to.deep.equal({a: ['hello'], b: ['again']})
      expect(plan.warnings).to.deep.equal([])
    })

    it('kubespray: config fields go to kubelet-config.yaml', () => {
      const plan = planEdit(eff('kubespray'), {set: {fileCheckFrequency: '5s'}})
      expect([...plan.files.keys()]).to.deep.equal(['/etc/kubernetes/kubelet-config.yaml'])
      expect(lineChanges(loadNode('kubespray').files['/etc/kubernetes/kubelet-config.yaml']!, plan.files.get('/etc/kubernetes/kubelet-config.yaml')!))
      .to.deep.equal({added: ['fileCheckFrequency: 5s\n'], removed: []})
    })

    it('config-only: writes to the drop-in that sets the field; unset removes it from every config file', () => {
      const e = eff('config-only')
      const set = planEdit(e, {set: {staticPodPath: '/var/pods'}})
      expect([...set.files.keys()]).to.deep.equal(['/etc/kubernetes/kubelet/config.d/10-static-pods.conf'])
      const unset = planEdit(e, {unset: ['pod-manifest-path']})
      expect([...unset.files.keys()]).to.deep.equal(['/etc/kubernetes/kubelet/config.yaml', '/etc/kubernetes/kubelet/config.d/10-static-pods.conf'])
      const after = applied('config-only', unset)
      expect(setting(after, 'staticPodPath')).to.deep.include({source: {default: true}, value: ''})
      expect(unset.warnings).to.deep.equal([])
    })

    it('config-only: a flag-only setting has nowhere to go', () => {
      expect(() => planEdit(eff('config-only'), {set: {'hostname-override': 'x'}})).to.throw(UserError, 'cannot place --hostname-override on this node')
    })

    it('k3s: writes its own drop-in after the regenerated defaults', () => {
      const plan = planEdit(eff('k3s'), {set: {'file-check-frequency': '5s'}})
      expect(Object.fromEntries(plan.files)).to.deep.equal({
        '/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/99-staticpod.conf': 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nfileCheckFrequency: 5s\n',
      })
      expect(setting(applied('k3s', plan), 'fileCheckFrequency').value).to.equal('5s')
    })

    it('warns when a flag it cannot edit still wins', () => {
      const overrides = {'/etc/default/kubelet': undefined, '/etc/systemd/system/kubelet.service.d/20-x.conf': '[Service]\nEnvironment="KUBELET_EXTRA_ARGS=--max-pods=5"\n'}
      const plan = planEdit(eff('kubeadm-deb', overrides), {set: {maxPods: '50'}})
      expect(plan.warnings).to.include('--max-pods is also set in Environment=KUBELET_EXTRA_ARGS in /etc/systemd/system/kubelet.service.d/20-x.conf, which staticpod does not edit; it still wins')
      expect(plan.warnings).to.include('maxPods will still be 5 (Environment=KUBELET_EXTRA_ARGS in /etc/systemd/system/kubelet.service.d/20-x.conf)')
    })

    it('rejects unknown keys and bad values', () => {
      expect(() => planEdit(eff('kubeadm-deb'), {set: {'pod-manifest-pth': '/x'}})).to.throw(UserError, 'did you mean "--pod-manifest-path"?')
      expect(() => planEdit(eff('kubeadm-deb'), {unset: ['staticPodPth']})).to.throw(UserError, 'did you mean "staticPodPath"?')
      expect(() => planEdit(eff('kubeadm-deb'), {set: {'file-check-frequency': 'soon'}})).to.throw(UserError, 'takes a duration')
    })

    it('changes nothing when the value is already set', () => {
      expect(planEdit(eff('kubeadm-deb'), {set: {staticPodPath: '/etc/kubernetes/manifests'}}).files.size).to.equal(0)
      expect(planEdit(eff('fedora'), {set: {'pod-manifest-path': '/etc/kubelet.d/'}}).files.size).to.equal(0)
    })
  })
})
