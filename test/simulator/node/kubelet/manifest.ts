// How the kubelet turns a manifest file (or an HTTP body) into a static pod: decode the first YAML document,
// require a Pod with a name, apply API defaults, compute the UID (config.hash), suffix the name with the node
// name, validate, and refuse references to API objects (kubelet-facts §1.3, §1.5, §2; emulated version v1.34,
// PreventStaticPodAPIReferences on). Independent of staticpod's own validator on purpose.
import {parseAllDocuments} from 'yaml'

import {canonicalJson, fnv128a, goYamlError} from '../../shared/util.js'

export type Json = Record<string, unknown>

/** The kubelet's read limit for a manifest file or HTTP body (maxConfigLength). */
export const MAX_CONFIG_LENGTH = 10 * 1024 * 1024

export interface StaticPod {
  /** Where it came from: the absolute file path, or the URL. */
  from: string
  /** `<namespace>/<name>` after suffixing: the key of the pod in its source. */
  fullName: string
  pod: Json
  source: 'file' | 'http'
  uid: string
}

/** A manifest the kubelet cannot use, with the error text the kubelet would log. */
export class ManifestError extends Error {}

type FieldType = 'array' | 'bool' | 'int' | 'map' | 'object' | 'string'

interface StructSpec {
  fields: Record<string, FieldType>
  goName: string
}

// The known fields of the structs the kubelet decodes into (core/v1, v1.34). Unknown fields are dropped by the
// (non-strict) decoder, so they neither fail the decode nor change the hash; fields at deeper levels are kept as
// they are. Types are checked so that a wrong JSON type fails the decode as it would in Go.
const OBJECT_META: StructSpec = {
  fields: {
    annotations: 'map',
    creationTimestamp: 'string',
    deletionGracePeriodSeconds: 'int',
    deletionTimestamp: 'string',
    finalizers: 'array',
    generateName: 'string',
    generation: 'int',
    labels: 'map',
    managedFields: 'array',
    name: 'string',
    namespace: 'string',
    ownerReferences: 'array',
    resourceVersion: 'string',
    selfLink: 'string',
    uid: 'string',
  },
  goName: 'ObjectMeta',
}

const CONTAINER: StructSpec = {
  fields: {
    args: 'array',
    command: 'array',
    env: 'array',
    envFrom: 'array',
    image: 'string',
    imagePullPolicy: 'string',
    lifecycle: 'object',
    livenessProbe: 'object',
    name: 'string',
    ports: 'array',
    readinessProbe: 'object',
    resizePolicy: 'array',
    resources: 'object',
    restartPolicy: 'string',
    restartPolicyRules: 'array',
    securityContext: 'object',
    startupProbe: 'object',
    stdin: 'bool',
    stdinOnce: 'bool',
    terminationMessagePath: 'string',
    terminationMessagePolicy: 'string',
    tty: 'bool',
    volumeDevices: 'array',
    volumeMounts: 'array',
    workingDir: 'string',
  },
  goName: 'Container',
}

const POD_SPEC: StructSpec = {
  fields: {
    activeDeadlineSeconds: 'int',
    affinity: 'object',
    automountServiceAccountToken: 'bool',
    containers: 'array',
    dnsConfig: 'object',
    dnsPolicy: 'string',
    enableServiceLinks: 'bool',
    ephemeralContainers: 'array',
    hostAliases: 'array',
    hostIPC: 'bool',
    hostname: 'string',
    hostnameOverride: 'string',
    hostNetwork: 'bool',
    hostPID: 'bool',
    hostUsers: 'bool',
    imagePullSecrets: 'array',
    initContainers: 'array',
    nodeName: 'string',
    nodeSelector: 'map',
    os: 'object',
    overhead: 'map',
    preemptionPolicy: 'string',
    priority: 'int',
    priorityClassName: 'string',
    readinessGates: 'array',
    resourceClaims: 'array',
    resources: 'object',
    restartPolicy: 'string',
    runtimeClassName: 'string',
    schedulerName: 'string',
    schedulingGates: 'array',
    securityContext: 'object',
    serviceAccount: 'string',
    serviceAccountName: 'string',
    setHostnameAsFQDN: 'bool',
    shareProcessNamespace: 'bool',
    subdomain: 'string',
    terminationGracePeriodSeconds: 'int',
    tolerations: 'array',
    topologySpreadConstraints: 'array',
    volumes: 'array',
  },
  goName: 'PodSpec',
}

