import type {Json} from './selectors.js'

// Server-side printing (meta.k8s.io/v1 Table), as kube-apiserver does for `kubectl get`: the columns and cell
// logic of pkg/printers/internalversion for pods, nodes, namespaces and events.
import {humanDuration} from '../shared/util.js'

interface Column {
  description: string
  format: string
  name: string
  priority: number
  type: string
}

const column = (name: string, description: string, priority = 0, format = '', type = 'string'): Column => ({
  description, format, name, priority, type,
})

const NAME = column('Name', 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names', 0, 'name')
const AGE = column('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata')

export const COLUMNS: Record<string, Column[]> = {
  events: [
    column('Last Seen', ''),
    column('Type', ''),
    column('Reason', ''),
    column('Object', ''),
    column('Message', ''),
  ],
  namespaces: [NAME, column('Status', 'The status of the namespace'), AGE],
  nodes: [
    NAME,
    column('Status', 'The status of the node'),
    column('Roles', 'The roles of the node'),
    AGE,
    column('Version', 'Kubelet Version reported by the node.'),
    column('Internal-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
    column('External-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
    column('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
    column('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
    column('Container-Runtime', 'Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
  ],
  pods: [
    NAME,
    column('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE,
    column('IP', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
    column('Node', 'NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the scheduler simply schedules this pod onto that node, assuming that it fits resource requirements.', 1),
    column('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.', 1),
    column('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
  ],
}

function since(timestamp: unknown, now: number): string {
  if (typeof timestamp !== 'string' || timestamp === '') return '<unknown>'
  return humanDuration(now - Date.parse(timestamp))
}

function podCells(pod: Json, now: number): unknown[] {
  const meta = pod.metadata as Json
  const spec = (pod.spec ?? {}) as Json
  const status = (pod.status ?? {}) as Json
  const containers = (spec.containers as Json[] | undefined) ?? []
  const initSpecs = (spec.initContainers as Json[] | undefined) ?? []
  let restarts = 0
  let readyContainers = 0
  let lastRestart = 0
  let reason = String(status.reason ?? status.phase ?? '')
  const noteRestart = (s: Json) => {
    restarts += Number(s.restartCount ?? 0)
    const finished = ((s.lastState as Json | undefined)?.terminated as Json | undefined)?.finishedAt
    if (typeof finished === 'string') lastRestart = Math.max(lastRestart, Date.parse(finished))
  }

  let initializing = false
  for (const [i, s] of ((status.initContainerStatuses as Json[] | undefined) ?? []).entries()) {
    noteRestart(s)
    const state = (s.state ?? {}) as Json
    const terminated = state.terminated as Json | undefined
    const waiting = state.waiting as Json | undefined
    if (terminated && terminated.exitCode === 0) continue
    if (initSpecs[i]?.restartPolicy === 'Always' && s.started === true) continue
    if (terminated) {
      reason = terminated.reason ? `Init:${String(terminated.reason)}` : (terminated.signal ? `Init:Signal:${String(terminated.signal)}` : `Init:ExitCode:${String(terminated.exitCode)}`)
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') reason = `Init:${String(waiting.reason)}`
    else reason = `Init:${i}/${initSpecs.length}`
    initializing = true
    break
  }

  const conditions = (status.conditions as Json[] | undefined) ?? []
  const initializedTrue = conditions.some(c => c.type === 'Initialized' && c.status === 'True')
  if (!initializing || initializedTrue) {
    restarts = 0
    let hasRunning = false
    const statuses = (status.containerStatuses as Json[] | undefined) ?? []
    for (let i = statuses.length - 1; i >= 0; i--) {
      const s = statuses[i]!
      noteRestart(s)
      const state = (s.state ?? {}) as Json
      const waiting = state.waiting as Json | undefined
      const terminated = state.terminated as Json | undefined
      if (waiting?.reason) reason = String(waiting.reason)
      else if (terminated?.reason) reason = String(terminated.reason)
      else if (terminated) reason = terminated.signal ? `Signal:${String(terminated.signal)}` : `ExitCode:${String(terminated.exitCode)}`
      else if (s.ready === true && state.running) {
        hasRunning = true
        readyContainers++
      }
    }

    if (reason === 'Completed' && hasRunning) {
      reason = conditions.some(c => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady'
    }
  }

  if (meta.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown'
  else if (meta.deletionTimestamp) reason = 'Terminating'
  const restartText = restarts !== 0 && lastRestart > 0 ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts)
  const gates = (spec.readinessGates as Json[] | undefined) ?? []
  return [
    meta.name,
    `${readyContainers}/${containers.length}`,
    reason,
    restartText,
    since(meta.creationTimestamp, now),
    typeof status.podIP === 'string' && status.podIP ? status.podIP : '<none>',
    typeof spec.nodeName === 'string' && spec.nodeName ? spec.nodeName : '<none>',
    typeof status.nominatedNodeName === 'string' && status.nominatedNodeName ? status.nominatedNodeName : '<none>',
    gates.length > 0 ? `0/${gates.length}` : '<none>',
  ]
}

function nodeCells(node: Json, now: number): unknown[] {
  const meta = node.metadata as Json
  const spec = (node.spec ?? {}) as Json
  const status = (node.status ?? {}) as Json
  const ready = ((status.conditions as Json[] | undefined) ?? []).find(c => c.type === 'Ready')
  const states: string[] = []
  if (ready) states.push(ready.status === 'True' ? 'Ready' : 'NotReady')
  if (states.length === 0) states.push('Unknown')
  if (spec.unschedulable) states.push('SchedulingDisabled')
  const labels = (meta.labels ?? {}) as Record<string, string>
  const roles = new Set<string>()
  for (const [key, value] of Object.entries(labels)) {
    if (key.startsWith('node-role.kubernetes.io/')) roles.add(key.slice('node-role.kubernetes.io/'.length))
    else if (key === 'kubernetes.io/role' && value) roles.add(value)
  }

  const addresses = (status.addresses as Json[] | undefined) ?? []
  const address = (type: string) => String(addresses.find(a => a.type === type)?.address ?? '<none>')
  const info = (status.nodeInfo ?? {}) as Json
  return [
    meta.name,
    states.join(','),
    roles.size > 0 ? [...roles].sort().join(',') : '<none>',
    since(meta.creationTimestamp, now),
    info.kubeletVersion ?? '',
    address('InternalIP'),
    address('ExternalIP'),
    info.osImage ?? '<unknown>',
    info.kernelVersion ?? '<unknown>',
    info.containerRuntimeVersion ?? '<unknown>',
  ]
}

export function cells(resource: string, object: Json, now = Date.now()): unknown[] {
  switch (resource) {
  case 'namespaces': {
    const meta = object.metadata as Json
    return [meta.name, String(((object.status ?? {}) as Json).phase ?? 'Active'), since(meta.creationTimestamp, now)]
  }

  case 'nodes': {
    return nodeCells(object, now)
  }

  case 'pods': {
    return podCells(object, now)
  }

  default: {
    const meta = object.metadata as Json
    return [meta.name, since(meta.creationTimestamp, now)]
  }
  }
}

/** A Table of objects; each row carries the object's metadata (PartialObjectMetadata) or the whole object. */
export function table(resource: string, objects: Json[], resourceVersion: string, includeObject: string): Json {
  return {
    apiVersion: 'meta.k8s.io/v1',
    columnDefinitions: COLUMNS[resource] ?? [NAME, AGE],
    kind: 'Table',
    metadata: {resourceVersion},
    rows: objects.map(object => ({
      cells: cells(resource, object),
      object:
        includeObject === 'None'
          ? null
          : (includeObject === 'Object'
            ? object
            : {apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: object.metadata}),
    })),
  }
}
