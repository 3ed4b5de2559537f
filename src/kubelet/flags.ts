/**
 * Kubelet command-line flags: which take a value, how repeats combine (pflag semantics), which
 * KubeletConfiguration field each one sets, how systemd expands `$VAR` / `${VAR}` in ExecStart=, and
 * `/proc/<pid>/cmdline`. The table covers the flags staticpod cares about and the common ones beside
 * them (cmd/kubelet/app/options/options.go); unknown flags follow a generic rule (see parseArgs).
 */
import {closest, distance} from 'fastest-levenshtein'

import {UserError} from '../errors.js'
import {splitWords} from './words.js'

/**
 * bool: `--x`, `--x=false`. int, duration, string: one value, last wins. list: comma-separated,
 * repeats append (pflag StringSlice; the first use replaces the config file's list). map: `k=v,k2=v2`
 * (or `k<v` for eviction thresholds), repeats merge. headers: `--manifest-url-header 'a:hello,b:again'`,
 * repeatable, a map[string][]string in the config file.
 */
export type FlagKind = 'bool' | 'duration' | 'headers' | 'int' | 'list' | 'map' | 'string'

export type SettingValue = boolean | number | Record<string, string | string[]> | string | string[]

export interface FlagDef {
  /** Default with --config (v1beta1 SetDefaults_KubeletConfiguration) or without any config. */
  default?: SettingValue
  /** KubeletConfiguration field (dotted for nested ones); undefined for flag-only settings. */
  field?: string
  /** Flag name without dashes; undefined for fields that have no flag. */
  flag?: string
  kind: FlagKind
  /** Default when the kubelet runs without --config (the "legacy" defaults of a few fields). */
  legacyDefault?: SettingValue
  /** Map kinds: the key/value separator (`=` unless stated), and whether values are booleans. */
  mapSeparator?: '<' | '='
  mapValues?: 'bool'
  /** The setting names a path, resolved against the config file's directory when relative there. */
  path?: boolean
  shorthand?: string
}

const d = (flag: string | undefined, field: string | undefined, kind: FlagKind, extra: Partial<FlagDef> = {}): FlagDef => ({
  ...extra, field, flag, kind,
})

