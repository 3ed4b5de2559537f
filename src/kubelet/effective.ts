/**
 * The kubelet's effective settings on one node, computed from the texts of the files that feed it
 * (unit, drop-ins, environment files, --config file, --config-dir drop-ins) and, when there is one,
 * the running kubelet's command line. Precedence is the kubelet's: defaults < --config file <
 * --config-dir drop-ins < command-line flags, and among flags the last occurrence wins (lists and
 * maps accumulate), so KUBELET_EXTRA_ARGS, last in kubeadm's ExecStart=, beats KUBELET_KUBEADM_ARGS.
 *
 * Also: the layout (kubeadm, fedora, kubespray, config-file-only, k3s, rke2), the static pod
 * directory (feature "manifests on nodes"), the healthz endpoint, the files to fetch in one round trip,
 * and planEdit: where a `--set`/`--unset` is written on this node, as new file contents.
 */
import {basename, dirname, posix} from 'node:path'

import {UserError} from '../errors.js'
import {
  configDirDropIns, getField, parseKubeletConfig, setConfigField, unsetConfigField,
} from './config-file.js'
import {
  editEnvFileFlags, envFileValues, type FlagChange, parseEnvFile,
} from './env-file.js'
import {
  expandExecArgs, type FlagDef, FLAGS, foldFlagValues, formatFlagValues, formatValue, fromConfigValue, lookupFlag,
  parseArgs, parseCmdline, parseUserValue, resolveKey, sameValue, settingKey, type SettingValue, toConfigValue,
} from './flags.js'
import {
  dropInDirs, type ServiceConfig, UNIT_DIRS, unitFromFiles, unitFromSystemctlCat,
} from './systemd.js'

export type Layout = 'config-file-only' | 'fedora' | 'k3s' | 'kubeadm' | 'kubespray' | 'rke2' | 'unknown'

/** Where a value comes from. */
type FileSource = {environment: string; file: string} | {execStart: true; file: string} | {field: string; file: string} | {file: string; variable: string}
export type SettingSource = FileSource | {cmdline: true} | {default: true; legacy?: boolean} | {layout: Layout}

export interface Setting {
  field?: string
  flag?: string
  /** The config field when the setting has one, else the flag name. */
  key: string
  /** Something worth knowing about the value (e.g. a zero the kubelet replaces by its default). */
  note?: string
  /** Values from lower-precedence sources that lost, lowest first. */
  overridden: Array<{source: SettingSource; value: SettingValue}>
  source: SettingSource
  value: SettingValue
}

/** What the I/O layer read from the node. */
export interface KubeletNodeFiles {
  /** The running kubelet's /proc/<pid>/cmdline (NUL-separated) or its argv. */
  cmdline?: readonly string[] | string
  /** Paths known to exist besides the files (directories such as /etc/rancher/k3s). */
  existing?: Iterable<string>
  /**
   * path → content; undefined: looked for and absent. A path not in the map was not looked at (see
   * `unfetched` in the result). Files inside the listed directories of KUBELET_FILES appear under
   * their own paths.
   */
  files: Readonly<Record<string, string | undefined>> | ReadonlyMap<string, string | undefined>
  /** `systemctl cat kubelet` output, used instead of the unit files when given. */
  systemctlCat?: string
}

/**
 * Every file a node may have that feeds its kubelet, so the I/O layer can read them all in one round
 * trip: `files` are read when they exist; every `*.conf` file directly in `dirs` is read too (drop-in
 * directories); `probe` paths are only tested for existence (k3s, RKE2).
 */
export const KUBELET_FILES = {
  dirs: [
    ...dropInDirs('kubelet.service'),
    '/etc/kubernetes/kubelet.conf.d',
    '/var/lib/kubelet/config.d',
    '/var/lib/rancher/k3s/agent/etc/kubelet.conf.d',
    '/var/lib/rancher/rke2/agent/etc/kubelet.conf.d',
  ],
  files: [
    ...UNIT_DIRS.map(d => `${d}/kubelet.service`),
    '/var/lib/kubelet/kubeadm-flags.env',
    '/etc/default/kubelet',
    '/etc/sysconfig/kubelet',
    '/etc/kubernetes/kubelet',
    '/etc/kubernetes/config',
    '/etc/kubernetes/kubelet.env',
    '/var/lib/kubelet/config.yaml',
    '/etc/kubernetes/kubelet-config.yaml',
    '/etc/rancher/k3s/config.yaml',
    '/etc/rancher/rke2/config.yaml',
  ],
  probe: ['/etc/rancher/k3s', '/var/lib/rancher/k3s', '/etc/rancher/rke2', '/var/lib/rancher/rke2'],
} as const

