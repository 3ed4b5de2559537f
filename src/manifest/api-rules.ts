import type {RawFinding} from './parse.js'

import * as names from './names.js'
import {
  asObject, asString, type ContainerRef, eachContainer, eachObject, type Obj,
} from './object.js'
import {escapeSegment} from './pointer.js'

/**
 * The parts of the API server's pod validation (ValidatePodCreate, which the kubelet runs on every
 * static pod) that a JSON schema cannot express: name syntax, uniqueness, required images, port
 * ranges, enums, quantities and cross references between mounts and volumes.
 */
export function checkApiRules(pod: Obj): RawFinding[] {
  const out: RawFinding[] = []
  const report = (rule: string, path: string, message: string) => out.push({message, path, rule})
  const metadata = asObject(pod.metadata)
  const spec = asObject(pod.spec)

  checkMetadata(metadata, report)
  if (!spec) return out

  checkEnums(spec, '/spec', POD_ENUMS, report)
  const volumes = checkVolumes(spec, report)
  checkContainers(spec, volumes, report)
  checkQuantities(asObject(spec.overhead), '/spec/overhead', report)
  const podResources = asObject(spec.resources)
  checkQuantities(asObject(podResources?.limits), '/spec/resources/limits', report)
  checkQuantities(asObject(podResources?.requests), '/spec/resources/requests', report)
  return out
}

type Report = (rule: string, path: string, message: string) => void

function checkMetadata(metadata: Obj | undefined, report: Report): void {
  if (!metadata) return
  const name = asString(metadata.name)
  if (name) {
    const reason = names.dns1123Subdomain(name)
    if (reason) report('api/name', '/metadata/name', `invalid pod name "${name}": ${reason}`)
  }

  const namespace = asString(metadata.namespace)
  if (namespace) {
    const reason = names.dns1123Label(namespace)
    if (reason) report('api/namespace', '/metadata/namespace', `invalid namespace "${namespace}": ${reason}`)
  }

  for (const [key, value] of Object.entries(asObject(metadata.labels) ?? {})) {
    const path = `/metadata/labels/${escapeSegment(key)}`
    const keyReason = names.qualifiedName(key)
    if (keyReason) report('api/label', path, `invalid label key "${key}": ${keyReason}`)
    if (typeof value === 'string') {
      const valueReason = names.labelValue(value)
      if (valueReason) report('api/label', path, `invalid value for label "${key}": ${valueReason}`)
    }
  }

  for (const key of Object.keys(asObject(metadata.annotations) ?? {})) {
    const reason = names.qualifiedName(key.toLowerCase())
    if (reason) report('api/label', `/metadata/annotations/${escapeSegment(key)}`, `invalid annotation key "${key}": ${reason}`)
  }
}

const VOLUME_META_FIELDS = new Set(['name'])

/** Returns the names of the pod's volumes, for the mount checks. */
function checkVolumes(spec: Obj, report: Report): Set<string> {
  const seen = new Set<string>()
  for (const [volume, path] of eachObject(spec, 'volumes', '/spec')) {
    const name = asString(volume.name)
    if (name !== undefined) {
      const reason = names.dns1123Label(name)
      if (reason) report('api/volume-name', `${path}/name`, `invalid volume name "${name}": ${reason}`)
      if (seen.has(name)) report('api/duplicate-name', `${path}/name`, `volume name "${name}" is used twice`)
      seen.add(name)
    }

    const sources = Object.keys(volume).filter(k => !VOLUME_META_FIELDS.has(k))
    if (sources.length === 0) {
      report('api/volume-source', path, `volume "${name ?? '?'}" has no source: give it one, such as hostPath or emptyDir`)
    } else if (sources.length > 1) {
      report('api/volume-source', `${path}/${sources[1]}`, `volume "${name ?? '?'}" has more than one source (${sources.join(', ')}); give it exactly one`)
    }

    const hostPath = asObject(volume.hostPath)
    if (hostPath) checkEnums(hostPath, `${path}/hostPath`, HOST_PATH_ENUMS, report)
    const emptyDir = asObject(volume.emptyDir)
    if (emptyDir) {
      checkEnums(emptyDir, `${path}/emptyDir`, EMPTY_DIR_ENUMS, report)
      checkQuantity(emptyDir.sizeLimit, `${path}/emptyDir/sizeLimit`, report)
    }
  }

  return seen
}

