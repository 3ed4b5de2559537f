// The kubelet's configuration: defaults, then the --config file, then the --config-dir drop-ins (*.conf, sorted),
// then command-line flags (kubelet-facts §3.1). Errors carry the real kubelet's texts, so that a bad edit shows
// up in the journal as it would on a node.
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {parseAllDocuments} from 'yaml'

import {goYamlError, parseGoDuration} from '../../shared/util.js'
import {lastValue, type ParsedFlags, urlHeaders} from './flags.js'

export type Json = Record<string, unknown>

export interface EffectiveConfig {
  /** The merged KubeletConfiguration (what /configz would show under `kubeletconfig`). */
  config: Json
  containerRuntimeEndpoint: string
  fileCheckFrequencyMs: number
  healthzBindAddress: string
  healthzPort: number
  hostnameOverride: string | undefined
  httpCheckFrequencyMs: number
  kubeconfig: string | undefined
  nodeIp: string | undefined
  nodeLabels: Record<string, string>
  nodeStatusUpdateFrequencyMs: number
  registerNode: boolean
  staticPodPath: string
  staticPodURL: string
  staticPodURLHeader: Record<string, string[]> | undefined
  syncFrequencyMs: number
  /** Lines to log once logging is up (lenient decoding warnings). */
  warnings: {message: string; values: unknown[]}[]
}

export class ConfigError extends Error {}

type FieldType = 'bool' | 'duration' | 'int32' | 'map' | 'object' | 'string' | 'strings'

/** KubeletConfiguration (kubelet.config.k8s.io/v1beta1) fields; the type is checked for the ones listed with one. */
const FIELDS: Record<string, FieldType | undefined> = {
  address: 'string',
  allowedUnsafeSysctls: 'strings',
  apiVersion: 'string',
  authentication: 'object',
  authorization: 'object',
  cgroupDriver: 'string',
  cgroupRoot: 'string',
  cgroupsPerQOS: 'bool',
  clusterDNS: 'strings',
  clusterDomain: 'string',
  configMapAndSecretChangeDetectionStrategy: 'string',
  containerLogMaxFiles: 'int32',
  containerLogMaxSize: 'string',
  containerLogMaxWorkers: 'int32',
  containerLogMonitorInterval: 'duration',
  containerRuntimeEndpoint: 'string',
  contentType: 'string',
  cpuCFSQuota: 'bool',
  cpuCFSQuotaPeriod: 'duration',
  cpuManagerPolicy: 'string',
  cpuManagerPolicyOptions: 'map',
  cpuManagerReconcilePeriod: 'duration',
  crashLoopBackOff: 'object',
  enableContentionProfiling: 'bool',
  enableControllerAttachDetach: 'bool',
  enableDebugFlagsHandler: 'bool',
  enableDebuggingHandlers: 'bool',
  enableProfilingHandler: 'bool',
  enableServer: 'bool',
  enableSystemLogHandler: 'bool',
  enableSystemLogQuery: 'bool',
  enforceNodeAllocatable: 'strings',
  eventBurst: 'int32',
  eventRecordQPS: 'int32',
  evictionHard: 'map',
  evictionMaxPodGracePeriod: 'int32',
  evictionMinimumReclaim: 'map',
  evictionPressureTransitionPeriod: 'duration',
  evictionSoft: 'map',
  evictionSoftGracePeriod: 'map',
  failCgroupV1: 'bool',
  failSwapOn: 'bool',
  featureGates: 'object',
  fileCheckFrequency: 'duration',
  hairpinMode: 'string',
  healthzBindAddress: 'string',
  healthzPort: 'int32',
  httpCheckFrequency: 'duration',
  imageGCHighThresholdPercent: 'int32',
  imageGCLowThresholdPercent: 'int32',
  imageMaximumGCAge: 'duration',
  imageMinimumGCAge: 'duration',
  imagePullCredentialsVerificationPolicy: 'string',
  imageServiceEndpoint: 'string',
  iptablesDropBit: 'int32',
  iptablesMasqueradeBit: 'int32',
  kernelMemcgNotification: 'bool',
  kind: 'string',
  kubeAPIBurst: 'int32',
  kubeAPIQPS: 'int32',
  kubeletCgroups: 'string',
  kubeReserved: 'map',
  kubeReservedCgroup: 'string',
  localStorageCapacityIsolation: 'bool',
  logging: 'object',
  makeIPTablesUtilChains: 'bool',
  maxOpenFiles: 'int32',
  maxParallelImagePulls: 'int32',
  maxPods: 'int32',
  memoryManagerPolicy: 'string',
  memorySwap: 'object',
  memoryThrottlingFactor: undefined,
  mergeDefaultEvictionSettings: 'bool',
  nodeLeaseDurationSeconds: 'int32',
  nodeStatusMaxImages: 'int32',
  nodeStatusReportFrequency: 'duration',
  nodeStatusUpdateFrequency: 'duration',
  oomScoreAdj: 'int32',
  podCIDR: 'string',
  podLogsDir: 'string',
  podPidsLimit: 'int32',
  podsPerCore: 'int32',
  port: 'int32',
  preloadedImagesVerificationAllowlist: 'strings',
  protectKernelDefaults: 'bool',
  providerID: 'string',
  qosReserved: 'map',
  readOnlyPort: 'int32',
  registerNode: 'bool',
  registerWithTaints: undefined,
  registryBurst: 'int32',
  registryPullQPS: 'int32',
  reservedMemory: undefined,
  reservedSystemCPUs: 'string',
  resolvConf: 'string',
  rotateCertificates: 'bool',
  runOnce: 'bool',
  runtimeRequestTimeout: 'duration',
  seccompDefault: 'bool',
  serializeImagePulls: 'bool',
  serverTLSBootstrap: 'bool',
  showHiddenMetricsForVersion: 'string',
  shutdownGracePeriod: 'duration',
  shutdownGracePeriodByPodPriority: undefined,
  shutdownGracePeriodCriticalPods: 'duration',
  singleProcessOOMKill: 'bool',
  staticPodPath: 'string',
  staticPodURL: 'string',
  staticPodURLHeader: 'object',
  streamingConnectionIdleTimeout: 'duration',
  syncFrequency: 'duration',
  systemCgroups: 'string',
  systemReserved: 'map',
  systemReservedCgroup: 'string',
  tlsCertFile: 'string',
  tlsCipherSuites: 'strings',
  tlsMinVersion: 'string',
  tlsPrivateKeyFile: 'string',
  topologyManagerPolicy: 'string',
  topologyManagerPolicyOptions: 'map',
  topologyManagerScope: 'string',
  tracing: 'object',
  userNamespaces: 'object',
  volumePluginDir: 'string',
  volumeStatsAggPeriod: 'duration',
}