export const DEFAULT_CONFIG_PATH = '/var/lib/kubelet/config.yaml'
export const KUBEADM_FLAGS_ENV = '/var/lib/kubelet/kubeadm-flags.env'
export const DEFAULT_MANIFEST_DIR = '/etc/kubernetes/manifests'
export const K3S_MANIFEST_DIR = '/var/lib/rancher/k3s/agent/pod-manifests'
export const RKE2_MANIFEST_DIR = '/var/lib/rancher/rke2/agent/pod-manifests'

/** The settings staticpod always reports, even at their defaults. */
const CORE = ['staticPodPath', 'staticPodURL', 'staticPodURLHeader', 'fileCheckFrequency', 'httpCheckFrequency', 'syncFrequency', 'healthzPort', 'healthzBindAddress']

/** Fields where the kubelet's defaulting replaces a zero value written in the --config file. */
const ZERO_IS_DEFAULT = new Set([
  'address',
  'authorization.mode',
  'cgroupDriver',
  'containerLogMaxSize',
  'containerRuntimeEndpoint',
  'contentType',
  'cpuManagerPolicy',
  'eventBurst',
  'hairpinMode',
  'healthzBindAddress',
  'kubeAPIBurst',
  'maxOpenFiles',
  'maxPods',
  'memoryManagerPolicy',
  'podLogsDir',
  'port',
  'registryBurst',
  'topologyManagerPolicy',
  'volumePluginDir',
])

/** One flag on the kubelet's command line and where it was written. */
export interface FlagOccurrence {
  def?: FlagDef
  name: string
  source: SettingSource
  value: string
}

/** An environment file the unit reads, and what it holds. */
export interface EnvFileRef {
  exists: boolean
  optional: boolean
  path: string
  /** Variable names it assigns (as systemd reads them). */
  variables: string[]
}

export interface KubeletEffective {
  /** The kubelet argv the unit files give (expanded), when a kubelet unit was found. */
  argv?: string[]
  /** The --config-dir directory and the drop-ins in it, in the order they apply. */
  configDir?: string
  configDropIns: string[]
  /** The --config file the kubelet reads (undefined: none). */
  configFile?: string
  configFileExists: boolean
  envFiles: EnvFileRef[]
  /** Flags in command-line order with their sources (the running command line when known). */
  flags: FlagOccurrence[]
  /** What the computation was given besides the files (planEdit checks its result with it). */
  input: {existing: string[]; systemctlCat?: string}
  layout: Layout
  /** The running kubelet's argv, when given. */
  running?: string[]
  settings: Setting[]
  /** The file texts the computation used (for planEdit). */
  texts: ReadonlyMap<string, string | undefined>
  /** Paths that were needed but not in the files map: fetch them and compute again. */
  unfetched: string[]
  unit?: ServiceConfig
  warnings: string[]
}

function toMap(files: KubeletNodeFiles['files']): Map<string, string | undefined> {
  return files instanceof Map ? new Map(files) : new Map(Object.entries(files))
}

/** What the steps of computeEffective share. */
interface Context {
  existing: Set<string>
  read: (path: string) => string | undefined
  texts: ReadonlyMap<string, string | undefined>
  unfetched: Set<string>
  warnings: string[]
}

type Environment = Map<string, {source: SettingSource; value: string}>

/** Compute a node's effective kubelet settings. Pure: never reads anything itself. */
export function computeEffective(input: KubeletNodeFiles): KubeletEffective {
  const texts = toMap(input.files)
  const existing = new Set<string>([...texts.entries()].filter(([, v]) => v !== undefined).map(([k]) => k))
  for (const p of input.existing ?? []) existing.add(p)
  const unfetched = new Set<string>()
  const ctx: Context = {
    existing,
    read(p) {
      if (!texts.has(p)) unfetched.add(p)
      return texts.get(p)
    },
    texts,
    unfetched,
    warnings: [],
  }

  // The unit: from `systemctl cat` when given, else from the files.
  const unit = input.systemctlCat === undefined
    ? unitFromFiles(existing, p => texts.get(p))
    : unitFromSystemctlCat(input.systemctlCat)
  if (unit) ctx.warnings.push(...unit.warnings)
  const {env, envFiles} = resolveEnvironment(ctx, unit)
  const configured = configuredCommandLine(ctx, unit, env)
  const running = input.cmdline === undefined ? undefined : runningCommandLine(ctx, input.cmdline, configured?.flags)
  const flags = running?.flags ?? configured?.flags ?? []
  const layout = detectLayout(unit, existing, texts)
  const config = locateConfig(ctx, {
    flags, haveCommandLine: configured !== undefined || running !== undefined, layout, running: running !== undefined,
  })
  const settings = buildSettings({
    configFile: config.configFile, flags, hasConfig: config.configFileExists, layers: config.layers, layout,
  })
  return {
    argv: configured?.argv,
    configDir: config.configDir,
    configDropIns: config.configDropIns,
    configFile: config.configFile,
    configFileExists: config.configFileExists,
    envFiles,
    flags,
    input: {existing: [...input.existing ?? []], ...(input.systemctlCat === undefined ? {} : {systemctlCat: input.systemctlCat})},
    layout,
    running: running?.argv,
    settings,
    texts,
    unfetched: [...unfetched].sort(),
    unit,
    warnings: ctx.warnings,
  }
}

