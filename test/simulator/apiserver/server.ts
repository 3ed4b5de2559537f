// The API server stand-in of a sandbox cluster: core/v1 pods, nodes, namespaces (and an empty events list) over
// HTTPS with bearer tokens, enough of the real API for kubectl (discovery, /version, Table output, get, list,
// watch, label and field selectors, create, update, status, patch, delete with graceful deletion) and for the
// kubelet stand-ins (node registration and status, mirror pods under NodeRestriction's rules, the node proxy).
import http from 'node:http'
import https from 'node:https'

import {qosClass, rfc3339, uuid} from '../shared/util.js'
import {
  type Json, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError,
} from './selectors.js'
import {table} from './tables.js'

export const SERVER_VERSION = {
  buildDate: '2025-09-09T19:55:04Z',
  compiler: 'gc',
  emulationMajor: '1',
  emulationMinor: '34',
  gitCommit: '93248f9ae092f571eb870b7664c534bfc7d00f03',
  gitTreeState: 'clean',
  gitVersion: 'v1.34.1',
  goVersion: 'go1.24.6',
  major: '1',
  minCompatibilityMajor: '1',
  minCompatibilityMinor: '33',
  minor: '34',
  platform: 'linux/amd64',
}

export interface User {
  groups: string[]
  name: string
}

export interface ApiServerOptions {
  address: string
  cert: string
  /** Node names that get the node-role.kubernetes.io/control-plane label when they register (kubeadm does that). */
  controlPlaneNodes: string[]
  key: string
  /** After this long without a heartbeat, a node's conditions become Unknown (node-monitor-grace-period). */
  nodeMonitorGracePeriodMs: number
  port: number
  tokens: Record<string, User>
}

interface Kind {
  kind: string
  listKind: string
  namespaced: boolean
  shortNames: string[]
  singular: string
}

const KINDS: Record<string, Kind> = {
  events: {
    kind: 'Event', listKind: 'EventList', namespaced: true, shortNames: ['ev'], singular: 'event',
  },
  namespaces: {
    kind: 'Namespace', listKind: 'NamespaceList', namespaced: false, shortNames: ['ns'], singular: 'namespace',
  },
  nodes: {
    kind: 'Node', listKind: 'NodeList', namespaced: false, shortNames: ['no'], singular: 'node',
  },
  pods: {
    kind: 'Pod', listKind: 'PodList', namespaced: true, shortNames: ['po'], singular: 'pod',
  },
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Json,
  ) {
    super(message)
  }
}

const notFound = (resource: string, name: string) => new HttpError(404, 'NotFound', `${resource} "${name}" not found`, {kind: resource, name})
const forbidden = (resource: string, name: string, why: string) => new HttpError(403, 'Forbidden', `${resource} "${name}" is forbidden: ${why}`, {kind: resource, name})

interface Event {
  object: Json
  prev?: Json
  resource: string
  rv: number
  type: 'ADDED' | 'DELETED' | 'MODIFIED'
}

interface Watcher {
  fields: ReturnType<typeof parseFieldSelector>
  labels: ReturnType<typeof parseLabelSelector>
  namespace?: string
  resource: string
  send: (event: Event) => void
}

const clone = <T>(value: T): T => structuredClone(value)

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch
  const out: Json = target && typeof target === 'object' && !Array.isArray(target) ? {...(target as Json)} : {}
  for (const [key, value] of Object.entries(patch as Json)) {
    if (value === null) delete out[key]
    else out[key] = mergePatch(out[key], value)
  }

  return out
}