/** Flags that set a KubeletConfiguration field (all deprecated as flags), and flag-only settings. */
export const FLAGS: readonly FlagDef[] = [
  // static pods and their sources
  d('pod-manifest-path', 'staticPodPath', 'string', {default: '', path: true}),
  d('manifest-url', 'staticPodURL', 'string', {default: ''}),
  d('manifest-url-header', 'staticPodURLHeader', 'headers', {default: {}}),
  d('file-check-frequency', 'fileCheckFrequency', 'duration', {default: '20s'}),
  d('http-check-frequency', 'httpCheckFrequency', 'duration', {default: '20s'}),
  d('sync-frequency', 'syncFrequency', 'duration', {default: '1m'}),
  // health and serving
  d('healthz-port', 'healthzPort', 'int', {default: 10_248}),
  d('healthz-bind-address', 'healthzBindAddress', 'string', {default: '127.0.0.1'}),
  d('address', 'address', 'string', {default: '0.0.0.0'}),
  d('port', 'port', 'int', {default: 10_250}),
  d('read-only-port', 'readOnlyPort', 'int', {default: 0, legacyDefault: 10_255}),
  d('enable-server', 'enableServer', 'bool', {default: true}),
  d('tls-cert-file', 'tlsCertFile', 'string', {default: '', path: true}),
  d('tls-private-key-file', 'tlsPrivateKeyFile', 'string', {default: '', path: true}),
  d('tls-min-version', 'tlsMinVersion', 'string', {default: ''}),
  d('tls-cipher-suites', 'tlsCipherSuites', 'list', {default: []}),
  d('rotate-certificates', 'rotateCertificates', 'bool', {default: false}),
  d('rotate-server-certificates', 'serverTLSBootstrap', 'bool', {default: false}),
  d('anonymous-auth', 'authentication.anonymous.enabled', 'bool', {default: false, legacyDefault: true}),
  d('authentication-token-webhook', 'authentication.webhook.enabled', 'bool', {default: true, legacyDefault: false}),
  d('client-ca-file', 'authentication.x509.clientCAFile', 'string', {default: '', path: true}),
  d('authorization-mode', 'authorization.mode', 'string', {default: 'Webhook', legacyDefault: 'AlwaysAllow'}),
  // cluster
  d('cluster-dns', 'clusterDNS', 'list', {default: []}),
  d('cluster-domain', 'clusterDomain', 'string', {default: ''}),
  d('resolv-conf', 'resolvConf', 'string', {default: '/etc/resolv.conf', path: true}),
  d('register-node', 'registerNode', 'bool', {default: true}),
  d('provider-id', 'providerID', 'string', {default: ''}),
  d('node-status-update-frequency', 'nodeStatusUpdateFrequency', 'duration', {default: '10s'}),
  d('kube-api-qps', 'kubeAPIQPS', 'int', {default: 50}),
  d('kube-api-burst', 'kubeAPIBurst', 'int', {default: 100}),
  d('kube-api-content-type', 'contentType', 'string', {default: 'application/vnd.kubernetes.protobuf'}),
  d('event-qps', 'eventRecordQPS', 'int', {default: 50}),
  d('event-burst', 'eventBurst', 'int', {default: 100}),
  // runtime, cgroups, resources
  d('container-runtime-endpoint', 'containerRuntimeEndpoint', 'string', {default: 'unix:///run/containerd/containerd.sock'}),
  d('image-service-endpoint', 'imageServiceEndpoint', 'string', {default: ''}),
  d('cgroup-driver', 'cgroupDriver', 'string', {default: 'cgroupfs'}),
  d('cgroups-per-qos', 'cgroupsPerQOS', 'bool', {default: true}),
  d('cgroup-root', 'cgroupRoot', 'string', {default: ''}),
  d('kubelet-cgroups', 'kubeletCgroups', 'string', {default: ''}),
  d('system-cgroups', 'systemCgroups', 'string', {default: ''}),
  d('max-pods', 'maxPods', 'int', {default: 110}),
  d('pod-max-pids', 'podPidsLimit', 'int', {default: -1}),
  d('pod-cidr', 'podCIDR', 'string', {default: ''}),
  d('fail-swap-on', 'failSwapOn', 'bool', {default: true}),
  d('cpu-manager-policy', 'cpuManagerPolicy', 'string', {default: 'none'}),
  d('memory-manager-policy', 'memoryManagerPolicy', 'string', {default: 'None'}),
  d('topology-manager-policy', 'topologyManagerPolicy', 'string', {default: 'none'}),
  d('cpu-cfs-quota', 'cpuCFSQuota', 'bool', {default: true}),
  d('runtime-request-timeout', 'runtimeRequestTimeout', 'duration', {default: '2m'}),
  d('hairpin-mode', 'hairpinMode', 'string', {default: 'promiscuous-bridge'}),
  d('serialize-image-pulls', 'serializeImagePulls', 'bool', {default: true}),
  d('registry-qps', 'registryPullQPS', 'int', {default: 5}),
  d('registry-burst', 'registryBurst', 'int', {default: 10}),
  d('image-gc-high-threshold', 'imageGCHighThresholdPercent', 'int', {default: 85}),
  d('image-gc-low-threshold', 'imageGCLowThresholdPercent', 'int', {default: 80}),
  d('minimum-image-ttl-duration', 'imageMinimumGCAge', 'duration', {default: '2m'}),
  d('volume-plugin-dir', 'volumePluginDir', 'string', {default: '/usr/libexec/kubernetes/kubelet-plugins/volume/exec/'}),
  d('volume-stats-agg-period', 'volumeStatsAggPeriod', 'duration', {default: '1m'}),
  d('container-log-max-size', 'containerLogMaxSize', 'string', {default: '10Mi'}),
  d('container-log-max-files', 'containerLogMaxFiles', 'int', {default: 5}),
  d('max-open-files', 'maxOpenFiles', 'int', {default: 1_000_000}),
  d('oom-score-adj', 'oomScoreAdj', 'int', {default: -999}),
  d('streaming-connection-idle-timeout', 'streamingConnectionIdleTimeout', 'duration', {default: '4h'}),
  d('make-iptables-util-chains', 'makeIPTablesUtilChains', 'bool', {default: true}),
  d('protect-kernel-defaults', 'protectKernelDefaults', 'bool', {default: false}),
  d('local-storage-capacity-isolation', 'localStorageCapacityIsolation', 'bool', {default: true}),
  d('allowed-unsafe-sysctls', 'allowedUnsafeSysctls', 'list', {default: []}),
  d('enforce-node-allocatable', 'enforceNodeAllocatable', 'list', {default: ['pods']}),
  d('system-reserved', 'systemReserved', 'map', {default: {}}),
  d('kube-reserved', 'kubeReserved', 'map', {default: {}}),
  d('system-reserved-cgroup', 'systemReservedCgroup', 'string', {default: ''}),
  d('kube-reserved-cgroup', 'kubeReservedCgroup', 'string', {default: ''}),
  d('reserved-cpus', 'reservedSystemCPUs', 'string', {default: ''}),
  d('eviction-hard', 'evictionHard', 'map', {mapSeparator: '<'}),
  d('eviction-soft', 'evictionSoft', 'map', {default: {}, mapSeparator: '<'}),
  d('eviction-pressure-transition-period', 'evictionPressureTransitionPeriod', 'duration', {default: '5m'}),
  d('feature-gates', 'featureGates', 'map', {default: {}, mapValues: 'bool'}),
  d('v', 'logging.verbosity', 'int', {default: 0, shorthand: 'v'}),
  d('vmodule', 'logging.vmodule', 'string'),
  // flag-only settings (KubeletFlags): they have no config field and must stay flags
  d('config', undefined, 'string', {default: '', path: true}),
  d('config-dir', undefined, 'string', {default: '', path: true}),
  d('kubeconfig', undefined, 'string', {default: '', path: true}),
  d('bootstrap-kubeconfig', undefined, 'string', {default: '', path: true}),
  d('hostname-override', undefined, 'string', {default: ''}),
  d('node-ip', undefined, 'string', {default: ''}),
  d('node-labels', undefined, 'map', {default: {}}),
  d('cert-dir', undefined, 'string', {default: '/var/lib/kubelet/pki', path: true}),
  d('root-dir', undefined, 'string', {default: '/var/lib/kubelet', path: true}),
  d('cloud-provider', undefined, 'string', {default: ''}),
  d('pod-infra-container-image', undefined, 'string'),
  d('runtime-cgroups', undefined, 'string', {default: ''}),
  d('image-credential-provider-config', undefined, 'string', {path: true}),
  d('image-credential-provider-bin-dir', undefined, 'string', {path: true}),
  d('lock-file', undefined, 'string', {path: true}),
  d('exit-on-lock-contention', undefined, 'bool', {default: false}),
  d('container-runtime', undefined, 'string'),
  d('network-plugin', undefined, 'string'),
  d('help', undefined, 'bool', {shorthand: 'h'}),
  // config fields without a flag
  d(undefined, 'shutdownGracePeriod', 'duration', {default: '0s'}),
  d(undefined, 'shutdownGracePeriodCriticalPods', 'duration', {default: '0s'}),
  d(undefined, 'podLogsDir', 'string', {default: '/var/log/pods'}),
  d(undefined, 'seccompDefault', 'bool', {default: false}),
]