/** The service's environment: Environment= entries, overridden by the EnvironmentFile= files in order. */
function resolveEnvironment(ctx: Context, unit: ServiceConfig | undefined): {env: Environment; envFiles: EnvFileRef[]} {
  const env: Environment = new Map()
  for (const e of unit?.environment ?? []) env.set(e.name, {source: {environment: e.name, file: e.source.path}, value: e.value})
  const envFiles: EnvFileRef[] = []
  for (const ef of unit?.environmentFiles ?? []) {
    const text = ctx.read(ef.path)
    if (text === undefined) {
      envFiles.push({
        exists: false, optional: ef.optional, path: ef.path, variables: [],
      })
      if (!ef.optional && ctx.texts.has(ef.path)) ctx.warnings.push(`${ef.path} (EnvironmentFile= without "-") is missing: systemd will not start the kubelet`)
      continue
    }

    const parsed = parseEnvFile(text)
    ctx.warnings.push(...parsed.warnings.map(w => `${ef.path}: ${w}`))
    const values = envFileValues(parsed)
    envFiles.push({
      exists: true, optional: ef.optional, path: ef.path, variables: [...values.keys()],
    })
    for (const [name, value] of values) env.set(name, {source: {file: ef.path, variable: name}, value})
  }

  return {env, envFiles}
}

/** The kubelet command line the unit gives: ExecStart= expanded, each flag with the file it comes from. */
function configuredCommandLine(ctx: Context, unit: ServiceConfig | undefined, env: Environment): undefined | {argv: string[]; flags: FlagOccurrence[]} {
  const exec = unit?.execStart.at(-1)
  if (!unit || !exec) return undefined
  if (unit.execStart.length > 1) ctx.warnings.push(`${unit.unit} has ${unit.execStart.length} ExecStart= lines: systemd refuses to start a Type=simple service like that`)
  if (!isKubelet(exec.argv[0] ?? exec.path)) {
    ctx.warnings.push(`${unit.unit} does not run a kubelet (${exec.argv[0] ?? exec.path})`)
    return undefined
  }

  const expansion = expandExecArgs(exec.argv, new Map([...env].map(([k, v]) => [k, v.value])), exec.noEnvExpand)
  const argv = expansion.words.map(w => w.word)
  const inUnit: SettingSource = {execStart: true, file: exec.source.path}
  const flags = parseArgs(argv.slice(1)).map(arg => {
    const origin = expansion.words[arg.index + 1]!
    const source = origin.variable === undefined ? inUnit : env.get(origin.variable)?.source ?? inUnit
    if (arg.positional) ctx.warnings.push(`"${arg.value}" on the kubelet's command line is not a flag: the kubelet will refuse to start`)
    return {
      def: arg.def, name: arg.name, source, value: arg.value,
    }
  })
  return {argv, flags}
}

/**
 * The running kubelet's command line, which is what it actually got: flags found in the unit's
 * command line keep their file as source; a difference with the files is reported.
 */
function runningCommandLine(ctx: Context, cmdline: readonly string[] | string, configured: FlagOccurrence[] | undefined): undefined | {argv: string[]; flags: FlagOccurrence[]} {
  const argv = typeof cmdline === 'string' ? parseCmdline(cmdline) : [...cmdline]
  if (argv.length === 0 || !isKubelet(argv[0]!)) {
    ctx.warnings.push(`the given command line is not a kubelet's (${argv[0] ?? 'empty'})`)
    return undefined
  }

  const pool = [...(configured ?? [])]
  const flags = parseArgs(argv.slice(1)).filter(a => !a.positional).map(arg => {
    const at = pool.findIndex(f => f.name === arg.name && f.value === arg.value)
    const source: SettingSource = at === -1 ? {cmdline: true} : pool.splice(at, 1)[0]!.source
    return {
      def: arg.def, name: arg.name, source, value: arg.value,
    }
  })
  const differs = configured ? describeDrift(configured, flags) : ''
  if (differs) ctx.warnings.push(`the running kubelet's flags differ from what its unit files give (${differs}): a restart would apply the files`)
  return {argv, flags}
}