const GO_TYPES: Record<FieldType, string> = {
  bool: 'bool',
  duration: 'string',
  int32: 'int32',
  map: 'map[string]string',
  object: 'struct',
  string: 'string',
  strings: '[]string',
}

/** v1beta1 defaults of the fields the simulator uses (SetDefaults_KubeletConfiguration). */
export function defaultConfig(): Json {
  return {
    address: '0.0.0.0',
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    fileCheckFrequency: '20s',
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10_248,
    httpCheckFrequency: '20s',
    kind: 'KubeletConfiguration',
    maxPods: 110,
    nodeStatusUpdateFrequency: '10s',
    port: 10_250,
    registerNode: true,
    syncFrequency: '1m0s',
  }
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array'
  if (value === null) return 'null'
  if (typeof value === 'boolean') return 'bool'
  return typeof value === 'object' ? 'object' : typeof value
}

function checkType(field: string, type: FieldType, value: unknown): void {
  if (value === null) return
  const fail = () => {
    throw new ConfigError(`json: cannot unmarshal ${jsonType(value)} into Go struct field KubeletConfiguration.${field} of type ${GO_TYPES[type]}`)
  }

  switch (type) {
  case 'bool': {
    if (typeof value !== 'boolean') fail()
    break
  }

  case 'duration': {
    if (typeof value !== 'string') fail()
    parseGoDuration(value as string)
    break
  }

  case 'int32': {
    if (typeof value !== 'number' || !Number.isInteger(value)) fail()
    break
  }

  case 'map':
  case 'object': {
    if (typeof value !== 'object' || Array.isArray(value)) fail()
    break
  }

  case 'string': {
    if (typeof value !== 'string') fail()
    break
  }

  case 'strings': {
    if (!Array.isArray(value) || value.some(item => typeof item !== 'string')) fail()
    break
  }
  }
}