const byFlag = new Map<string, FlagDef>()
const byField = new Map<string, FlagDef>()
const byFieldLower = new Map<string, FlagDef>()
for (const def of FLAGS) {
  if (def.flag) byFlag.set(def.flag, def)
  if (def.shorthand) byFlag.set(def.shorthand, def)
  if (def.field) {
    byField.set(def.field, def)
    byFieldLower.set(def.field.toLowerCase(), def)
  }
}

/** pflag with Kubernetes' WordSepNormalizeFunc: `--pod_manifest_path` is `--pod-manifest-path`. */
export function normalizeFlag(name: string): string {
  return name.replace(/^-+/, '').replaceAll('_', '-')
}

/**
 * A setting by flag name (`pod-manifest-path`, `--pod-manifest-path`, `pod_manifest_path`) or config
 * field (`staticPodPath`, case-insensitive; nested ones dotted: `authentication.x509.clientCAFile`).
 */
export function lookupFlag(key: string): FlagDef | undefined {
  const trimmed = key.trim()
  if (byField.has(trimmed)) return byField.get(trimmed)
  const flag = byFlag.get(normalizeFlag(trimmed))
  if (flag) return flag
  return byFieldLower.get(trimmed.toLowerCase())
}

/** Like lookupFlag, but an unknown key is a UserError naming the closest known flag or field. */
export function resolveKey(key: string): FlagDef {
  const def = lookupFlag(key)
  if (def) return def
  const names = [...byFlag.keys()].filter(k => k.length > 1).map(k => `--${k}`)
  const fields = [...byField.keys()]
  const candidates = [...names, ...fields]
  const bare = key.replace(/^-+/, '')
  const best = closest(bare, candidates.map(c => c.replace(/^--/, '')))
  const suggestion = candidates.find(c => c.replace(/^--/, '') === best)
  const near = best !== undefined && distance(bare.toLowerCase(), best.toLowerCase()) <= Math.max(3, Math.floor(bare.length / 3))
  throw new UserError(`unknown kubelet flag or config field "${key}"${near && suggestion ? ` (did you mean "${suggestion}"?)` : ''}`, {
    hints: ['Keys are kubelet flag names (pod-manifest-path) or KubeletConfiguration fields (staticPodPath).'],
  })
}