type ConfigLayer = {data: Record<string, unknown>; path: string}

/** The --config file and --config-dir drop-ins, read into layers (lowest precedence first). */
function locateConfig(ctx: Context, {flags, haveCommandLine, layout, running}: {flags: FlagOccurrence[]; haveCommandLine: boolean; layout: Layout; running: boolean}): {
  configDir?: string; configDropIns: string[]; configFile?: string; configFileExists: boolean; layers: ConfigLayer[]
} {
  const lastFlag = (name: string): string | undefined => flags.findLast(f => f.name === name)?.value || undefined
  const rancher = layout === 'k3s' || layout === 'rke2'
  const defaultExists = ctx.texts.get(DEFAULT_CONFIG_PATH) !== undefined
  let configFile = lastFlag('config')
  if (configFile === undefined && defaultExists && !haveCommandLine && !rancher) {
    configFile = DEFAULT_CONFIG_PATH
    ctx.warnings.push(`no kubelet command line found (no kubelet unit, no running kubelet): assuming --config=${DEFAULT_CONFIG_PATH}`)
  } else if (configFile === undefined && defaultExists && haveCommandLine) {
    ctx.warnings.push(`${DEFAULT_CONFIG_PATH} exists but the kubelet is not started with --config: it is not read`)
  }

  if (configFile !== undefined && !configFile.startsWith('/')) configFile = posix.resolve('/', configFile)
  let configDir = lastFlag('config-dir')
  if (configDir === undefined && rancher && !running) configDir = `/var/lib/rancher/${layout}/agent/etc/kubelet.conf.d`
  const configText = configFile === undefined ? undefined : ctx.read(configFile)
  if (configFile !== undefined && ctx.texts.has(configFile) && configText === undefined) {
    ctx.warnings.push(`the kubelet's --config file ${configFile} is missing: the kubelet will not start`)
  }

  const configDropIns = configDir === undefined ? [] : configDirDropIns(ctx.existing, configDir)
  if (configDir !== undefined && !ctx.existing.has(configDir) && configDropIns.length === 0) ctx.unfetched.add(configDir + '/')
  const layers: ConfigLayer[] = []
  for (const [path, text] of [[configFile, configText], ...configDropIns.map(p => [p, ctx.texts.get(p) ?? ''])] as Array<[string | undefined, string | undefined]>) {
    if (path === undefined || text === undefined) continue
    const parsed = parseKubeletConfig(text, path)
    ctx.warnings.push(...parsed.errors, ...parsed.warnings)
    layers.push({data: parsed.data, path})
  }

  return {
    configDir, configDropIns, configFile, configFileExists: configText !== undefined, layers,
  }
}

function isKubelet(program: string): boolean {
  return /(^|\/)kubelet$/.test(program)
}

function describeDrift(configured: FlagOccurrence[], running: FlagOccurrence[]): string {
  const key = (f: FlagOccurrence): string => `--${f.name}=${f.value}`
  const a = configured.map(f => key(f))
  const b = running.map(f => key(f))
  const added = a.filter(x => !b.includes(x)).map(x => `files: ${x}`)
  const removed = b.filter(x => !a.includes(x)).map(x => `running: ${x}`)
  return [...added, ...removed].join(', ')
}

function detectLayout(unit: ServiceConfig | undefined, existing: Set<string>, texts: ReadonlyMap<string, string | undefined>): Layout {
  const under = (dir: string): boolean => existing.has(dir) || [...existing].some(p => p.startsWith(dir + '/'))
  const envPaths = new Set(unit?.environmentFiles.map(e => e.path) ?? [])
  const runsKubelet = unit?.execStart.some(e => isKubelet(e.argv[0] ?? e.path)) ?? false
  if (runsKubelet) {
    if (unit!.dropIns.some(p => basename(p) === '10-kubeadm.conf') || envPaths.has('/var/lib/kubelet/kubeadm-flags.env')) return 'kubeadm'
    if (envPaths.has('/etc/kubernetes/kubelet')) return 'fedora'
    if (envPaths.has('/etc/kubernetes/kubelet.env')) return 'kubespray'
    if (unit!.environmentFiles.length === 0) return 'config-file-only'
    return 'unknown'
  }

  if (under('/etc/rancher/rke2') || under('/var/lib/rancher/rke2')) return 'rke2'
  if (under('/etc/rancher/k3s') || under('/var/lib/rancher/k3s')) return 'k3s'
  if (texts.get('/var/lib/kubelet/kubeadm-flags.env') !== undefined) return 'kubeadm'
  if (texts.get(DEFAULT_CONFIG_PATH) !== undefined) return 'config-file-only'
  return 'unknown'
}