const POD: StructSpec = {
  fields: {
    apiVersion: 'string', kind: 'string', metadata: 'object', spec: 'object', status: 'object',
  },
  goName: 'Pod',
}

const GO_TYPES: Record<FieldType, string> = {
  array: '[]',
  bool: 'bool',
  int: 'int64',
  map: 'map[string]string',
  object: 'struct',
  string: 'string',
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array'
  if (value === null) return 'null'
  if (typeof value === 'boolean') return 'bool'
  return typeof value === 'object' ? 'object' : typeof value
}

function typeMatches(type: FieldType, value: unknown): boolean {
  if (value === null) return true // JSON null leaves the Go zero value
  switch (type) {
  case 'array': {
    return Array.isArray(value)
  }

  case 'bool': {
    return typeof value === 'boolean'
  }

  case 'int': {
    return typeof value === 'number' && Number.isInteger(value)
  }

  case 'map': {
    return typeof value === 'object' && !Array.isArray(value) && Object.values(value as Json).every(v => typeof v === 'string' || v === null)
  }

  case 'object': {
    return typeof value === 'object' && !Array.isArray(value)
  }

  case 'string': {
    return typeof value === 'string'
  }
  }
}

function decodeStruct(value: Json, spec: StructSpec, path: string): Json {
  const out: Json = {}
  for (const [key, fieldValue] of Object.entries(value)) {
    const type = spec.fields[key]
    if (type === undefined) continue // unknown field: dropped by the decoder
    const fieldPath = path ? `${path}.${key}` : key
    if (!typeMatches(type, fieldValue)) {
      const got = type === 'map' && jsonType(fieldValue) === 'object' ? 'non-string value' : jsonType(fieldValue)
      throw new ManifestError(`json: cannot unmarshal ${got} into Go struct field ${spec.goName}.${fieldPath} of type ${GO_TYPES[type]}`)
    }

    if (fieldValue === null) continue
    out[key] = fieldValue
  }

  return out
}

function decodeContainers(list: unknown[], path: string): Json[] {
  return list.map(item => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new ManifestError(`json: cannot unmarshal ${jsonType(item)} into Go struct field PodSpec.${path} of type v1.Container`)
    }

    return decodeStruct(item as Json, CONTAINER, path)
  })
}

/** Decodes JSON into a v1 Pod as the (non-strict) universal decoder would, or says why it cannot. */
function decodePod(object: Json): Json {
  const pod = decodeStruct(object, POD, '')
  if (pod.metadata) pod.metadata = decodeStruct(pod.metadata as Json, OBJECT_META, 'metadata')
  if (pod.spec) {
    const spec = decodeStruct(pod.spec as Json, POD_SPEC, 'spec')
    for (const key of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
      if (spec[key]) spec[key] = decodeContainers(spec[key] as unknown[], `spec.${key}`)
    }

    pod.spec = spec
  }

  return pod
}

function goTypeName(apiVersion: string, kind: string): string {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0]!.split('.')[0]! : 'core'
  return `&${group}.${kind}`
}

/** Kinds of the legacy scheme the kubelet decodes with (enough to tell "not a Pod" from "unknown kind"). */
const REGISTERED_KINDS: Record<string, string[]> = {
  'apps/v1': ['DaemonSet', 'Deployment', 'ReplicaSet', 'StatefulSet', 'ControllerRevision'],
  'batch/v1': ['CronJob', 'Job'],
  v1: [
    'Binding',
    'ConfigMap',
    'Endpoints',
    'Event',
    'LimitRange',
    'List',
    'Namespace',
    'Node',
    'PersistentVolume',
    'PersistentVolumeClaim',
    'Pod',
    'PodList',
    'PodTemplate',
    'ReplicationController',
    'ResourceQuota',
    'Secret',
    'Service',
    'ServiceAccount',
  ],
}