/** The name a setting is shown under: its config field when it has one, else its flag. */
export function settingKey(def: FlagDef): string {
  return def.field ?? def.flag!
}

/** One flag (or stray word) of a kubelet argv. */
export interface ParsedArg {
  /** How many argv words it took (2 for `--flag value`). */
  count: number
  def?: FlagDef
  /** Index of its first word in the argv. */
  index: number
  /** Normalized flag name (no dashes); for positional words, the word. */
  name: string
  /** A word that is not a flag: the kubelet refuses to start ("unknown command"). */
  positional?: boolean
  /** The value as given (`true` for a bare boolean flag). */
  value: string
}

/**
 * Split a kubelet argv (without argv[0]) into flags, as pflag does: `--flag=value`; `--flag value`
 * for flags that take a value (the next word, whatever it is); booleans as `--flag` or `--flag=false`
 * (never consuming the next word); `-v 2`, `-v=2`. Unknown flags: since the kubelet takes no
 * positional arguments, a following word that does not start with `-` is taken as their value.
 * `--` ends the flags.
 */
export function parseArgs(argv: readonly string[]): ParsedArg[] {
  const out: ParsedArg[] = []
  let i = 0
  while (i < argv.length) {
    const word = argv[i]!
    if (word === '--') {
      for (let j = i + 1; j < argv.length; j++) out.push({
        count: 1, index: j, name: argv[j]!, positional: true, value: argv[j]!,
      })
      break
    }

    if (!word.startsWith('-') || word === '-') {
      out.push({
        count: 1, index: i, name: word, positional: true, value: word,
      })
      i++
      continue
    }

    const long = word.startsWith('--')
    const body = word.slice(long ? 2 : 1)
    const eq = body.indexOf('=')
    const name = normalizeFlag(eq === -1 ? body : body.slice(0, eq))
    const def = long ? byFlag.get(name) : byFlag.get(name.slice(0, 1))
    if (!long && def?.shorthand && name.length > 1 && eq === -1) {
      // -v3: shorthand with the value attached
      out.push({
        count: 1, def, index: i, name: def.flag!, value: body.slice(1),
      })
      i++
      continue
    }

    const canonical = def?.flag ?? name
    if (eq !== -1) {
      out.push({
        count: 1, def, index: i, name: canonical, value: body.slice(eq + 1),
      })
      i++
    } else if (def?.kind === 'bool') {
      out.push({
        count: 1, def, index: i, name: canonical, value: 'true',
      })
      i++
    } else if (def && i + 1 < argv.length) {
      out.push({
        count: 2, def, index: i, name: canonical, value: argv[i + 1]!,
      })
      i += 2
    } else if (!def && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) {
      out.push({
        count: 2, index: i, name: canonical, value: argv[i + 1]!,
      })
      i += 2
    } else {
      out.push({
        count: 1, def, index: i, name: canonical, value: def ? '' : 'true',
      })
      i++
    }
  }

  return out
}

/** A flag's value after all its occurrences, with pflag's rules for repeats. */
export function foldFlagValues(def: FlagDef | undefined, values: readonly string[]): SettingValue {
  if (!def) return values.at(-1) ?? ''
  switch (def.kind) {
  case 'headers': {
    const out: Record<string, string[]> = {}
    for (const v of values) for (const [k, val] of parseHeaderPairs(v)) (out[k] ??= []).push(val)
    return out
  }

  case 'list': {
    return values.flatMap(v => splitList(v))
  }

  case 'map': {
    const out: Record<string, string> = {}
    for (const v of values) Object.assign(out, parseMapPairs(v, def.mapSeparator ?? '='))
    return out
  }

  default: {
    return scalarFromFlag(def, values.at(-1) ?? '')
  }
  }
}