interface BuildInput {
  configFile?: string
  flags: FlagOccurrence[]
  /** A --config file is loaded (else the kubelet starts from its legacy flag defaults). */
  hasConfig: boolean
  layers: ConfigLayer[]
  layout: Layout
}

function buildSettings(input: BuildInput): Setting[] {
  const {flags, layers} = input
  const keys = new Set<string>(CORE)
  for (const f of flags) keys.add(f.def ? settingKey(f.def) : f.name)
  for (const layer of layers) {
    for (const def of FLAGS) if (def.field && getField(layer.data, def.field).present) keys.add(def.field)
    for (const top of Object.keys(layer.data)) {
      if (top === 'apiVersion' || top === 'kind') continue
      if (!FLAGS.some(def => def.field === top || def.field?.startsWith(top + '.'))) keys.add(top)
    }
  }

  return [...keys].map(key => settingFor(key, input))
}

function settingFor(key: string, {configFile, flags, hasConfig, layers, layout}: BuildInput): Setting {
  const def = lookupFlag(key)
  const history: Array<{source: SettingSource; value: SettingValue}> = []
  let note: string | undefined
  // Default.
  const builtIn = layout === 'k3s' && key === 'staticPodPath'
    ? K3S_MANIFEST_DIR
    : (layout === 'rke2' && key === 'staticPodPath' ? RKE2_MANIFEST_DIR : undefined)
  if (builtIn !== undefined && layers.length === 0) history.push({source: {layout}, value: builtIn})
  else if (def) {
    const legacy = !hasConfig && def.legacyDefault !== undefined
    const value = legacy ? def.legacyDefault! : def.default
    if (value !== undefined) history.push({source: legacy ? {default: true, legacy: true} : {default: true}, value})
  }

  // Config file, then drop-ins (JSON merge patch: maps merge, the rest is replaced).
  const field = def?.field ?? (def ? undefined : key)
  if (field !== undefined) {
    for (const layer of layers) {
      const got = getField(layer.data, field)
      if (!got.present) continue
      if (got.value === null) {
        history.push({source: {field, file: layer.path}, value: def?.default ?? ''})
        note = `${layer.path} sets ${field} to null (removed)`
        continue
      }

      let value = fromConfigValue(def, got.value)
      const prev = history.at(-1)
      if ((def?.kind === 'map' || def?.kind === 'headers') && prev && isObject(prev.value) && !('default' in prev.source)) {
        value = {...prev.value, ...(value as Record<string, string>)}
      }

      // The kubelet defaults the --config file after loading it (zero → default); drop-ins merge later, undefaulted.
      const defaulted = def?.default !== undefined && (def.kind === 'duration' || ZERO_IS_DEFAULT.has(field))
      if (layer.path === configFile && def?.default !== undefined && defaulted && isZero(def, value) && !isZero(def, def.default)) {
        note = `${layer.path} says ${JSON.stringify(value)}, which the kubelet replaces by its default ${formatValue(def, def.default)}`
        value = def.default
      }

      if (def?.path && typeof value === 'string' && value !== '' && !value.startsWith('/')) {
        value = posix.resolve(dirname(layer.path), value)
      }

      history.push({source: {field, file: layer.path}, value})
    }
  }

  // Flags: the last occurrence wins; lists and maps accumulate, replacing the config's value.
  const name = def?.flag ?? (def ? undefined : key)
  const occurrences = name === undefined ? [] : flags.filter(f => f.name === name)
  if (occurrences.length > 0) {
    const accumulate = def && ['headers', 'list', 'map'].includes(def.kind)
    if (accumulate) {
      for (const occ of occurrences.slice(0, -1)) history.push({source: occ.source, value: foldFlagValues(def, [occ.value])})
      history.push({source: occurrences.at(-1)!.source, value: foldFlagValues(def, occurrences.map(o => o.value))})
    } else {
      for (const occ of occurrences) history.push({source: occ.source, value: foldFlagValues(def, [occ.value])})
    }

    if (def?.path) {
      const last = history.at(-1)!
      if (typeof last.value === 'string' && last.value !== '' && !last.value.startsWith('/')) {
        note = `--${name}=${last.value} is relative to the kubelet's working directory`
      }
    }
  }

  const winner = history.at(-1) ?? {source: {default: true} as SettingSource, value: ''}
  return {
    field: def?.field ?? (def ? undefined : key),
    flag: def?.flag,
    key: def ? settingKey(def) : key,
    ...(note === undefined ? {} : {note}),
    overridden: history.slice(0, -1),
    source: winner.source,
    value: winner.value,
  }
}