/**
 * utilyaml.ToJSON + runtime.Decode: the first YAML document only (YAML 1.1, as go-yaml v2), then apiVersion/kind
 * checks. Returns the decoded object (kind may be anything registered) or throws the decoder's message.
 */
export function decodeObject(data: Buffer | string): Json {
  const text = typeof data === 'string' ? data : data.toString('utf8')
  const documents = parseAllDocuments(text, {uniqueKeys: false, version: '1.1'})
  const first = Array.isArray(documents) ? documents[0] : documents
  let value: unknown = null
  if (first) {
    const error = first.errors[0]
    if (error) {
      throw new ManifestError(`error converting YAML to JSON: ${goYamlError(error)}`)
    }

    value = first.toJS({maxAliasCount: 100})
  }

  const shown = JSON.stringify(value) ?? 'null'
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    if (value !== null && typeof value !== 'object') {
      throw new ManifestError(`couldn't get version/kind; json parse error: json: cannot unmarshal ${jsonType(value)} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`)
    }

    throw new ManifestError(`Object 'Kind' is missing in '${shown}'`)
  }

  const object = value as Json
  if (typeof object.kind !== 'string' || object.kind === '') throw new ManifestError(`Object 'Kind' is missing in '${shown}'`)
  if (typeof object.apiVersion !== 'string' || object.apiVersion === '') {
    throw new ManifestError(`Object 'apiVersion' is missing in '${shown}'`)
  }

  const kinds = REGISTERED_KINDS[object.apiVersion]
  if (!kinds?.includes(object.kind)) {
    throw new ManifestError(`no kind "${object.kind}" is registered for version "${object.apiVersion}" in scheme "pkg/api/legacyscheme/scheme.go:30"`)
  }

  return object
}

// ---- defaults (what the universal decoder applies before the kubelet hashes the pod) ----

function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent'
  const lastSegment = image.slice(image.lastIndexOf('/') + 1)
  const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : ''
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent'
}

function defaultProbe(probe: unknown): void {
  if (!probe || typeof probe !== 'object') return
  const p = probe as Json
  p.timeoutSeconds ??= 1
  p.periodSeconds ??= 10
  p.successThreshold ??= 1
  p.failureThreshold ??= 3
  if (p.httpGet && typeof p.httpGet === 'object') (p.httpGet as Json).scheme ??= 'HTTP'
}

function defaultContainer(container: Json, hostNetwork: boolean): void {
  container.terminationMessagePath ??= '/dev/termination-log'
  container.terminationMessagePolicy ??= 'File'
  if (typeof container.image === 'string') container.imagePullPolicy ??= defaultPullPolicy(container.image)
  container.resources ??= {}
  const resources = container.resources as Json
  if (resources.limits && typeof resources.limits === 'object') {
    const requests = (resources.requests ?? {}) as Json
    for (const [name, value] of Object.entries(resources.limits as Json)) requests[name] ??= value
    resources.requests = requests
  }

  if (Array.isArray(container.ports)) {
    for (const port of container.ports as Json[]) {
      if (!port || typeof port !== 'object') continue
      port.protocol ??= 'TCP'
      if (hostNetwork && (port.hostPort === undefined || port.hostPort === 0)) port.hostPort = port.containerPort
    }
  }

  if (Array.isArray(container.env)) {
    for (const env of container.env as Json[]) {
      const fieldRef = (env?.valueFrom as Json | undefined)?.fieldRef as Json | undefined
      if (fieldRef) fieldRef.apiVersion ??= 'v1'
    }
  }

  defaultProbe(container.livenessProbe)
  defaultProbe(container.readinessProbe)
  defaultProbe(container.startupProbe)
}

