// The kubelet's command line (pflag semantics) for the emulated version, v1.34: the flags it knows, how they
// parse, and the errors it stops with. Flags that were removed before v1.34 (--network-plugin,
// --container-runtime, --logtostderr, --dynamic-config-dir, ...) are unknown, as on a real v1.34 kubelet.

type FlagType = 'bool' | 'duration' | 'int' | 'map' | 'string' | 'strings'

/** Flag name → type. Only the types the simulator needs to interpret are precise; others are 'string'. */
const FLAGS: Record<string, FlagType> = {
  address: 'string',
  'allowed-unsafe-sysctls': 'strings',
  'anonymous-auth': 'bool',
  'authentication-token-webhook': 'bool',
  'authentication-token-webhook-cache-ttl': 'duration',
  'authorization-mode': 'string',
  'authorization-webhook-cache-authorized-ttl': 'duration',
  'authorization-webhook-cache-unauthorized-ttl': 'duration',
  'bootstrap-kubeconfig': 'string',
  'cert-dir': 'string',
  'cgroup-driver': 'string',
  'cgroup-root': 'string',
  'cgroups-per-qos': 'bool',
  'client-ca-file': 'string',
  'cloud-config': 'string',
  'cloud-provider': 'string',
  'cluster-dns': 'strings',
  'cluster-domain': 'string',
  config: 'string',
  'config-dir': 'string',
  'container-log-max-files': 'int',
  'container-log-max-size': 'string',
  'container-runtime-endpoint': 'string',
  'contention-profiling': 'bool',
  'cpu-cfs-quota': 'bool',
  'cpu-cfs-quota-period': 'duration',
  'cpu-manager-policy': 'string',
  'cpu-manager-policy-options': 'map',
  'cpu-manager-reconcile-period': 'duration',
  'enable-controller-attach-detach': 'bool',
  'enable-debugging-handlers': 'bool',
  'enable-server': 'bool',
  'enforce-node-allocatable': 'strings',
  'event-burst': 'int',
  'event-qps': 'int',
  'eviction-hard': 'map',
  'eviction-max-pod-grace-period': 'int',
  'eviction-minimum-reclaim': 'map',
  'eviction-pressure-transition-period': 'duration',
  'eviction-soft': 'map',
  'eviction-soft-grace-period': 'map',
  'exit-on-lock-contention': 'bool',
  'experimental-allocatable-ignore-eviction': 'bool',
  'experimental-mounter-path': 'string',
  'fail-cgroupv1': 'bool',
  'fail-swap-on': 'bool',
  'feature-gates': 'map',
  'file-check-frequency': 'duration',
  'hairpin-mode': 'string',
  'healthz-bind-address': 'string',
  'healthz-port': 'int',
  help: 'bool',
  'hostname-override': 'string',
  'http-check-frequency': 'duration',
  'image-credential-provider-bin-dir': 'string',
  'image-credential-provider-config': 'string',
  'image-gc-high-threshold': 'int',
  'image-gc-low-threshold': 'int',
  'image-maximum-gc-age': 'duration',
  'image-minimum-gc-age': 'duration',
  'image-service-endpoint': 'string',
  'iptables-drop-bit': 'int',
  'iptables-masquerade-bit': 'int',
  'keep-terminated-pod-volumes': 'bool',
  'kernel-memcg-notification': 'bool',
  'kube-api-burst': 'int',
  'kube-api-content-type': 'string',
  'kube-api-qps': 'int',
  'kube-reserved': 'map',
  'kube-reserved-cgroup': 'string',
  kubeconfig: 'string',
  'kubelet-cgroups': 'string',
  'local-storage-capacity-isolation': 'bool',
  'lock-file': 'string',
  'log-flush-frequency': 'duration',
  'log-json-info-buffer-size': 'string',
  'log-json-split-stream': 'bool',
  'log-text-info-buffer-size': 'string',
  'log-text-split-stream': 'bool',
  'logging-format': 'string',
  'make-iptables-util-chains': 'bool',
  'manifest-url': 'string',
  'manifest-url-header': 'map',
  'max-open-files': 'int',
  'max-parallel-image-pulls': 'int',
  'max-pods': 'int',
  'maximum-dead-containers': 'int',
  'maximum-dead-containers-per-container': 'int',
  'memory-manager-policy': 'string',
  'minimum-container-ttl-duration': 'duration',
  'minimum-image-ttl-duration': 'duration',
  'node-ip': 'string',
  'node-labels': 'map',
  'node-status-max-images': 'int',
  'node-status-update-frequency': 'duration',
  'oom-score-adj': 'int',
  'pod-cidr': 'string',
  'pod-infra-container-image': 'string',
  'pod-manifest-path': 'string',
  'pod-max-pids': 'int',
  'pods-per-core': 'int',
  port: 'int',
  'protect-kernel-defaults': 'bool',
  'provider-id': 'string',
  'qos-reserved': 'map',
  'read-only-port': 'int',
  'register-node': 'bool',
  'register-schedulable': 'bool',
  'register-with-taints': 'strings',
  'registry-burst': 'int',
  'registry-qps': 'int',
  'reserved-cpus': 'string',
  'reserved-memory': 'strings',
  'resolv-conf': 'string',
  'root-dir': 'string',
  'rotate-certificates': 'bool',
  'rotate-server-certificates': 'bool',
  runonce: 'bool',
  'runtime-cgroups': 'string',
  'runtime-request-timeout': 'duration',
  'seccomp-default': 'bool',
  'serialize-image-pulls': 'bool',
  'streaming-connection-idle-timeout': 'duration',
  'sync-frequency': 'duration',
  'system-cgroups': 'string',
  'system-reserved': 'map',
  'system-reserved-cgroup': 'string',
  'tls-cert-file': 'string',
  'tls-cipher-suites': 'strings',
  'tls-min-version': 'string',
  'tls-private-key-file': 'string',
  'topology-manager-policy': 'string',
  'topology-manager-policy-options': 'map',
  'topology-manager-scope': 'string',
  v: 'int',
  version: 'string',
  vmodule: 'string',
  'volume-plugin-dir': 'string',
  'volume-stats-agg-period': 'duration',
}