function scalarFromFlag(def: FlagDef, value: string): SettingValue {
  if (def.kind === 'bool') return parseBool(value) ?? value
  if (def.kind === 'int') return /^[+-]?\d+$/.test(value) ? Number(value) : value
  return value
}

function parseBool(value: string): boolean | undefined {
  // Go's strconv.ParseBool
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false
  return undefined
}

function splitList(value: string): string[] {
  return value === '' ? [] : value.split(',').map(s => s.trim())
}

/** `a:hello,b:again` → [[a, hello], [b, again]] (cliflag ColonSeparatedMultimapStringString). */
export function parseHeaderPairs(value: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const pair of value.split(',')) {
    if (pair === '') continue
    const colon = pair.indexOf(':')
    if (colon === -1) throw new UserError(`malformed header "${pair}" in "${value}": expected name:value`)
    out.push([pair.slice(0, colon).trim(), pair.slice(colon + 1).trim()])
  }

  return out
}

function parseMapPairs(value: string, sep: '<' | '='): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of value.split(',')) {
    if (pair.trim() === '') continue
    const at = pair.indexOf(sep)
    if (at === -1) throw new UserError(`malformed pair "${pair}" in "${value}": expected key${sep}value`)
    out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim()
  }

  return out
}

const DURATION = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$|^0$/

/**
 * A value given by the user (`--set key=value`) for `def`, checked. Lists: `a,b` or a JSON array;
 * maps: `k=v,k2=v2` or a JSON object; headers: `a:hello,b:again` (the flag's syntax) or JSON
 * `{"a": ["hello"]}`.
 */
export function parseUserValue(def: FlagDef, text: string): SettingValue {
  const name = settingKey(def)
  const json = (): unknown => {
    try {
      return JSON.parse(text)
    } catch {
      throw new UserError(`${name}: "${text}" is not valid JSON`)
    }
  }

  switch (def.kind) {
  case 'bool': {
    const b = parseBool(text)
    if (b === undefined) throw new UserError(`${name} takes true or false, not "${text}"`)
    return b
  }

  case 'duration': {
    if (!DURATION.test(text)) throw new UserError(`${name} takes a duration such as 20s, 1m30s or 500ms, not "${text}"`)
    return text
  }

  case 'headers': {
    if (text.trim().startsWith('{')) {
      const v = json()
      if (!isRecord(v) || !Object.values(v).every(x => Array.isArray(x) && x.every(s => typeof s === 'string'))) {
        throw new UserError(`${name} takes {"Header": ["value", …]} or name:value,name:value`)
      }

      return v as Record<string, string[]>
    }

    return foldFlagValues(def, [text])
  }

  case 'int': {
    if (!/^[+-]?\d+$/.test(text.trim())) throw new UserError(`${name} takes an integer, not "${text}"`)
    return Number(text.trim())
  }

  case 'list': {
    if (text.trim().startsWith('[')) {
      const v = json()
      if (!Array.isArray(v) || !v.every(s => typeof s === 'string')) throw new UserError(`${name} takes a list of strings`)
      return v as string[]
    }

    return splitList(text)
  }

  case 'map': {
    if (text.trim().startsWith('{')) {
      const v = json()
      if (!isRecord(v)) throw new UserError(`${name} takes an object`)
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]))
    }

    return parseMapPairs(text, def.mapSeparator ?? '=')
  }

  default: {
    return text
  }
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * A setting's value as flag values, one per occurrence (`--manifest-url-header` is written once with
 * all pairs; maps as `k=v,k2=v2`).
 */
export function formatFlagValues(def: FlagDef, value: SettingValue): string[] {
  if (def.kind === 'headers' && isRecord(value)) {
    const pairs = Object.entries(value).flatMap(([k, vs]) => (Array.isArray(vs) ? vs : [vs]).map(v => `${k}:${v}`))
    return pairs.length === 0 ? [] : [pairs.join(',')]
  }

  return [formatValue(def, value)]
}