function defaultVolume(volume: Json): void {
  const sources = Object.keys(volume).filter(key => key !== 'name')
  if (sources.length === 0) volume.emptyDir = {}
  if (volume.hostPath && typeof volume.hostPath === 'object') (volume.hostPath as Json).type ??= ''
  for (const key of ['secret', 'configMap', 'downwardAPI', 'projected'] as const) {
    const source = volume[key]
    if (source && typeof source === 'object') (source as Json).defaultMode ??= 420
  }
}

/** SetDefaults_Pod / _PodSpec / _Container / _Volume / probes: the API defaults in effect when the kubelet decodes. */
export function applyApiDefaults(pod: Json): void {
  pod.metadata ??= {}
  pod.spec ??= {}
  const spec = pod.spec as Json
  spec.restartPolicy ??= 'Always'
  spec.dnsPolicy ??= 'ClusterFirst'
  spec.terminationGracePeriodSeconds ??= 30
  spec.securityContext ??= {}
  spec.schedulerName ??= 'default-scheduler'
  spec.enableServiceLinks ??= true
  const hostNetwork = spec.hostNetwork === true
  for (const key of ['containers', 'initContainers'] as const) {
    if (Array.isArray(spec[key])) for (const container of spec[key] as Json[]) defaultContainer(container, hostNetwork)
  }

  if (Array.isArray(spec.volumes)) {
    for (const volume of spec.volumes as Json[]) if (volume && typeof volume === 'object') defaultVolume(volume)
  }

  pod.status ??= {}
}

// ---- validation (a subset of ValidatePodCreate, with the API's error texts) ----

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
// v1.34: RelaxedEnvironmentVariableValidation is GA, any printable ASCII but '=' (KEP-4369).
const ENV_NAME = /^[\u0020-\u003C\u003E-\u007E]+$/
const SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/

const LABEL_MSG
  = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
const SUBDOMAIN_MSG
  = String.raw`a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`

const show = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value))

class FieldErrors {
  readonly list: string[] = []

  duplicate(field: string, value: unknown) {
    this.list.push(`${field}: Duplicate value: ${show(value)}`)
  }

  invalid(field: string, value: unknown, detail: string) {
    this.list.push(`${field}: Invalid value: ${show(value)}: ${detail}`)
  }

  notFound(field: string, value: unknown) {
    this.list.push(`${field}: Not found: ${show(value)}`)
  }

  notSupported(field: string, value: unknown, supported: string[]) {
    this.list.push(`${field}: Unsupported value: ${show(value)}: supported values: ${supported.map(s => JSON.stringify(s)).join(', ')}`)
  }

  required(field: string, detail = '') {
    this.list.push(`${field}: Required value${detail ? `: ${detail}` : ''}`)
  }
}

function validateLabels(errors: FieldErrors, labels: unknown, field: string): void {
  if (!labels || typeof labels !== 'object') return
  for (const [key, value] of Object.entries(labels as Json)) {
    const name = key.includes('/') ? key.slice(key.indexOf('/') + 1) : key
    const prefix = key.includes('/') ? key.slice(0, key.indexOf('/')) : undefined
    if (name.length > 63 || !QUALIFIED_NAME.test(name) || (prefix !== undefined && !DNS1123_SUBDOMAIN.test(prefix))) {
      errors.invalid(
        field,
        key,
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      )
    }

    if (typeof value === 'string' && (value.length > 63 || !LABEL_VALUE.test(value))) {
      errors.invalid(
        field,
        value,
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      )
    }
  }
}