function isObject(v: unknown): v is Record<string, string | string[]> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isZero(def: FlagDef, value: SettingValue): boolean {
  if (def.kind === 'duration') return typeof value === 'string' && /^[+-]?0+(?:\.0*)?[a-zµμ]*$/.test(value) && !/[1-9]/.test(value)
  return value === '' || value === 0
}

/** The effective value of one setting (by flag or field name), default included. */
export function setting(eff: KubeletEffective, key: string): Setting {
  const def = resolveKey(key)
  const k = settingKey(def)
  return eff.settings.find(s => s.key === k) ?? settingFor(k, {
    flags: eff.flags,
    hasConfig: eff.configFileExists,
    layers: [],
    layout: eff.layout,
  })
}

export interface ManifestDirResult {
  path: string
  /** The setting behind it, when it comes from the kubelet. */
  setting?: Setting
  /** How it was found. */
  source: 'default' | 'inventory' | 'k3s' | 'kubelet' | 'rke2'
  warnings: string[]
}

/**
 * The static pod directory of a node, in the order of the "manifests on nodes" issue: the
 * inventory's manifestDir; the kubelet's own setting (staticPodPath from its config file and
 * drop-ins, or --pod-manifest-path from its flags, the flag winning as in the kubelet); the k3s or
 * RKE2 default when those are installed; else /etc/kubernetes/manifests, with a warning.
 */
export function manifestDir(eff: KubeletEffective, options: {inventoryManifestDir?: string} = {}): ManifestDirResult {
  const warnings: string[] = []
  const s = eff.settings.find(x => x.key === 'staticPodPath')
  const kubelet = s && typeof s.value === 'string' && s.value !== '' ? s : undefined
  if (options.inventoryManifestDir) {
    if (kubelet && normalizeDir(String(kubelet.value)) !== normalizeDir(options.inventoryManifestDir)) {
      warnings.push(`the inventory says manifestDir ${options.inventoryManifestDir} but the kubelet reads ${String(kubelet.value)} (${describeSource(kubelet.source)})`)
    }

    return {path: options.inventoryManifestDir, source: 'inventory', warnings}
  }

  if (kubelet) {
    if ('layout' in kubelet.source) return {
      path: String(kubelet.value), setting: kubelet, source: kubelet.source.layout === 'rke2' ? 'rke2' : 'k3s', warnings,
    }
    return {
      path: String(kubelet.value), setting: kubelet, source: 'kubelet', warnings,
    }
  }

  if (eff.layout === 'k3s') return {path: K3S_MANIFEST_DIR, source: 'k3s', warnings}
  if (eff.layout === 'rke2') return {path: RKE2_MANIFEST_DIR, source: 'rke2', warnings}
  const why = eff.argv || eff.running
    ? 'the kubelet has no staticPodPath or --pod-manifest-path (static pods are off)'
    : 'no kubelet configuration was found'
  warnings.push(`${why}; assuming ${DEFAULT_MANIFEST_DIR}`)
  if (eff.unfetched.length > 0) warnings.push(`not read: ${eff.unfetched.join(', ')}`)
  return {path: DEFAULT_MANIFEST_DIR, source: 'default', warnings}
}

function normalizeDir(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p
}

/** A source in words, for messages. */
export function describeSource(source: SettingSource): string {
  if ('cmdline' in source) return 'the running kubelet\'s command line'
  if ('default' in source) return source.legacy ? 'default (no --config)' : 'default'
  if ('layout' in source) return `${source.layout} default`
  if ('variable' in source) return `${source.variable} in ${source.file}`
  if ('environment' in source) return `Environment=${source.environment} in ${source.file}`
  if ('execStart' in source) return `ExecStart= in ${source.file}`
  return `${source.field} in ${source.file}`
}

export interface HealthzEndpoint {
  address: string
  /** False when healthzPort is 0. */
  enabled: boolean
  port: number
  /** `http://address:port/healthz` (0.0.0.0 and :: are polled on loopback). */
  url?: string
}