/** A value in flag syntax, for display and for writing flags. */
export function formatValue(def: FlagDef | undefined, value: SettingValue): string {
  if (Array.isArray(value)) return value.join(',')
  if (isRecord(value)) {
    if (def?.kind === 'headers') return formatFlagValues(def, value).join(',')
    const sep = def?.mapSeparator ?? '='
    return Object.entries(value).map(([k, v]) => `${k}${sep}${Array.isArray(v) ? v.join(',') : v}`).join(',')
  }

  return String(value)
}

/** A config-file (YAML/JSON) value as a SettingValue for `def`. */
export function fromConfigValue(def: FlagDef | undefined, value: unknown): SettingValue {
  if (value === null || value === undefined) return def?.default ?? ''
  if (def?.kind === 'headers' && isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : [String(v)]]))
  }

  if (def?.kind === 'map' && isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]))
  if (Array.isArray(value)) return value.map(String)
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value
  return JSON.stringify(value)
}

/** A SettingValue as it is written in a KubeletConfiguration file. */
export function toConfigValue(def: FlagDef, value: SettingValue): unknown {
  if (def.kind === 'map' && def.mapValues === 'bool' && isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, parseBool(String(v)) ?? v]))
  }

  if (def.kind === 'int' && typeof value === 'string' && /^[+-]?\d+$/.test(value)) return Number(value)
  if (def.kind === 'bool' && typeof value === 'string') return parseBool(value) ?? value
  return value
}

/** Two values are the same setting (comparing in flag syntax). */
export function sameValue(def: FlagDef | undefined, a: SettingValue, b: SettingValue): boolean {
  return formatValue(def, a) === formatValue(def, b)
}

/** `/proc/<pid>/cmdline`: NUL-separated words, usually with a trailing NUL. */
export function parseCmdline(raw: string): string[] {
  const words = raw.split('\0')
  if (words.at(-1) === '') words.pop()
  return words
}

/** Where a word of an expanded ExecStart came from. */
export interface ExpandedWord {
  /** The variable whose value gave the word; undefined for a word written in the unit itself. */
  variable?: string
  word: string
}

export interface Expansion {
  /** Names that were referenced but not set (they expand to nothing). */
  unset: string[]
  words: ExpandedWord[]
}

const ENV_NAME = /^[A-Z_a-z]\w*$/

/**
 * Expand environment variables in an ExecStart= argv the way systemd does (`replace_env_argv`):
 * a word that is exactly `$NAME` becomes the variable's value split into words (quotes in the value
 * are honoured and removed); `${NAME}` anywhere in a word is replaced by the value as is, keeping one
 * word; `$$` is a literal `$`; `$NAME` inside a longer word is left alone. Unset variables expand
 * to nothing. `noExpand` (the `:` prefix) turns all of it off.
 */
export function expandExecArgs(argv: readonly string[], env: ReadonlyMap<string, string>, noExpand = false): Expansion {
  const words: ExpandedWord[] = []
  const unset = new Set<string>()
  for (const word of argv) {
    if (noExpand) {
      words.push({word})
      continue
    }

    if (word.startsWith('$') && word[1] !== '{' && word[1] !== '$') {
      const name = word.slice(1)
      const value = ENV_NAME.test(name) ? env.get(name) : undefined
      if (value === undefined) {
        unset.add(name)
        continue
      }

      for (const w of splitWords(value, {relax: true}).words) words.push({variable: name, word: w.text})
      continue
    }

    let out = ''
    let variable: string | undefined
    let i = 0
    while (i < word.length) {
      if (word[i] === '$' && word[i + 1] === '$') {
        out += '$'
        i += 2
      } else if (word[i] === '$' && word[i + 1] === '{') {
        const close = word.indexOf('}', i + 2)
        if (close === -1) {
          out += word.slice(i)
          break
        }

        const name = word.slice(i + 2, close)
        if (name.includes(':')) {
          // ${NAME:-default} is not supported in ExecStart=: systemd leaves it as written.
          out += word.slice(i, close + 1)
          i = close + 1
          continue
        }

        const value = ENV_NAME.test(name) ? env.get(name) : undefined
        if (value === undefined) unset.add(name)
        else variable ??= name
        out += value ?? ''
        i = close + 1
      } else {
        out += word[i]
        i++
      }
    }

    words.push({variable, word: out})
  }

  return {unset: [...unset], words}
}