function validateContainer(
  errors: FieldErrors,
  container: Json,
  field: string,
  names: Set<string>,
  volumes: Set<string>,
  hostNetwork: boolean,
): void {
  const name = container.name as string | undefined
  if (!name) errors.required(`${field}.name`)
  else if (!DNS1123_LABEL.test(name) || name.length > 63) errors.invalid(`${field}.name`, name, LABEL_MSG)
  else if (names.has(name)) errors.duplicate(`${field}.name`, name)
  if (name) names.add(name)
  if (typeof container.image !== 'string' || container.image.trim() === '') errors.required(`${field}.image`)
  if (container.imagePullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(container.imagePullPolicy as string)) {
    errors.notSupported(`${field}.imagePullPolicy`, container.imagePullPolicy, ['Always', 'IfNotPresent', 'Never'])
  }

  const portNames = new Set<string>()
  for (const [i, port] of ((container.ports as Json[] | undefined) ?? []).entries()) {
    const pf = `${field}.ports[${i}]`
    const containerPort = port?.containerPort
    if (containerPort === undefined || containerPort === 0) errors.required(`${pf}.containerPort`)
    else if (typeof containerPort !== 'number' || containerPort < 1 || containerPort > 65_535) {
      errors.invalid(`${pf}.containerPort`, containerPort, 'must be between 1 and 65535, inclusive')
    }

    const hostPort = port?.hostPort
    if (typeof hostPort === 'number' && (hostPort < 0 || hostPort > 65_535)) {
      errors.invalid(`${pf}.hostPort`, hostPort, 'must be between 1 and 65535, inclusive')
    } else if (hostNetwork && typeof hostPort === 'number' && hostPort !== containerPort) {
      errors.invalid(`${pf}.hostPort`, hostPort, 'must match `containerPort` when `hostNetwork` is true')
    }

    if (port?.protocol !== undefined && !['SCTP', 'TCP', 'UDP'].includes(port.protocol as string)) {
      errors.notSupported(`${pf}.protocol`, port.protocol, ['SCTP', 'TCP', 'UDP'])
    }

    const portName = port?.name
    if (typeof portName === 'string' && portName !== '') {
      if (portName.length > 15 || !SVC_NAME.test(portName) || !/[a-z]/.test(portName) || portName.includes('--')) {
        errors.invalid(`${pf}.name`, portName, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)')
      } else if (portNames.has(portName)) errors.duplicate(`${pf}.name`, portName)
      portNames.add(portName)
    }
  }

  for (const [i, env] of ((container.env as Json[] | undefined) ?? []).entries()) {
    const envName = env?.name
    if (typeof envName !== 'string' || envName === '') errors.required(`${field}.env[${i}].name`)
    else if (!ENV_NAME.test(envName)) {
      errors.invalid(
        `${field}.env[${i}].name`,
        envName,
        "a valid environment variable name must consist only of printable ASCII characters other than '='",
      )
    }
  }

  const mountPaths = new Set<string>()
  for (const [i, mount] of ((container.volumeMounts as Json[] | undefined) ?? []).entries()) {
    const mf = `${field}.volumeMounts[${i}]`
    const mountName = mount?.name
    if (typeof mountName !== 'string' || mountName === '') errors.required(`${mf}.name`)
    else if (!volumes.has(mountName)) errors.notFound(`${mf}.name`, mountName)
    const mountPath = mount?.mountPath
    if (typeof mountPath !== 'string' || mountPath === '') errors.required(`${mf}.mountPath`)
    else if (mountPaths.has(mountPath)) errors.invalid(`${mf}.mountPath`, mountPath, 'must be unique')
    else mountPaths.add(mountPath)
  }
}