function checkContainers(spec: Obj, volumes: Set<string>, report: Report): void {
  const containerNames = new Set<string>()
  const hostPorts = new Map<string, string>()
  const hostNetwork = spec.hostNetwork === true
  for (const ref of eachContainer(spec)) {
    const {container, path} = ref
    const name = asString(container.name)
    if (name !== undefined) {
      const reason = names.dns1123Label(name)
      if (reason) report('api/container-name', `${path}/name`, `invalid container name "${name}": ${reason}`)
      if (containerNames.has(name)) report('api/duplicate-name', `${path}/name`, `container name "${name}" is used twice in the pod`)
      containerNames.add(name)
    }

    const {image} = container
    if (ref.list !== 'ephemeralContainers' && (image === undefined || image === '')) {
      report('api/image-required', `${path}/image`, `container "${name ?? '?'}" has no image`)
    } else if (typeof image === 'string' && image.trim() !== image) {
      report('api/image-required', `${path}/image`, `image "${image}" has leading or trailing whitespace`)
    }

    checkEnums(container, path, CONTAINER_ENUMS, report)
    checkEnv(container, path, report)
    checkPorts(ref, hostNetwork, hostPorts, report)
    checkProbes(container, path, report)
    checkMounts(container, path, volumes, report)
    const resources = asObject(container.resources)
    checkQuantities(asObject(resources?.limits), `${path}/resources/limits`, report)
    checkQuantities(asObject(resources?.requests), `${path}/resources/requests`, report)
  }
}

/** Printable ASCII but "=": what the API accepts since v1.34 (RelaxedEnvironmentVariableValidation, GA). */
const ENV_NAME = /^[\u0020-\u003C\u003E-\u007E]+$/

function checkEnv(container: Obj, path: string, report: Report): void {
  for (const [variable, variablePath] of eachObject(container, 'env', path)) {
    const name = asString(variable.name)
    if (name === '') report('api/env-name', `${variablePath}/name`, 'environment variable name is empty; the API server and the kubelet require one')
    else if (name !== undefined && !ENV_NAME.test(name)) {
      report('api/env-name', `${variablePath}/name`, `invalid environment variable name ${JSON.stringify(name)}: must consist only of printable ASCII characters other than "="`)
    }
  }
}

function checkPorts({container, path}: ContainerRef, hostNetwork: boolean, hostPorts: Map<string, string>, report: Report): void {
  const portNames = new Set<string>()
  for (const [port, portPath] of eachObject(container, 'ports', path)) {
    const name = asString(port.name)
    if (name !== undefined) {
      const reason = names.portName(name)
      if (reason) report('api/port-name', `${portPath}/name`, `invalid port name "${name}": ${reason}`)
      if (portNames.has(name)) report('api/duplicate-name', `${portPath}/name`, `port name "${name}" is used twice in this container`)
      portNames.add(name)
    }

    checkEnums(port, portPath, PORT_ENUMS, report)
    const {containerPort} = port
    if (typeof containerPort === 'number' && !validPort(containerPort)) {
      report('api/port-range', `${portPath}/containerPort`, `containerPort ${containerPort} is not between 1 and 65535`)
    }

    const {hostPort} = port
    if (typeof hostPort !== 'number' || hostPort === 0) continue
    if (!validPort(hostPort)) {
      report('api/port-range', `${portPath}/hostPort`, `hostPort ${hostPort} is not between 1 and 65535`)
      continue
    }

    if (hostNetwork && typeof containerPort === 'number' && hostPort !== containerPort) {
      report('api/host-port', `${portPath}/hostPort`, `hostPort ${hostPort} must equal containerPort ${containerPort} when hostNetwork is true`)
    }

    const key = `${asString(port.protocol) ?? 'TCP'}/${asString(port.hostIP) ?? ''}/${hostPort}`
    const previous = hostPorts.get(key)
    if (previous) report('api/host-port', `${portPath}/hostPort`, `hostPort ${hostPort} is already used at ${previous}`)
    else hostPorts.set(key, `${portPath}/hostPort`)
  }
}

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe']
const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc']
const HOOK_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'sleep']

function checkProbes(container: Obj, path: string, report: Report): void {
  for (const probeName of PROBES) {
    const probe = asObject(container[probeName])
    if (probe) checkHandler(probe, `${path}/${probeName}`, PROBE_HANDLERS, report)
  }

  const lifecycle = asObject(container.lifecycle)
  for (const hook of ['postStart', 'preStop']) {
    const handler = asObject(lifecycle?.[hook])
    if (handler) checkHandler(handler, `${path}/lifecycle/${hook}`, HOOK_HANDLERS, report)
  }
}

