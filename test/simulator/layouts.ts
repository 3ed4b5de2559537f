// The files a real node of each layout has for its kubelet (kubelet-facts §3.2, §3.3, the static pods guide):
// where the unit, its drop-ins, env files and KubeletConfiguration live, and what they say.
export type Layout = 'config-file' | 'docker' | 'fedora' | 'kubeadm'

export interface LayoutInput {
  /** API server URL, CA (PEM) and this node's token, for its kubeconfig. */
  api: {ca: string; server: string; token: string}
  /** Extra KubeletConfiguration fields / flags the test asked for (e.g. fileCheckFrequency). */
  config: Record<string, string>
  layout: Layout
  manifestDir: string
  /** The node's address: the kubelet's healthz binds there (all nodes share the host's 127.0.0.1). */
  nodeIp: string
}

export interface LayoutFiles {
  /** Directories to create inside the node. */
  dirs: string[]
  /** Paths inside the node → content. */
  files: Record<string, string>
  /** Where the kubelet reads its static pods. */
  manifestDir: string
  runtime: 'containerd' | 'docker'
  /** Shims installed in the node's /usr/local/bin. */
  tools: string[]
}

export const DEFAULT_MANIFEST_DIRS: Record<Layout, string> = {
  'config-file': '/etc/kubernetes/pods',
  docker: '/etc/kubernetes/manifests',
  fedora: '/etc/kubelet.d',
  kubeadm: '/etc/kubernetes/manifests',
}

/** The kubelet.service of the kubernetes/release DEB and RPM packages. */
const KUBEADM_UNIT = `[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
`

/** 10-kubeadm.conf, as the kubeadm DEB package installs it. */
const KUBEADM_DROPIN = `# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use
# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`

/** The kubelet config kubeadm writes (zero durations mean "default", as the kubelet's defaulting treats them). */
function kubeadmConfig(input: LayoutInput, manifestDir: string): string {
  const lines = [
    'apiVersion: kubelet.config.k8s.io/v1beta1',
    'authentication:',
    '  anonymous:',
    '    enabled: false',
    '  webhook:',
    '    cacheTTL: 0s',
    '    enabled: true',
    '  x509:',
    '    clientCAFile: /etc/kubernetes/pki/ca.crt',
    'authorization:',
    '  mode: Webhook',
    '  webhook:',
    '    cacheAuthorizedTTL: 0s',
    '    cacheUnauthorizedTTL: 0s',
    'cgroupDriver: systemd',
    'clusterDNS:',
    '- 10.96.0.10',
    'clusterDomain: cluster.local',
    'containerRuntimeEndpoint: ""',
    'cpuManagerReconcilePeriod: 0s',
    'evictionPressureTransitionPeriod: 0s',
    `fileCheckFrequency: ${input.config.fileCheckFrequency ?? '0s'}`,
    `healthzBindAddress: ${input.nodeIp}`,
    'healthzPort: 10248',
    `httpCheckFrequency: ${input.config.httpCheckFrequency ?? '0s'}`,
    'imageMaximumGCAge: 0s',
    'imageMinimumGCAge: 0s',
    'kind: KubeletConfiguration',
    'logging:',
    '  flushFrequency: 0',
    '  options:',
    '    json:',
    '      infoBufferSize: "0"',
    '    text:',
    '      infoBufferSize: "0"',
    '  verbosity: 0',
    'memorySwap: {}',
    'nodeStatusReportFrequency: 0s',
    'nodeStatusUpdateFrequency: 0s',
    'resolvConf: /run/systemd/resolve/resolv.conf',
    'rotateCertificates: true',
    'runtimeRequestTimeout: 0s',
    'shutdownGracePeriod: 0s',
    'shutdownGracePeriodCriticalPods: 0s',
    `staticPodPath: ${manifestDir}`,
    'streamingConnectionIdleTimeout: 0s',
    'syncFrequency: 0s',
    'volumeStatsAggPeriod: 0s',
  ]
  return `${lines.join('\n')}\n`
}

export function kubeconfig(api: LayoutInput['api'], user: string): string {
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${Buffer.from(api.ca).toString('base64')}`,
    `    server: ${api.server}`,
    '  name: sandbox',
    'contexts:',
    '- context:',
    '    cluster: sandbox',
    `    user: ${user}`,
    `  name: ${user}@sandbox`,
    `current-context: ${user}@sandbox`,
    'kind: Config',
    'preferences: {}',
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${api.token}`,
    '',
  ].join('\n')
}

function kubeadmLike(input: LayoutInput, runtime: 'containerd' | 'docker'): LayoutFiles {
  const {manifestDir} = input
  const endpoint = runtime === 'docker' ? 'unix:///var/run/cri-dockerd.sock' : 'unix:///var/run/containerd/containerd.sock'
  const files: Record<string, string> = {
    '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS=\n',
    '/etc/kubernetes/kubelet.conf': kubeconfig(input.api, 'default-auth'),
    '/etc/kubernetes/pki/ca.crt': input.api.ca,
    '/etc/systemd/system/kubelet.service': KUBEADM_UNIT,
    '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf': KUBEADM_DROPIN,
    '/var/lib/kubelet/config.yaml': kubeadmConfig(input, manifestDir),
    '/var/lib/kubelet/kubeadm-flags.env': `KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=${endpoint} --pod-infra-container-image=registry.k8s.io/pause:3.10"\n`,
  }
  return {
    dirs: [manifestDir], files, manifestDir, runtime, tools: runtime === 'docker' ? ['docker', 'journalctl', 'kubelet', 'systemctl'] : ['crictl', 'journalctl', 'kubelet', 'systemctl'],
  }
}