/** The checks of ValidatePodCreate this simulator makes; returns the API's field errors. */
export function validatePod(pod: Json): string[] {
  const errors = new FieldErrors()
  const meta = (pod.metadata ?? {}) as Json
  const spec = (pod.spec ?? {}) as Json
  const name = meta.name as string
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) errors.invalid('metadata.name', name, SUBDOMAIN_MSG)
  const namespace = meta.namespace as string
  if (!DNS1123_LABEL.test(namespace) || namespace.length > 63) errors.invalid('metadata.namespace', namespace, LABEL_MSG)
  validateLabels(errors, meta.labels, 'metadata.labels')
  const volumes = new Set<string>()
  for (const [i, volume] of ((spec.volumes as Json[] | undefined) ?? []).entries()) {
    const volumeName = volume?.name
    if (typeof volumeName !== 'string' || volumeName === '') errors.required(`spec.volumes[${i}].name`)
    else if (!DNS1123_LABEL.test(volumeName)) errors.invalid(`spec.volumes[${i}].name`, volumeName, LABEL_MSG)
    else if (volumes.has(volumeName)) errors.duplicate(`spec.volumes[${i}].name`, volumeName)
    if (typeof volumeName === 'string') volumes.add(volumeName)
  }

  const containers = (spec.containers as Json[] | undefined) ?? []
  if (containers.length === 0) errors.required('spec.containers')
  const names = new Set<string>()
  const hostNetwork = spec.hostNetwork === true
  for (const [i, container] of ((spec.initContainers as Json[] | undefined) ?? []).entries()) {
    validateContainer(errors, container, `spec.initContainers[${i}]`, names, volumes, hostNetwork)
  }

  for (const [i, container] of containers.entries()) {
    validateContainer(errors, container, `spec.containers[${i}]`, names, volumes, hostNetwork)
  }

  if (!['Always', 'Never', 'OnFailure'].includes(spec.restartPolicy as string)) {
    errors.notSupported('spec.restartPolicy', spec.restartPolicy, ['Always', 'OnFailure', 'Never'])
  }

  if (!['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'].includes(spec.dnsPolicy as string)) {
    errors.notSupported('spec.dnsPolicy', spec.dnsPolicy, ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'])
  }

  const grace = spec.terminationGracePeriodSeconds
  if (typeof grace === 'number' && grace < 0) {
    errors.invalid('spec.terminationGracePeriodSeconds', grace, 'must be greater than or equal to 0')
  }

  return errors.list
}

// ---- API object references (PodUtil.HasAPIObjectReference, v1.34) ----

type Visitor = (name: string) => void

function allContainers(spec: Json): Json[] {
  return ['initContainers', 'containers', 'ephemeralContainers'].flatMap(key => (spec[key] as Json[] | undefined) ?? [])
}

function visitSecretNames(spec: Json, visit: Visitor): void {
  for (const ref of (spec.imagePullSecrets as Json[] | undefined) ?? []) visit(String(ref?.name ?? ''))
  for (const container of allContainers(spec)) {
    for (const envFrom of (container.envFrom as Json[] | undefined) ?? []) if (envFrom?.secretRef) visit(String((envFrom.secretRef as Json).name ?? ''))
    for (const env of (container.env as Json[] | undefined) ?? []) {
      const ref = (env?.valueFrom as Json | undefined)?.secretKeyRef as Json | undefined
      if (ref) visit(String(ref.name ?? ''))
    }
  }

  for (const volume of (spec.volumes as Json[] | undefined) ?? []) {
    if (!volume) continue
    if (volume.secret) visit(String((volume.secret as Json).secretName ?? ''))
    if (volume.azureFile) visit(String((volume.azureFile as Json).secretName ?? ''))
    for (const key of ['cephfs', 'cinder', 'flexVolume', 'iscsi', 'rbd', 'scaleIO', 'storageos'] as const) {
      const ref = (volume[key] as Json | undefined)?.secretRef as Json | undefined
      if (ref) visit(String(ref.name ?? ''))
    }

    const csiRef = (volume.csi as Json | undefined)?.nodePublishSecretRef as Json | undefined
    if (csiRef) visit(String(csiRef.name ?? ''))
    for (const source of ((volume.projected as Json | undefined)?.sources as Json[] | undefined) ?? []) {
      if (source?.secret) visit(String((source.secret as Json).name ?? ''))
    }
  }
}

function visitConfigMapNames(spec: Json, visit: Visitor): void {
  for (const container of allContainers(spec)) {
    for (const envFrom of (container.envFrom as Json[] | undefined) ?? []) if (envFrom?.configMapRef) visit(String((envFrom.configMapRef as Json).name ?? ''))
    for (const env of (container.env as Json[] | undefined) ?? []) {
      const ref = (env?.valueFrom as Json | undefined)?.configMapKeyRef as Json | undefined
      if (ref) visit(String(ref.name ?? ''))
    }
  }

  for (const volume of (spec.volumes as Json[] | undefined) ?? []) {
    if (volume?.configMap) visit(String((volume.configMap as Json).name ?? ''))
    for (const source of ((volume?.projected as Json | undefined)?.sources as Json[] | undefined) ?? []) {
      if (source?.configMap) visit(String((source.configMap as Json).name ?? ''))
    }
  }
}