function checkHandler(handler: Obj, path: string, kinds: string[], report: Report): void {
  const present = kinds.filter(k => handler[k] !== undefined)
  if (present.length === 0) {
    report('api/probe-handler', path, `must have one handler (${kinds.join(', ')})`)
  } else if (present.length > 1) {
    report('api/probe-handler', `${path}/${present[1]}`, `may not have more than one handler (has ${present.join(' and ')})`)
  }

  for (const kind of ['httpGet', 'tcpSocket', 'grpc']) {
    const action = asObject(handler[kind])
    if (action) checkPortRef(action.port, `${path}/${kind}/port`, report)
  }

  const httpGet = asObject(handler.httpGet)
  if (httpGet) checkEnums(httpGet, `${path}/httpGet`, HTTP_GET_ENUMS, report)
}

/** A port given as a number (1–65535) or as the name of a container port. */
function checkPortRef(port: unknown, path: string, report: Report): void {
  if (typeof port === 'number' && !validPort(port)) {
    report('api/port-range', path, `port ${port} is not between 1 and 65535`)
  } else if (typeof port === 'string') {
    // A numeric string is an int-or-string carrying a number; anything else names a port.
    if (/^\d+$/.test(port)) {
      if (!validPort(Number(port))) report('api/port-range', path, `port ${port} is not between 1 and 65535`)
    } else {
      const reason = names.portName(port)
      if (reason) report('api/port-name', path, `invalid port name "${port}": ${reason}`)
    }
  }
}

function checkMounts(container: Obj, path: string, volumes: Set<string>, report: Report): void {
  const mountPaths = new Set<string>()
  for (const [mount, mountPath] of eachObject(container, 'volumeMounts', path)) {
    const name = asString(mount.name)
    if (name !== undefined && !volumes.has(name)) {
      report('api/volume-mount', `${mountPath}/name`, `volume mount names volume "${name}", which the pod does not define`)
    }

    const target = asString(mount.mountPath)
    if (target !== undefined) {
      if (mountPaths.has(target)) report('api/volume-mount', `${mountPath}/mountPath`, `mountPath "${target}" is mounted twice in this container`)
      mountPaths.add(target)
    }

    checkEnums(mount, mountPath, MOUNT_ENUMS, report)
  }

  for (const [device, devicePath] of eachObject(container, 'volumeDevices', path)) {
    const name = asString(device.name)
    if (name !== undefined && !volumes.has(name)) {
      report('api/volume-mount', `${devicePath}/name`, `volume device names volume "${name}", which the pod does not define`)
    }
  }
}

function checkQuantities(map: Obj | undefined, path: string, report: Report): void {
  if (!map) return
  for (const [resource, value] of Object.entries(map)) checkQuantity(value, `${path}/${escapeSegment(resource)}`, report)
}

function checkQuantity(value: unknown, path: string, report: Report): void {
  const reason = names.quantity(value)
  if (reason) report('api/quantity', path, `invalid quantity ${JSON.stringify(value)}: ${reason}`)
}

type Enums = Record<string, readonly string[]>

const POD_ENUMS: Enums = {
  dnsPolicy: ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'],
  preemptionPolicy: ['Never', 'PreemptLowerPriority'],
  restartPolicy: ['Always', 'Never', 'OnFailure'],
}
const CONTAINER_ENUMS: Enums = {
  imagePullPolicy: ['Always', 'IfNotPresent', 'Never'],
  terminationMessagePolicy: ['FallbackToLogsOnError', 'File'],
}
const PORT_ENUMS: Enums = {protocol: ['SCTP', 'TCP', 'UDP']}
const MOUNT_ENUMS: Enums = {mountPropagation: ['Bidirectional', 'HostToContainer', 'None']}
const HTTP_GET_ENUMS: Enums = {scheme: ['HTTP', 'HTTPS']}
const HOST_PATH_ENUMS: Enums = {
  type: ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'],
}
const EMPTY_DIR_ENUMS: Enums = {medium: ['', 'HugePages', 'Memory']}

function checkEnums(obj: Obj, path: string, enums: Enums, report: Report): void {
  for (const [field, allowed] of Object.entries(enums)) {
    const value = obj[field]
    // An empty value is defaulted by the API server before validation.
    if (typeof value !== 'string' || value === '' || allowed.includes(value)) continue
    if (field === 'medium' && value.startsWith('HugePages-')) continue
    const hint = allowed.find(a => a.toLowerCase() === value.toLowerCase())
    report(
      'api/enum',
      `${path}/${field}`,
      `${field} "${value}" is not one of ${allowed.filter(Boolean).join(', ')}${hint ? ` (did you mean "${hint}"?)` : ''}`,
    )
  }
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65_535
}