/** Where to poll the kubelet's health after a restart (plain HTTP /healthz). */
export function healthz(eff: KubeletEffective): HealthzEndpoint {
  const port = Number(setting(eff, 'healthzPort').value)
  let address = String(setting(eff, 'healthzBindAddress').value || '127.0.0.1')
  if (address === '0.0.0.0') address = '127.0.0.1'
  if (address === '::') address = '::1'
  const host = address.includes(':') ? `[${address}]` : address
  return {
    address, enabled: port > 0, port, ...(port > 0 ? {url: `http://${host}:${port}/healthz`} : {}),
  }
}

export interface KubeletEdit {
  set?: Record<string, string>
  unset?: string[]
}

export interface PlannedChange {
  action: 'set' | 'unset'
  file: string
  key: string
  /** A config field, or a variable of an environment file. */
  where: {field: string} | {variable: string}
}

export interface EditPlan {
  changes: PlannedChange[]
  /** path → new content, for the files that change. */
  files: Map<string, string>
  warnings: string[]
}

/** Where flags are written on a node: the layout's environment file and variable. */
export function flagHome(eff: KubeletEffective): undefined | {file: string; variable: string} {
  const defined = (variable: string): EnvFileRef | undefined => eff.envFiles.findLast(f => f.variables.includes(variable))
  const listed = (paths: string[]): EnvFileRef | undefined =>
    eff.envFiles.find(f => f.exists && paths.includes(f.path)) ?? eff.envFiles.find(f => paths.includes(f.path))
  const referenced = (v: string): boolean => eff.unit?.execStart.at(-1)?.argv.some(a => a === `$${v}` || a.includes(`\${${v}}`)) ?? false
  if (eff.layout === 'kubeadm') {
    const file = defined('KUBELET_EXTRA_ARGS') ?? listed(['/etc/default/kubelet', '/etc/sysconfig/kubelet'])
    return {file: file?.path ?? '/etc/default/kubelet', variable: 'KUBELET_EXTRA_ARGS'}
  }

  if (eff.layout === 'fedora') return {file: defined('KUBELET_ARGS')?.path ?? '/etc/kubernetes/kubelet', variable: 'KUBELET_ARGS'}
  if (eff.layout === 'kubespray') return {file: defined('KUBELET_ARGS')?.path ?? '/etc/kubernetes/kubelet.env', variable: 'KUBELET_ARGS'}
  // Any other unit: the last variable of its ExecStart= that an environment file (not kubeadm's) provides.
  const argv = eff.unit?.execStart.at(-1)?.argv ?? []
  for (const word of [...argv].reverse()) {
    const m = /^\$\{?([A-Z_a-z]\w*)\}?$/.exec(word)
    if (!m || !referenced(m[1]!)) continue
    const file = defined(m[1]!)
    if (file && file.path !== KUBEADM_FLAGS_ENV) return {file: file.path, variable: m[1]!}
  }

  return undefined
}

const GENERATED_DROPIN = /\/00-(k3s|rke2)-defaults\.conf$/

/**
 * Plan a `--set key=value` / `--unset key` on a node: the new contents of the files that change.
 * A config field is written in the KubeletConfiguration when the node has one (the drop-in that
 * sets it when one does; on k3s/RKE2 a `99-staticpod.conf` drop-in, since their defaults file is
 * regenerated), and any flag for it is taken out of the environment files (flags would win);
 * otherwise, and for flag-only settings, the flag goes to the layout's environment file. Unset
 * removes the key everywhere staticpod can edit. Unknown keys are a UserError naming the closest one.
 */