const ALLOWED_VOLUME_TYPES = new Set([
  'awsElasticBlockStore',
  'azureDisk',
  'cephfs',
  'cinder',
  'downwardAPI',
  'emptyDir',
  'fc',
  'flexVolume',
  'flocker',
  'gcePersistentDisk',
  'gitRepo',
  'hostPath',
  'image',
  'iscsi',
  'nfs',
  'photonPersistentDisk',
  'portworxVolume',
  'quobyte',
  'rbd',
  'scaleIO',
  'storageos',
  'vsphereVolume',
])

const REJECTED_VOLUME_TYPES: Record<string, string> = {
  azureFile: 'secrets (via azureFile volumes)',
  configMap: 'configmaps (via configmap volumes)',
  csi: 'csidrivers (via CSI volumes)',
  ephemeral: 'persistentvolumeclaims (via ephemeral volumes)',
  glusterfs: 'endpoints (via glusterFS volumes)',
  persistentVolumeClaim: 'persistentvolumeclaims',
  secret: 'secrets (via secret volumes)',
}

const PROJECTED_SOURCES: Record<string, string> = {
  clusterTrustBundle: 'clustertrustbundles',
  configMap: 'configmaps (via projected volumes)',
  podCertificate: 'podcertificates',
  secret: 'secrets (via projected volumes)',
  serviceAccountToken: 'serviceaccounts (via projected volumes)',
}

/** The error the kubelet (v1.34+) returns for a static pod that references API objects, or undefined. */
export function apiObjectReferenceError(pod: Json): string | undefined {
  const spec = (pod.spec ?? {}) as Json
  if (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName !== '') return 'static pods may not reference serviceaccounts'
  let found = false
  visitSecretNames(spec, () => {
    found = true
  })
  if (found) return 'static pods may not reference secrets'
  visitConfigMapNames(spec, () => {
    found = true
  })
  if (found) return 'static pods may not reference configmaps'
  if (Array.isArray(spec.resourceClaims) && spec.resourceClaims.length > 0) return 'static pods may not reference resourceclaims'
  for (const volume of (spec.volumes as Json[] | undefined) ?? []) {
    const type = Object.keys(volume).find(key => key !== 'name')
    if (type !== undefined && ALLOWED_VOLUME_TYPES.has(type)) continue
    if (type !== undefined && REJECTED_VOLUME_TYPES[type]) return `static pods may not reference ${REJECTED_VOLUME_TYPES[type]}`
    if (type === 'projected') {
      for (const source of ((volume.projected as Json).sources as Json[] | undefined) ?? []) {
        const sourceType = Object.keys(source ?? {})[0]
        if (sourceType === 'downwardAPI') continue
        if (sourceType !== undefined && PROJECTED_SOURCES[sourceType]) return `static pods may not reference ${PROJECTED_SOURCES[sourceType]}`
        return `unknown source for projected volume ${JSON.stringify(volume.name)}`
      }

      continue
    }

    return `unknown volume type for volume  ${JSON.stringify(volume.name)}`
  }

  return undefined
}

// ---- the whole path ----

/** `<name>-<lowercased node name>` (generatePodName). */
export function staticPodName(name: string, nodeName: string): string {
  return `${name}-${nodeName.toLowerCase()}`
}

/**
 * applyDefaults (pkg/kubelet/config/common.go): UID from the defaulted pod + node + source, suffixed name,
 * namespace, node name, config.hash annotation, NoExecute toleration (file source), phase Pending.
 */