/** DecodeKubeletConfiguration: strict first; unknown fields fall back to lenient decoding with a logged warning. */
export function decodeConfig(text: string, warnings: EffectiveConfig['warnings']): Json {
  const first = parseAllDocuments(text, {version: '1.1'})[0]
  if (first?.errors[0]) {
    const error = first.errors[0]
    throw new ConfigError(`failed to decode: error converting YAML to JSON: ${goYamlError(error)}`)
  }

  const value: unknown = first ? first.toJS() : null
  const shown = JSON.stringify(value) ?? 'null'
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`failed to decode: Object 'Kind' is missing in '${shown}'`)
  }

  const object = value as Json
  if (typeof object.kind !== 'string' || object.kind === '') throw new ConfigError(`failed to decode: Object 'Kind' is missing in '${shown}'`)
  if (typeof object.apiVersion !== 'string' || object.apiVersion === '') {
    throw new ConfigError(`failed to decode: Object 'apiVersion' is missing in '${shown}'`)
  }

  if (object.kind !== 'KubeletConfiguration' || object.apiVersion !== 'kubelet.config.k8s.io/v1beta1') {
    throw new ConfigError(`failed to decode: no kind "${object.kind}" is registered for version "${object.apiVersion}" in scheme "pkg/kubelet/apis/config/scheme/scheme.go:33"`)
  }

  const unknown: string[] = []
  for (const [field, fieldValue] of Object.entries(object)) {
    if (!(field in FIELDS)) {
      unknown.push(field)
      continue
    }

    const type = FIELDS[field]
    if (type) {
      try {
        checkType(field, type, fieldValue)
      } catch (error) {
        throw new ConfigError(`failed to decode: ${(error as Error).message}`)
      }
    }
  }

  if (unknown.length > 0) {
    const detail = unknown.map(field => `unknown field "${field}"`).join(', ')
    warnings.push({message: 'Using lenient decoding as strict decoding failed', values: ['err', `strict decoding error: ${detail}`]})
    for (const field of unknown) delete object[field]
  }

  return object
}

/** loadConfigFile: the error chain a real kubelet prints for a bad --config. */
function loadConfigFile(file: string, warnings: EffectiveConfig['warnings']): Json {
  const wrap = (detail: string) =>
    new ConfigError(`failed to load kubelet config file, path: ${file}, error: failed to load Kubelet config file ${file}, error ${detail}`)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const {code} = error as NodeJS.ErrnoException
    const reason = ERRNO_TEXT[code ?? ''] ?? String(code)
    throw wrap(`failed to read kubelet config file ${JSON.stringify(file)}, error: open ${file}: ${reason}`)
  }

  if (text.length === 0) throw wrap(`kubelet config file ${JSON.stringify(file)} was empty`)
  try {
    return decodeConfig(text, warnings)
  } catch (error) {
    throw wrap((error as Error).message)
  }
}

/** Merges the drop-ins of --config-dir (only *.conf, sorted; maps merge, lists and scalars replace). */
function mergeDropIns(config: Json, dir: string, warnings: EffectiveConfig['warnings']): void {
  let entries: string[]
  try {
    entries = readdirSync(dir).filter(name => name.endsWith('.conf')).sort()
  } catch (error) {
    throw new ConfigError(`failed to merge kubelet configs: failed to read dir ${dir}: ${(error as Error).message}`)
  }

  for (const name of entries) {
    const file = path.join(dir, name)
    let dropIn: Json
    try {
      dropIn = decodeConfig(readFileSync(file, 'utf8'), warnings)
    } catch (error) {
      throw new ConfigError(`failed to merge kubelet configs: failed to load kubelet dropin file, path: ${file}, error: ${(error as Error).message}`)
    }

    for (const [field, value] of Object.entries(dropIn)) {
      const current = config[field]
      config[field]
        = value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)
          ? {...(current as Json), ...(value as Json)}
          : value
    }
  }
}

/**
 * SetDefaults_KubeletConfiguration runs when a file is decoded: zero durations and empty strings mean "the default"
 * (kubeadm writes `fileCheckFrequency: 0s`), while healthzPort is a pointer, so an explicit 0 disables healthz.
 */
function applyDefaults(config: Json): void {
  const defaults = defaultConfig()
  for (const field of ['fileCheckFrequency', 'httpCheckFrequency', 'nodeStatusUpdateFrequency', 'syncFrequency']) {
    if (typeof config[field] !== 'string' || parseGoDuration(config[field] as string) === 0) config[field] = defaults[field]
  }

  for (const field of ['address', 'cgroupDriver', 'containerRuntimeEndpoint', 'healthzBindAddress']) {
    if (config[field] === '' || config[field] === undefined || config[field] === null) config[field] = defaults[field]
  }

  for (const field of ['maxPods', 'port']) {
    if (config[field] === 0 || config[field] === undefined || config[field] === null) config[field] = defaults[field]
  }

  if (config.healthzPort === undefined || config.healthzPort === null) config.healthzPort = defaults.healthzPort
}

const ERRNO_TEXT: Record<string, string> = {EACCES: 'permission denied', EISDIR: 'is a directory', ENOENT: 'no such file or directory'}

function flagValue(kind: 'bool' | 'int' | 'string' | 'strings', value: string): unknown {
  switch (kind) {
  case 'bool': {
    return /^(1|t|true)$/i.test(value)
  }

  case 'int': {
    return Number(value)
  }

  case 'string': {
    return value
  }

  case 'strings': {
    return value.split(',')
  }
  }
}