export function planEdit(eff: KubeletEffective, edit: KubeletEdit): EditPlan {
  const texts = new Map(eff.texts)
  const changed = new Set<string>()
  const changes: PlannedChange[] = []
  const warnings: string[] = []
  const write = (path: string, text: string): void => {
    if (text === texts.get(path)) return
    texts.set(path, text)
    changed.add(path)
  }

  const sets = Object.entries(edit.set ?? {}).map(([key, text]) => {
    const def = resolveKey(key)
    return {def, key, value: parseUserValue(def, text)}
  })
  const unsets = (edit.unset ?? []).map(key => ({def: resolveKey(key), key}))
  const hasConfig = eff.configFileExists || eff.configDropIns.length > 0 || (eff.configDir !== undefined && (eff.layout === 'k3s' || eff.layout === 'rke2'))
  const envFlagFiles = (name: string): Array<{file: string; variable: string}> => {
    const out: Array<{file: string; variable: string}> = []
    for (const f of eff.flags) {
      if (f.name !== name || !('variable' in f.source)) continue
      if (!out.some(o => 'variable' in f.source && o.file === f.source.file && o.variable === f.source.variable)) {
        out.push({file: f.source.file, variable: f.source.variable})
      }
    }

    return out
  }

  const removeFlag = (def: FlagDef, key: string, action: 'set' | 'unset'): void => {
    for (const home of envFlagFiles(def.flag!)) {
      write(home.file, editEnvFileFlags(texts.get(home.file), home.variable, [{flag: def.flag!}]))
      changes.push({
        action, file: home.file, key, where: {variable: home.variable},
      })
      if (home.file === KUBEADM_FLAGS_ENV) {
        warnings.push(`kubeadm rewrites ${KUBEADM_FLAGS_ENV} on init, join and upgrade: --${def.flag} may come back there`)
      }
    }

    for (const f of eff.flags.filter(x => x.name === def.flag && !('variable' in x.source))) {
      warnings.push(`--${def.flag} is also set in ${describeSource(f.source)}, which staticpod does not edit; it still wins`)
    }
  }

  for (const {def, key, value} of sets) {
    if (def.field && hasConfig) {
      const target = configTarget(eff, def.field)
      write(target, setConfigField(texts.get(target), def.field, toConfigValue(def, value)))
      changes.push({
        action: 'set', file: target, key, where: {field: def.field},
      })
      if (def.flag) removeFlag(def, key, 'set')
      if (eff.layout === 'kubeadm' && target === DEFAULT_CONFIG_PATH) {
        warnings.push(`kubeadm rewrites ${DEFAULT_CONFIG_PATH} on upgrade: make the same change in the kube-system/kubelet-config ConfigMap to keep it`)
      }

      continue
    }

    if (!def.flag) throw new UserError(`${key} is a config field without a flag, and this node's kubelet has no config file to hold it`)
    const home = flagHome(eff)
    if (!home) {
      throw new UserError(`cannot place --${def.flag} on this node: no config file and no environment file feeding the kubelet's flags (layout ${eff.layout})`)
    }

    const change: FlagChange = {flag: def.flag, values: formatFlagValues(def, value)}
    write(home.file, editEnvFileFlags(texts.get(home.file), home.variable, [change]))
    changes.push({
      action: 'set', file: home.file, key, where: {variable: home.variable},
    })
  }

  for (const {def, key} of unsets) {
    if (def.field) {
      for (const path of [eff.configFile, ...eff.configDropIns]) {
        const text = path === undefined ? undefined : texts.get(path)
        if (text === undefined || !getField(parseKubeletConfig(text, path!).data, def.field).present) continue
        if (GENERATED_DROPIN.test(path!)) {
          warnings.push(`${path} sets ${def.field} but is regenerated at every start; set it in a later drop-in instead`)
          continue
        }

        write(path!, unsetConfigField(text, def.field))
        changes.push({
          action: 'unset', file: path!, key, where: {field: def.field},
        })
      }
    }

    if (def.flag) removeFlag(def, key, 'unset')
  }

  // Check the result the way the kubelet will see it.
  const after = computeEffective({existing: [...eff.input.existing, ...changed], files: texts, systemctlCat: eff.input.systemctlCat})
  if (after.argv || !eff.argv) {
    for (const {def, key, value} of sets) {
      const s = setting(after, settingKey(def))
      if (!sameValue(def, s.value, value)) warnings.push(`${key} will still be ${formatValue(def, s.value)} (${describeSource(s.source)})`)
    }

    for (const {def, key} of unsets) {
      const s = setting(after, settingKey(def))
      if (!('default' in s.source) && !('layout' in s.source)) warnings.push(`${key} will still be ${formatValue(def, s.value)} (${describeSource(s.source)})`)
    }
  }

  const files = new Map([...changed].map(p => [p, texts.get(p)!]))
  return {changes, files, warnings}
}

/** The config file a field is written to: the drop-in that sets it last, else the --config file. */
function configTarget(eff: KubeletEffective, field: string): string {
  for (const p of [...eff.configDropIns].reverse()) {
    const text = eff.texts.get(p)
    if (text !== undefined && getField(parseKubeletConfig(text, p).data, field).present && !GENERATED_DROPIN.test(p)) return p
  }

  if ((eff.layout === 'k3s' || eff.layout === 'rke2') && eff.configDir) return `${eff.configDir}/99-staticpod.conf`
  if (eff.configFile) {
    // A drop-in that sets the field would hide the config file: write where it wins.
    const shadow = [...eff.configDropIns].reverse().find(p => {
      const text = eff.texts.get(p)
      return text !== undefined && getField(parseKubeletConfig(text, p).data, field).present
    })
    if (shadow && eff.configDir) return `${eff.configDir}/99-staticpod.conf`
    return eff.configFile
  }

  return `${eff.configDir}/99-staticpod.conf`
}