function jsonPatch(target: Json, ops: Json[]): Json {
  const out = clone(target)
  for (const op of ops) {
    const parts = String(op.path)
    .split('/')
    .slice(1)
    .map(p => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    const last = parts.pop()!
    let parent: Json = out
    for (const part of parts) {
      parent[part] ??= {}
      parent = parent[part] as Json
    }

    if (op.op === 'remove') delete parent[last]
    else if (op.op === 'add' || op.op === 'replace') parent[last] = op.value
    else if (op.op === 'test' && JSON.stringify(parent[last]) !== JSON.stringify(op.value)) {
      throw new HttpError(422, 'Invalid', 'the server rejected our request due to an error in our request')
    }
  }

  return out
}

function podPriority(spec: Json): number {
  if (spec.priorityClassName === 'system-node-critical') return 2_000_001_000
  if (spec.priorityClassName === 'system-cluster-critical') return 2_000_000_000
  return 0
}

export class ApiServer {
  private readonly history: Event[] = []
  private readonly objects = new Map<string, Map<string, Json>>(Object.keys(KINDS).map(resource => [resource, new Map()]))
  private rv = 1
  private server?: https.Server
  private timer?: NodeJS.Timeout
  private readonly watchers = new Set<Watcher>()

  constructor(private readonly options: ApiServerOptions) {
    for (const name of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) {
      this.put('namespaces', undefined, {metadata: {name}, spec: {finalizers: ['kubernetes']}, status: {phase: 'Active'}}, 'ADDED')
    }
  }

  async start(): Promise<void> {
    this.server = https.createServer({cert: this.options.cert, key: this.options.key}, (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.sendError(res, error instanceof HttpError ? error : new HttpError(500, 'InternalError', (error as Error).message))
      })
    })
    this.server.keepAliveTimeout = 30_000
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject)
      this.server!.listen(this.options.port, this.options.address, () => resolve())
    })
    this.timer = setInterval(() => this.monitorNodes(), 1000)
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.server?.closeAllConnections()
    await new Promise<void>(resolve => {
      if (this.server) this.server.close(() => resolve())
      else resolve()
    })
  }

  // ---- storage ----

  private admitNode(user: User, resource: string, verb: string, object: Json | undefined, name: string): void {
    const node = user.name.startsWith('system:node:') ? user.name.slice('system:node:'.length) : undefined
    if (!node) return
    if (resource === 'nodes') {
      if (name !== node) throw forbidden('nodes', name, `User "${user.name}" cannot ${verb} resource "nodes" in API group "" at the cluster scope: node "${node}" is not allowed to modify node "${name}"`)
      return
    }

    if (resource !== 'pods' || !object) return
    const spec = (object.spec ?? {}) as Json
    const meta = (object.metadata ?? {}) as Json
    if (verb === 'create') {
      const annotations = (meta.annotations ?? {}) as Record<string, string>
      if (annotations['kubernetes.io/config.mirror'] === undefined) {
        throw forbidden('pods', name, `pod does not have "kubernetes.io/config.mirror" annotation, node "${node}" can only create mirror pods`)
      }

      if (spec.nodeName !== node) throw forbidden('pods', name, `node "${node}" can only create pods with spec.nodeName set to itself`)
      const owners = (meta.ownerReferences as Json[] | undefined) ?? []
      const nodeObject = this.get('nodes', undefined, node)
      if (owners.length !== 1) throw forbidden('pods', name, `node "${node}" can only create pods with a single owner reference set to itself`)
      const owner = owners[0]!
      if (owner.apiVersion !== 'v1' || owner.kind !== 'Node' || owner.name !== node || owner.controller !== true) {
        throw forbidden('pods', name, `node "${node}" can only create pods with an owner reference set to itself`)
      }

      if (owner.blockOwnerDeletion === true) throw forbidden('pods', name, `node "${node}" must not set blockOwnerDeletion on an owner reference`)
      if (nodeObject && owner.uid !== (nodeObject.metadata as Json).uid) {
        throw forbidden('pods', name, `node ${node} UID mismatch: expected ${String((nodeObject.metadata as Json).uid)} got ${String(owner.uid)}`)
      }

      if (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName !== '') {
        throw forbidden('pods', name, 'a mirror pod may not reference service accounts')
      }
    } else if (spec.nodeName !== node) {
      throw forbidden('pods', name, `node "${node}" can only ${verb} pods with spec.nodeName set to itself`)
    }
  }

  private authenticate(req: http.IncomingMessage): User {
    const header = req.headers.authorization ?? ''
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : ''
    const user = this.options.tokens[token]
    if (!user) throw new HttpError(401, 'Unauthorized', 'Unauthorized')
    return user
  }

  private bump(): number {
    return ++this.rv
  }

  private create(resource: string, namespace: string | undefined, body: Json, user: User): Json {
    const kind = KINDS[resource]!
    const meta = {...((body?.metadata ?? {}) as Json)}
    if (!meta.name && meta.generateName) meta.name = `${String(meta.generateName)}${uuid().slice(0, 5)}`
    const name = String(meta.name ?? '')
    if (!name) throw new HttpError(422, 'Invalid', `${kind.kind} "" is invalid: metadata.name: Required value: name or generateName is required`)
    if (kind.namespaced) {
      namespace ??= String(meta.namespace ?? 'default')
      if (meta.namespace && meta.namespace !== namespace) {
        throw new HttpError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request')
      }

      if (!this.get('namespaces', undefined, namespace)) throw notFound('namespaces', namespace)
    }

    if (this.get(resource, namespace, name)) {
      throw new HttpError(409, 'AlreadyExists', `${resource} "${name}" already exists`, {kind: resource, name})
    }

    this.admitNode(user, resource, 'create', {...body, metadata: meta}, name)
    delete meta.uid
    delete meta.resourceVersion
    delete meta.creationTimestamp
    delete meta.deletionTimestamp
    const object: Json = {...body, metadata: meta}
    if (resource === 'pods') {
      const spec = {...((object.spec ?? {}) as Json)}
      spec.priority ??= podPriority(spec)
      spec.preemptionPolicy ??= 'PreemptLowerPriority'
      spec.enableServiceLinks ??= true
      object.spec = spec
      // PrepareForCreate: the status starts over.
      object.status = {phase: 'Pending', qosClass: qosClass(spec)}
    }

    if (resource === 'nodes' && this.options.controlPlaneNodes.includes(name)) {
      meta.labels = {...((meta.labels ?? {}) as Json), 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': ''}
    }

    if (resource === 'namespaces') object.status = {phase: 'Active'}
    return this.put(resource, namespace, object, 'ADDED')
  }

  private delete(resource: string, namespace: string | undefined, name: string, options: Json, params: URLSearchParams, user: User): Json {
    const object = this.get(resource, namespace, name)
    if (!object) throw notFound(resource, name)
    this.admitNode(user, resource, 'delete', object, name)
    const meta = object.metadata as Json
    const preconditions = (options.preconditions ?? {}) as Json
    if (preconditions.uid && preconditions.uid !== meta.uid) {
      throw new HttpError(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": Precondition failed: UID in precondition: ${String(preconditions.uid)}, UID in object meta: ${String(meta.uid)}`)
    }

    if (resource === 'pods') {
      const spec = (object.spec ?? {}) as Json
      const status = (object.status ?? {}) as Json
      const requested = options.gracePeriodSeconds ?? (params.has('gracePeriodSeconds') ? Number(params.get('gracePeriodSeconds')) : undefined)
      let grace = Number(requested ?? spec.terminationGracePeriodSeconds ?? 30)
      // CheckGracefulDelete: unbound or finished pods go at once.
      if (!spec.nodeName || status.phase === 'Succeeded' || status.phase === 'Failed') grace = 0
      if (grace > 0) {
        if (meta.deletionTimestamp && Number(meta.deletionGracePeriodSeconds ?? 0) <= grace) return object
        const updated = {...object, metadata: {...meta, deletionGracePeriodSeconds: grace, deletionTimestamp: rfc3339(Date.now() + (grace * 1000))}}
        return this.put(resource, namespace, updated, 'MODIFIED')
      }
    }

    return this.remove(resource, namespace, name)
  }

  private emit(event: Event): void {
    this.history.push(event)
    if (this.history.length > 5000) this.history.shift()
    for (const watcher of this.watchers) watcher.send(event)
  }

  private filtered(resource: string, namespace: string | undefined, params: URLSearchParams): {fields: Watcher['fields']; labels: Watcher['labels']} {
    try {
      return {
        fields: parseFieldSelector(params.get('fieldSelector') ?? '', resource),
        labels: parseLabelSelector(params.get('labelSelector') ?? ''),
      }
    } catch (error) {
      if (error instanceof SelectorError) throw new HttpError(400, 'BadRequest', error.message)
      throw error
    }
  }

  // ---- HTTP ----

  private get(resource: string, namespace: string | undefined, name: string): Json | undefined {
    return this.objects.get(resource)!.get(this.key(namespace, name))
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://apiserver')
    const path = url.pathname.replace(/\/+$/, '') || '/'
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, {'content-type': 'text/plain; charset=utf-8'})
      res.end('ok')
      return
    }

    const user = this.authenticate(req)
    const body = await readBody(req)
    const send = (status: number, object: unknown) => {
      const text = JSON.stringify(object)
      res.writeHead(status, {'cache-control': 'no-cache, private', 'content-length': Buffer.byteLength(text), 'content-type': 'application/json'})
      res.end(text)
    }

    if (path === '/version') return send(200, SERVER_VERSION)
    if (path === '/api') {
      return send(200, {kind: 'APIVersions', serverAddressByClientCIDRs: [{clientCIDR: '0.0.0.0/0', serverAddress: `${this.options.address}:${this.options.port}`}], versions: ['v1']})
    }

    if (path === '/apis') return send(200, {apiVersion: 'v1', groups: [], kind: 'APIGroupList'})
    if (path === '/api/v1') return send(200, this.resourceList())
    if (!path.startsWith('/api/v1/')) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource')
    const parts = path.slice('/api/v1/'.length).split('/').map(part => decodeURIComponent(part))
    let namespace: string | undefined
    if (parts[0] === 'namespaces' && parts.length >= 3 && KINDS[parts[2]!]) {
      namespace = parts[1]
      parts.splice(0, 2)
    }

    const [resource, name, subresource, ...rest] = parts as [string, string | undefined, string | undefined, ...string[]]
    const kind = KINDS[resource]
    if (!kind) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource')
    if (namespace !== undefined && !kind.namespaced) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource')
    if (resource === 'nodes' && name && subresource === 'proxy') {
      await this.proxy(name, `/${rest.join('/')}${url.search}`, res)
      return
    }

    if (resource === 'pods' && name && subresource === 'log' && req.method === 'GET') {
      await this.podLog(namespace ?? 'default', name, url.searchParams, res)
      return
    }

    const accept = String(req.headers.accept ?? '')
    const asTable = accept.includes('as=Table')
    const method = req.method ?? 'GET'
    if (method === 'GET' && !name) {
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        this.watch(resource, namespace, url.searchParams, asTable, res)
        return
      }

      return send(200, this.list(resource, namespace, url.searchParams, asTable))
    }

    if (method === 'GET' && name) {
      const object = this.get(resource, namespace, name)
      if (!object) throw notFound(resource, name)
      if (subresource && subresource !== 'status') throw new HttpError(404, 'NotFound', 'the server could not find the requested resource')
      return send(200, asTable ? table(resource, [object], String(this.rv), url.searchParams.get('includeObject') ?? 'Metadata') : object)
    }

    if (method === 'POST' && !name) return send(201, this.create(resource, namespace, body as Json, user))
    if (method === 'PUT' && name) return send(200, this.update(resource, namespace, name, subresource, body as Json, user))
    if (method === 'PATCH' && name) {
      const patched = this.patch(resource, namespace, name, subresource, body, String(req.headers['content-type'] ?? ''), user)
      return send(200, patched)
    }

    if (method === 'DELETE' && name) return send(200, this.delete(resource, namespace, name, (body ?? {}) as Json, url.searchParams, user))
    throw new HttpError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
  }

  private key(namespace: string | undefined, name: string): string {
    return namespace ? `${namespace}/${name}` : name
  }

  private list(resource: string, namespace: string | undefined, params: URLSearchParams, asTable: boolean): Json {
    const selectors = this.filtered(resource, namespace, params)
    const items = [...this.objects.get(resource)!.entries()]
    .sort(([a], [b]) => (a < b ? -1 : (a > b ? 1 : 0)))
    .map(([, object]) => object)
    .filter(object => this.matches(object, namespace, selectors))
    if (asTable) return table(resource, items, String(this.rv), params.get('includeObject') ?? 'Metadata')
    return {
      apiVersion: 'v1',
      items: items.map(object => {
        const rest = {...object}
        delete rest.apiVersion
        delete rest.kind
        return rest
      }),
      kind: KINDS[resource]!.listKind,
      metadata: {resourceVersion: String(this.rv)},
    }
  }

  private matches(object: Json, namespace: string | undefined, selectors: {fields: Watcher['fields']; labels: Watcher['labels']}): boolean {
    const meta = object.metadata as Json
    if (namespace !== undefined && meta.namespace !== namespace) return false
    return matchesLabels(meta.labels as Record<string, string> | undefined, selectors.labels) && matchesFields(object, selectors.fields)
  }

  /** The node lifecycle controller: a node that stops posting status gets Unknown conditions and the unreachable taints. */
  private monitorNodes(): void {
    const now = Date.now()
    for (const node of this.objects.get('nodes')!.values()) {
      const status = (node.status ?? {}) as Json
      const conditions = (status.conditions as Json[] | undefined) ?? []
      const ready = conditions.find(c => c.type === 'Ready')
      if (!ready || ready.status === 'Unknown') continue
      const heartbeat = Date.parse(String(ready.lastHeartbeatTime ?? ''))
      if (Number.isNaN(heartbeat) || now - heartbeat < this.options.nodeMonitorGracePeriodMs) continue
      const updated = clone(node)
      const stamp = rfc3339(now)
      for (const condition of ((updated.status as Json).conditions as Json[]) ?? []) {
        condition.status = 'Unknown'
        condition.reason = 'NodeStatusUnknown'
        condition.message = 'Kubelet stopped posting node status.'
        condition.lastTransitionTime = stamp
      }

      const spec = (updated.spec ?? {}) as Json
      spec.taints = [
        ...((spec.taints as Json[] | undefined) ?? []).filter(t => t.key !== 'node.kubernetes.io/unreachable'),
        {effect: 'NoSchedule', key: 'node.kubernetes.io/unreachable', timeAdded: stamp},
        {effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', timeAdded: stamp},
      ]
      updated.spec = spec
      this.put('nodes', undefined, updated, 'MODIFIED')
      // MarkPodsNotReady
      for (const pod of this.objects.get('pods')!.values()) {
        if ((pod.spec as Json | undefined)?.nodeName !== (node.metadata as Json).name) continue
        const podCopy = clone(pod)
        for (const condition of (((podCopy.status ?? {}) as Json).conditions as Json[] | undefined) ?? []) {
          if (condition.type === 'Ready') {
            condition.status = 'False'
            condition.lastTransitionTime = stamp
          }
        }

        this.put('pods', String((pod.metadata as Json).namespace), podCopy, 'MODIFIED')
      }
    }
  }

  private patch(resource: string, namespace: string | undefined, name: string, subresource: string | undefined, body: unknown, contentType: string, user: User): Json {
    const object = this.get(resource, namespace, name)
    if (!object) throw notFound(resource, name)
    this.admitNode(user, resource, 'patch', object, name)
    const patched = contentType.includes('json-patch') ? jsonPatch(object, body as Json[]) : (mergePatch(object, body) as Json)
    return this.store(resource, namespace, name, subresource, object, patched)
  }

  /** pods/log: the kubelet of the pod's node serves the container's log (GET /containerLogs/...). */
  private async podLog(namespace: string, name: string, params: URLSearchParams, res: http.ServerResponse): Promise<void> {
    const pod = this.get('pods', namespace, name)
    if (!pod) throw notFound('pods', name)
    const spec = (pod.spec ?? {}) as Json
    const containers = ((spec.containers as Json[] | undefined) ?? []).map(c => String(c.name))
    const container = params.get('container') ?? (containers.length === 1 ? containers[0] : undefined)
    if (!container) {
      throw new HttpError(400, 'BadRequest', `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`)
    }

    if (!containers.includes(container)) throw new HttpError(400, 'BadRequest', `container ${container} is not valid for pod ${name}`)
    const query = new URLSearchParams()
    for (const key of ['previous', 'tailLines', 'timestamps']) {
      const value = params.get(key)
      if (value !== null) query.set(key, value)
    }

    const node = String(spec.nodeName ?? '')
    await this.proxy(node, `/containerLogs/${namespace}/${name}/${container}?${query.toString()}`, res)
  }

  private async proxy(node: string, target: string, res: http.ServerResponse): Promise<void> {
    const object = this.get('nodes', undefined, node)
    if (!object) throw notFound('nodes', node)
    const status = (object.status ?? {}) as Json
    const address = String(((status.addresses as Json[] | undefined) ?? []).find(a => a.type === 'InternalIP')?.address ?? '')
    const port = Number((((status.daemonEndpoints as Json | undefined)?.kubeletEndpoint as Json | undefined)?.Port as number | undefined) ?? 10_250)
    await new Promise<void>(resolve => {
      const req = http.get({
        host: address, path: target, port, timeout: 10_000,
      }, upstream => {
        res.writeHead(upstream.statusCode ?? 502, {'content-type': upstream.headers['content-type'] ?? 'application/json'})
        upstream.pipe(res)
        upstream.on('end', () => resolve())
      })
      req.on('error', error => {
        this.sendError(res, new HttpError(503, 'ServiceUnavailable', `error trying to reach service: dial tcp ${address}:${port}: connect: ${(error as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'connection refused' : error.message}`))
        resolve()
      })
    })
  }

  private put(resource: string, namespace: string | undefined, object: Json, type: Event['type']): Json {
    const meta = object.metadata as Json
    const kind = KINDS[resource]!
    const previous = this.get(resource, namespace, String(meta.name))
    const rv = this.bump()
    const stored: Json = {
      ...object,
      apiVersion: 'v1',
      kind: kind.kind,
      metadata: {
        ...meta,
        creationTimestamp: meta.creationTimestamp ?? rfc3339(),
        ...(namespace ? {namespace} : {}),
        resourceVersion: String(rv),
        uid: meta.uid ?? uuid(),
      },
    }
    this.objects.get(resource)!.set(this.key(namespace, String(meta.name)), stored)
    this.emit({
      object: clone(stored), ...(previous ? {prev: clone(previous)} : {}), resource, rv, type,
    })
    return stored
  }

  private remove(resource: string, namespace: string | undefined, name: string): Json {
    const object = this.get(resource, namespace, name)!
    this.objects.get(resource)!.delete(this.key(namespace, name))
    const rv = this.bump()
    const deleted = {...object, metadata: {...(object.metadata as Json), resourceVersion: String(rv)}}
    this.emit({
      object: clone(deleted), prev: clone(object), resource, rv, type: 'DELETED',
    })
    return deleted
  }

  private resourceList(): Json {
    const resources: Json[] = []
    for (const [name, kind] of Object.entries(KINDS)) {
      resources.push({
        kind: kind.kind,
        name,
        namespaced: kind.namespaced,
        shortNames: kind.shortNames,
        singularName: kind.singular,
        storageVersionHash: '',
        verbs: VERBS,
        ...(name === 'pods' ? {categories: ['all']} : {}),
      })
      if (name === 'pods' || name === 'nodes' || name === 'namespaces') {
        resources.push({
          kind: kind.kind, name: `${name}/status`, namespaced: kind.namespaced, singularName: '', verbs: ['get', 'patch', 'update'],
        })
      }
    }

    resources.push({
      kind: 'Pod', name: 'pods/log', namespaced: true, singularName: '', verbs: ['get'],
    }, {
      kind: 'NodeProxyOptions', name: 'nodes/proxy', namespaced: false, singularName: '', verbs: ['create', 'delete', 'get', 'patch', 'update'],
    })
    return {
      apiVersion: 'v1', groupVersion: 'v1', kind: 'APIResourceList', resources,
    }
  }

  private sendError(res: http.ServerResponse, error: HttpError): void {
    if (res.headersSent) {
      res.end()
      return
    }

    const body = JSON.stringify({
      apiVersion: 'v1',
      code: error.code,
      ...(error.details ? {details: error.details} : {}),
      kind: 'Status',
      message: error.message,
      metadata: {},
      reason: error.reason,
      status: 'Failure',
    })
    res.writeHead(error.code, {'content-length': Buffer.byteLength(body), 'content-type': 'application/json'})
    res.end(body)
  }

  /** Writes an update: the main resource keeps its status, the status subresource changes only the status. */
  private store(resource: string, namespace: string | undefined, name: string, subresource: string | undefined, current: Json, incoming: Json): Json {
    const meta = current.metadata as Json
    const incomingMeta = (incoming.metadata ?? {}) as Json
    if (incomingMeta.resourceVersion && incomingMeta.resourceVersion !== meta.resourceVersion) {
      throw new HttpError(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`)
    }

    let next: Json
    if (subresource === 'status') next = {...current, status: incoming.status}
    else {
      next = {
        ...current,
        metadata: {
          ...meta,
          annotations: incomingMeta.annotations,
          finalizers: incomingMeta.finalizers,
          labels: incomingMeta.labels,
        },
        ...(resource === 'pods' ? {} : {spec: incoming.spec ?? current.spec}),
      }
      if (resource === 'nodes' && incoming.status) next.status = incoming.status
    }

    for (const key of ['annotations', 'finalizers', 'labels']) {
      if ((next.metadata as Json)[key] === undefined) delete (next.metadata as Json)[key]
    }

    return this.put(resource, namespace, next, 'MODIFIED')
  }

  private update(resource: string, namespace: string | undefined, name: string, subresource: string | undefined, body: Json, user: User): Json {
    const object = this.get(resource, namespace, name)
    if (!object) throw notFound(resource, name)
    this.admitNode(user, resource, 'update', object, name)
    if (resource === 'nodes' && subresource === 'status') {
      // The kubelet's heartbeat: the status, and its labels when it registers again.
      const labels = {...((body.metadata as Json | undefined)?.labels as Json | undefined), ...(((object.metadata as Json).labels ?? {}) as Json)}
      const next = {...object, metadata: {...(object.metadata as Json), labels}, status: body.status}
      const spec = {...((object.spec ?? {}) as Json)}
      const ready = (((body.status as Json | undefined)?.conditions as Json[] | undefined) ?? []).find(c => c.type === 'Ready')
      if (ready?.status === 'True' && Array.isArray(spec.taints)) {
        spec.taints = (spec.taints as Json[]).filter(t => t.key !== 'node.kubernetes.io/unreachable')
        if ((spec.taints as Json[]).length === 0) delete spec.taints
      }

      return this.put(resource, namespace, {...next, spec}, 'MODIFIED')
    }

    return this.store(resource, namespace, name, subresource, object, body)
  }

  private watch(resource: string, namespace: string | undefined, params: URLSearchParams, asTable: boolean, res: http.ServerResponse): void {
    const selectors = this.filtered(resource, namespace, params)
    const includeObject = params.get('includeObject') ?? 'Metadata'
    res.writeHead(200, {'cache-control': 'no-cache, private', 'content-type': 'application/json', 'transfer-encoding': 'chunked'})
    const write = (type: string, object: Json) => {
      const payload = asTable && type !== 'ERROR' && type !== 'BOOKMARK' ? table(resource, [object], String((object.metadata as Json).resourceVersion), includeObject) : object
      res.write(`${JSON.stringify({object: payload, type})}\n`)
    }

    const deliver = (event: Event) => {
      if (event.resource !== resource) return
      const now = this.matches(event.object, namespace, selectors)
      const before = event.prev ? this.matches(event.prev, namespace, selectors) : false
      if (event.type === 'DELETED') {
        if (before || now) write('DELETED', event.object)
      } else if (now && before) write(event.type === 'ADDED' ? 'ADDED' : 'MODIFIED', event.object)
      else if (now) write('ADDED', event.object)
      else if (before) write('DELETED', event.object)
    }

    const from = params.get('resourceVersion') ?? ''
    if (from === '' || from === '0') {
      for (const object of this.objects.get(resource)!.values()) if (this.matches(object, namespace, selectors)) write('ADDED', object)
    } else {
      const since = Number(from)
      const oldest = this.history[0]?.rv ?? this.rv
      if (since < oldest - 1) {
        write('ERROR', {
          apiVersion: 'v1', code: 410, kind: 'Status', message: `too old resource version: ${since} (${oldest - 1})`, metadata: {}, reason: 'Expired', status: 'Failure',
        })
        res.end()
        return
      }

      for (const event of this.history) if (event.rv > since) deliver(event)
    }

    const watcher: Watcher = {
      ...selectors, namespace, resource, send: deliver,
    }
    this.watchers.add(watcher)
    const timeout = Number(params.get('timeoutSeconds') ?? 0)
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined
    const done = () => {
      clearTimeout(timer)
      this.watchers.delete(watcher)
    }

    res.on('close', done)
    res.on('finish', done)
  }
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  if (text === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new HttpError(400, 'BadRequest', `error decoding request body: ${text.slice(0, 100)}`)
  }
}