const SHORTHANDS: Record<string, string> = {h: 'help', v: 'v'}

export class FlagError extends Error {}

export interface ParsedFlags {
  /** Positional arguments (the kubelet refuses them: "unknown command"). */
  args: string[]
  /** Flag → values in order of appearance (repeatable flags keep all). */
  values: Map<string, string[]>
}

function checkValue(name: string, type: FlagType, value: string, parseDuration: (text: string) => number): void {
  const invalid = (detail: string) => new FlagError(`invalid argument ${JSON.stringify(value)} for "--${name}" flag: ${detail}`)
  switch (type) {
  case 'bool': {
    if (!/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(value)) {
      throw invalid(`strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`)
    }

    break
  }

  case 'duration': {
    try {
      parseDuration(value)
    } catch (error) {
      throw invalid((error as Error).message)
    }

    break
  }

  case 'int': {
    if (!/^[+-]?\d+$/.test(value)) throw invalid(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`)
    break
  }

  case 'map': {
    if (name === 'manifest-url-header') {
      for (const pair of value.split(',')) {
        if (!pair.includes(':')) throw invalid('malformed pair, expect string:string')
      }
    } else if (value !== '') {
      for (const pair of value.split(',')) {
        if (!pair.includes('=')) throw invalid('malformed pair, expect string=string')
      }
    }

    break
  }

  default:
  }
}

/** pflag's Parse over the kubelet's flag set: `--name=value`, `--name value`, bool `--name`, `-v=4`, `--`. */
export function parseKubeletFlags(argv: string[], parseDuration: (text: string) => number): ParsedFlags {
  const values = new Map<string, string[]>()
  const args: string[] = []
  const set = (name: string, value: string) => {
    const type = FLAGS[name]!
    checkValue(name, type, value, parseDuration)
    values.set(name, [...(values.get(name) ?? []), value])
  }

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      args.push(...argv.slice(i + 1))
      break
    }

    if (arg.startsWith('--')) {
      const body = arg.slice(2)
      const eq = body.indexOf('=')
      const name = eq === -1 ? body : body.slice(0, eq)
      if (name === '' || name.startsWith('-') || name.startsWith('=')) throw new FlagError(`bad flag syntax: ${arg}`)
      const type = FLAGS[name]
      if (type === undefined) throw new FlagError(`unknown flag: --${name}`)
      if (eq !== -1) set(name, body.slice(eq + 1))
      else if (type === 'bool' || name === 'version') set(name, 'true') // --version takes an optional value (raw)
      else if (i + 1 < argv.length) set(name, argv[++i]!)
      else throw new FlagError(`flag needs an argument: --${name}`)
    } else if (arg.startsWith('-') && arg.length > 1) {
      const short = arg[1]!
      const name = SHORTHANDS[short]
      if (name === undefined) throw new FlagError(`unknown shorthand flag: '${short}' in ${arg}`)
      const type = FLAGS[name]!
      const rest = arg.slice(2)
      if (rest.startsWith('=')) set(name, rest.slice(1))
      else if (rest !== '') set(name, rest)
      else if (type === 'bool') set(name, 'true')
      else if (i + 1 < argv.length) set(name, argv[++i]!)
      else throw new FlagError(`flag needs an argument: '${short}' in ${arg}`)
    } else args.push(arg)
  }

  return {args, values}
}

/** The last value of a flag, if given. */
export function lastValue(flags: ParsedFlags, name: string): string | undefined {
  const list = flags.values.get(name)
  return list?.at(-1)
}

/** --manifest-url-header 'a:hello,b:again' --manifest-url-header 'b:beautiful' → {a: [hello], b: [again, beautiful]}. */
export function urlHeaders(flags: ParsedFlags): Record<string, string[]> | undefined {
  const list = flags.values.get('manifest-url-header')
  if (!list) return undefined
  const headers: Record<string, string[]> = {}
  for (const value of list) {
    for (const pair of value.split(',')) {
      const colon = pair.indexOf(':')
      const key = pair.slice(0, colon)
      headers[key] = [...(headers[key] ?? []), pair.slice(colon + 1)]
    }
  }

  return headers
}