/** Config fields set by flags, and the flag that sets each. */
const FLAG_FIELDS: [flag: string, field: string, kind: 'bool' | 'int' | 'string' | 'strings'][] = [
  ['address', 'address', 'string'],
  ['cgroup-driver', 'cgroupDriver', 'string'],
  ['cluster-dns', 'clusterDNS', 'strings'],
  ['cluster-domain', 'clusterDomain', 'string'],
  ['container-runtime-endpoint', 'containerRuntimeEndpoint', 'string'],
  ['fail-swap-on', 'failSwapOn', 'bool'],
  ['file-check-frequency', 'fileCheckFrequency', 'string'],
  ['healthz-bind-address', 'healthzBindAddress', 'string'],
  ['healthz-port', 'healthzPort', 'int'],
  ['http-check-frequency', 'httpCheckFrequency', 'string'],
  ['manifest-url', 'staticPodURL', 'string'],
  ['max-pods', 'maxPods', 'int'],
  ['node-status-update-frequency', 'nodeStatusUpdateFrequency', 'string'],
  ['pod-manifest-path', 'staticPodPath', 'string'],
  ['port', 'port', 'int'],
  ['read-only-port', 'readOnlyPort', 'int'],
  ['register-node', 'registerNode', 'bool'],
  ['sync-frequency', 'syncFrequency', 'string'],
]

/** ValidateKubeletConfiguration, for the fields the simulator acts on. */
function validate(config: Json): void {
  const errors: string[] = []
  const port = config.healthzPort as number
  if (port !== 0 && (port < 1 || port > 65_535)) {
    errors.push(`invalid configuration: healthzPort (--healthz-port) ${port} must be between 1 and 65535, inclusive`)
  }

  for (const [field, flag] of [
    ['fileCheckFrequency', 'file-check-frequency'],
    ['httpCheckFrequency', 'http-check-frequency'],
    ['syncFrequency', 'sync-frequency'],
  ] as const) {
    if (parseGoDuration(config[field] as string) < 0) {
      errors.push(`invalid configuration: ${field} (--${flag}) ${String(config[field])} must not be a negative number`)
    }
  }

  const maxPods = config.maxPods as number
  if (maxPods < 0) errors.push(`invalid configuration: maxPods (--max-pods) ${maxPods} must not be a negative number`)
  if (errors.length > 0) {
    throw new ConfigError(`failed to validate kubelet configuration, error: [${errors.join(', ')}], path: &TypeMeta{Kind:KubeletConfiguration,APIVersion:kubelet.config.k8s.io/v1beta1,}`)
  }
}

/** Flags → effective configuration; throws ConfigError with the kubelet's message for a bad config. */
export function effectiveConfig(flags: ParsedFlags): EffectiveConfig {
  const warnings: EffectiveConfig['warnings'] = []
  let config = defaultConfig()
  const configFile = lastValue(flags, 'config')
  if (configFile) config = {...config, ...loadConfigFile(path.resolve(configFile), warnings)}
  const configDir = lastValue(flags, 'config-dir')
  if (configDir) {
    if (!existsSync(configDir)) throw new ConfigError(`failed to merge kubelet configs: stat ${configDir}: no such file or directory`)
    mergeDropIns(config, configDir, warnings)
  }

  applyDefaults(config)
  for (const [flag, field, kind] of FLAG_FIELDS) {
    const value = lastValue(flags, flag)
    if (value === undefined) continue
    config[field] = flagValue(kind, value)
  }

  const headers = urlHeaders(flags)
  if (headers) config.staticPodURLHeader = headers
  validate(config)
  const nodeLabels: Record<string, string> = {}
  for (const value of flags.values.get('node-labels') ?? []) {
    for (const pair of value.split(',')) {
      if (pair === '') continue
      const eq = pair.indexOf('=')
      nodeLabels[pair.slice(0, eq)] = pair.slice(eq + 1)
    }
  }

  return {
    config,
    containerRuntimeEndpoint: config.containerRuntimeEndpoint as string,
    fileCheckFrequencyMs: parseGoDuration(config.fileCheckFrequency as string),
    healthzBindAddress: config.healthzBindAddress as string,
    healthzPort: config.healthzPort as number,
    hostnameOverride: lastValue(flags, 'hostname-override'),
    httpCheckFrequencyMs: parseGoDuration(config.httpCheckFrequency as string),
    kubeconfig: lastValue(flags, 'kubeconfig') || undefined,
    nodeIp: lastValue(flags, 'node-ip'),
    nodeLabels,
    nodeStatusUpdateFrequencyMs: parseGoDuration(config.nodeStatusUpdateFrequency as string),
    registerNode: config.registerNode !== false,
    staticPodPath: (config.staticPodPath as string | undefined) ?? '',
    staticPodURL: (config.staticPodURL as string | undefined) ?? '',
    staticPodURLHeader: config.staticPodURLHeader as Record<string, string[]> | undefined,
    syncFrequencyMs: parseGoDuration(config.syncFrequency as string),
    warnings,
  }
}