/** Fedora's kubernetes-node packaging: flags only, from /etc/kubernetes/config and /etc/kubernetes/kubelet. */
function fedora(input: LayoutInput): LayoutFiles {
  const {manifestDir} = input
  const extra = [
    input.config.fileCheckFrequency ? `--file-check-frequency=${input.config.fileCheckFrequency}` : '',
    input.config.httpCheckFrequency ? `--http-check-frequency=${input.config.httpCheckFrequency}` : '',
  ].filter(Boolean)
  const args = [
    '--cluster-dns=10.254.0.10',
    '--cluster-domain=kube.local',
    `--pod-manifest-path=${manifestDir}/`,
    '--kubeconfig=/etc/kubernetes/kubelet.kubeconfig',
    '--container-runtime-endpoint=unix:///run/containerd/containerd.sock',
    `--healthz-bind-address=${input.nodeIp}`,
    ...extra,
  ]
  const files: Record<string, string> = {
    '/etc/kubernetes/config': [
      '###',
      '# kubernetes system config',
      '#',
      '# The following values are used to configure various aspects of all',
      '# kubernetes services, including',
      '#',
      '#   kube-apiserver.service',
      '#   kube-controller-manager.service',
      '#   kube-scheduler.service',
      '#   kubelet.service',
      '#   kube-proxy.service',
      '# journal message level, 0 is debug',
      'KUBE_LOG_LEVEL="--v=0"',
      '',
    ].join('\n'),
    '/etc/kubernetes/kubelet': [
      '###',
      '# kubernetes kubelet (minion) config',
      '',
      '# The address for the info server to serve on (set to 0.0.0.0 or "" for all interfaces)',
      `KUBELET_ADDRESS="--address=${input.nodeIp}"`,
      '',
      '# The port for the info server to serve on',
      '# KUBELET_PORT="--port=10250"',
      '',
      '# You may leave this blank to use the actual hostname',
      'KUBELET_HOSTNAME=""',
      '',
      '# Add your own!',
      `KUBELET_ARGS="${args.join(' ')}"`,
      '',
    ].join('\n'),
    '/etc/kubernetes/kubelet.kubeconfig': kubeconfig(input.api, 'kubelet'),
    '/etc/systemd/system/kubelet.service': `[Unit]
Description=Kubernetes Kubelet Server
Documentation=https://kubernetes.io/docs/concepts/overview/components/#kubelet https://kubernetes.io/docs/reference/generated/kubelet/
After=containerd.service
Requires=containerd.service

[Service]
WorkingDirectory=/var/lib/kubelet
EnvironmentFile=-/etc/kubernetes/config
EnvironmentFile=-/etc/kubernetes/kubelet
ExecStart=/usr/bin/kubelet \\
	    $KUBE_LOGTOSTDERR \\
	    $KUBE_LOG_LEVEL \\
	    $KUBELET_API_SERVER \\
	    $KUBELET_ADDRESS \\
	    $KUBELET_PORT \\
	    $KUBELET_HOSTNAME \\
	    $KUBE_ALLOW_PRIV \\
	    $KUBELET_ARGS
Restart=on-failure
KillMode=process

[Install]
WantedBy=multi-user.target
`,
  }
  return {
    dirs: [manifestDir], files, manifestDir, runtime: 'containerd', tools: ['crictl', 'journalctl', 'kubelet', 'systemctl'],
  }
}

/** A hand-made node: one KubeletConfiguration file, two flags in the unit. */
function configFile(input: LayoutInput): LayoutFiles {
  const {manifestDir} = input
  const config = [
    'apiVersion: kubelet.config.k8s.io/v1beta1',
    'kind: KubeletConfiguration',
    `staticPodPath: ${manifestDir}`,
    ...(input.config.fileCheckFrequency ? [`fileCheckFrequency: ${input.config.fileCheckFrequency}`] : []),
    ...(input.config.httpCheckFrequency ? [`httpCheckFrequency: ${input.config.httpCheckFrequency}`] : []),
    'containerRuntimeEndpoint: unix:///run/containerd/containerd.sock',
    `healthzBindAddress: ${input.nodeIp}`,
    'healthzPort: 10248',
    'cgroupDriver: systemd',
    'failSwapOn: false',
    '',
  ].join('\n')
  const files: Record<string, string> = {
    '/etc/kubernetes/kubelet-config.yaml': config,
    '/etc/kubernetes/kubelet.kubeconfig': kubeconfig(input.api, 'kubelet'),
    '/etc/systemd/system/kubelet.service': `[Unit]
Description=Kubernetes Kubelet
Documentation=https://github.com/kubernetes/kubernetes
After=containerd.service
Requires=containerd.service

[Service]
ExecStart=/usr/bin/kubelet --config=/etc/kubernetes/kubelet-config.yaml --kubeconfig=/etc/kubernetes/kubelet.kubeconfig
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
`,
  }
  return {
    dirs: [manifestDir], files, manifestDir, runtime: 'containerd', tools: ['crictl', 'journalctl', 'kubelet', 'systemctl'],
  }
}

export function layoutFiles(input: LayoutInput): LayoutFiles {
  switch (input.layout) {
  case 'config-file': {
    return configFile(input)
  }

  case 'docker': {
    return kubeadmLike(input, 'docker')
  }

  case 'fedora': {
    return fedora(input)
  }

  case 'kubeadm': {
    return kubeadmLike(input, 'containerd')
  }
  }
}

/** The private directories of the sandbox nodes the simulator needs besides the harness's own. */
export const SIMULATOR_PRIVATE_DIRS = ['/etc/kubelet.d', '/var/lib/sim', '/var/log/containers', '/var/log/pods']