function applyKubeletDefaults(pod: Json, nodeName: string, source: 'file' | 'http', from: string): string {
  const meta = pod.metadata as Json
  let uid = typeof meta.uid === 'string' ? meta.uid : ''
  if (uid === '') {
    // DeepHashObject(pod), then "host:<node>" "file:<path>" for files, "url:<url>" for the HTTP source.
    uid = fnv128a(canonicalJson(pod) + (source === 'file' ? `host:${nodeName}file:${from}` : `url:${from}`))
    meta.uid = uid
  }

  meta.name = staticPodName(meta.name as string, nodeName)
  if (typeof meta.namespace !== 'string' || meta.namespace === '') meta.namespace = 'default'
  const spec = pod.spec as Json
  spec.nodeName = nodeName
  meta.annotations = {...(meta.annotations as Json | undefined), 'kubernetes.io/config.hash': uid}
  if (source === 'file') {
    spec.tolerations = [...((spec.tolerations as Json[] | undefined) ?? []), {effect: 'NoExecute', operator: 'Exists'}]
  }

  (pod.status as Json).phase = 'Pending'
  return uid
}

/** tryDecodeSinglePod for an already decoded object: returns the static pod or throws the kubelet's error. */
function podFromObject(object: Json, nodeName: string, source: 'file' | 'http', from: string): StaticPod {
  if (object.kind !== 'Pod' || object.apiVersion !== 'v1') {
    throw new ManifestError(`invalid pod: ${goTypeName(String(object.apiVersion), String(object.kind))}{...}`)
  }

  const pod = decodePod(object)
  const meta = (pod.metadata ?? {}) as Json
  if (typeof meta.name !== 'string' || meta.name === '') {
    throw new ManifestError('invalid pod: name is needed for the pod', {cause: 'parsed'})
  }

  applyApiDefaults(pod)
  const uid = applyKubeletDefaults(pod, nodeName, source, from)
  const errors = validatePod(pod)
  // fmt's %v of a field.ErrorList (a slice, no Error method): `[err1 err2]`.
  if (errors.length > 0) throw new ManifestError(`invalid pod: [${errors.join(' ')}]`, {cause: 'parsed'})
  const reference = apiObjectReferenceError(pod)
  if (reference) throw new ManifestError(reference, {cause: 'parsed'})
  const m = pod.metadata as Json
  return {
    from, fullName: `${m.namespace as string}/${m.name as string}`, pod, source, uid,
  }
}

/** extractFromFile: the error message includes the file name unless the pod was parsed and then found invalid. */
export function podFromFile(data: Buffer, nodeName: string, file: string): StaticPod {
  if (data.length > MAX_CONFIG_LENGTH) throw new ManifestError('the read limit is reached')
  let object: Json
  try {
    object = decodeObject(data)
    return podFromObject(object, nodeName, 'file', file)
  } catch (error) {
    if (!(error instanceof ManifestError) || error.cause === 'parsed') throw error
    throw new ManifestError(`${file}: couldn't parse as pod(${error.message}), please check config file`)
  }
}

/** The HTTP source: a single Pod first, else a PodList (kubelet-facts §2). Errors lack the `<url>: ` prefix. */
export function podsFromHttpBody(data: Buffer, nodeName: string, url: string): StaticPod[] {
  let object: Json
  let singleError: string
  try {
    object = decodeObject(data)
  } catch (error) {
    throw new ManifestError(`received '${data.toString('utf8')}', but couldn't parse as single (${(error as Error).message}) or multiple pods (${(error as Error).message}).`)
  }

  if (object.kind === 'Pod') {
    try {
      return [podFromObject(object, nodeName, 'http', url)]
    } catch (error) {
      if (!(error instanceof ManifestError) || error.cause === 'parsed') throw error
      singleError = error.message
    }
  } else singleError = `invalid pod: ${goTypeName(String(object.apiVersion), String(object.kind))}{...}`

  if (object.kind !== 'PodList' || !Array.isArray(object.items)) {
    throw new ManifestError(`received '${data.toString('utf8')}', but couldn't parse as single (${singleError}) or multiple pods (invalid pods: ${goTypeName(String(object.apiVersion), String(object.kind))}{...}).`)
  }

  return (object.items as Json[]).map(item => podFromObject({apiVersion: 'v1', kind: 'Pod', ...item}, nodeName, 'http', url))
}
