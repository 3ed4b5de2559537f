// The kubelet's API side: registers its Node and keeps its status fresh, watches the pods bound to the node, and
// keeps one mirror pod per static pod (kubelet-facts §4.1): created with the static pod's annotations plus
// kubernetes.io/config.mirror and an ownerReference to the Node, recreated when deleted or outdated, deleted
// when orphaned, with the pod status written to it.
import {readFileSync} from 'node:fs'
import {arch, release} from 'node:os'

import type {Logger} from '../../shared/klog.js'

import {
  background, canonicalJson, rfc3339, sleep, uuid,
} from '../../shared/util.js'
import {ApiClient, ApiError, type Json} from './api.js'
import {type DesiredPod, podAnnotations} from './pods.js'

export const KUBELET_VERSION = 'v1.34.1'

function osImage(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux'
  } catch {
    return 'Linux'
  }
}

const GO_ARCH: Record<string, string> = {arm64: 'arm64', x64: 'amd64'}

export interface NodeIdentity {
  containerRuntimeVersion: string
  labels: Record<string, string>
  name: string
  nodeIp: string
  statusUpdateFrequencyMs: number
}

export class MirrorManager {
  /** Pods bound to this node, from the watch, by namespace/name. */
  readonly cache = new Map<string, Json>()
  onChange: () => void = () => {}
  private nodeUid?: string
  private reconciling = false
  private readonly startedAt = rfc3339()
  private stopped = false
  private watchAbort?: () => void

  constructor(
    private readonly api: ApiClient,
    private readonly node: NodeIdentity,
    private readonly log: Logger,
  ) {}

  get registered(): boolean {
    return this.nodeUid !== undefined
  }

  /** Makes the mirror pods match the static pods and writes their statuses. */
  async reconcile(desired: Map<string, DesiredPod>, statuses: Map<string, Json>): Promise<void> {
    if (!this.nodeUid || this.reconciling) return
    this.reconciling = true
    try {
      const wanted = new Map([...desired.values()].map(pod => [pod.fullName, pod]))
      for (const [key, mirror] of this.cache) {
        const annotations = ((mirror.metadata as Json).annotations ?? {}) as Record<string, string>
        if (annotations['kubernetes.io/config.mirror'] === undefined) continue
        const pod = wanted.get(key)
        const meta = mirror.metadata as Json
        if (!pod) {
          this.log.info('kubelet_pods.go:1259', 'Deleting orphaned mirror pod', 'podName', key)
          // eslint-disable-next-line no-await-in-loop
          await this.deleteMirror(mirror)
        } else if (meta.deletionTimestamp || annotations['kubernetes.io/config.mirror'] !== pod.uid) {
          this.log.info('kubelet.go:1944', 'Trying to delete pod', 'pod', key, 'podUID', meta.uid)
          // eslint-disable-next-line no-await-in-loop
          await this.deleteMirror(mirror)
          this.log.info('kubelet.go:1948', 'Deleted mirror pod because it is outdated', 'pod', key)
        }
      }

      for (const pod of wanted.values()) {
        const status = statuses.get(pod.uid)
        const mirror = this.cache.get(pod.fullName)
        if (!mirror) {
          this.log.info('kubelet.go:1963', 'Creating a mirror pod for static pod', 'pod', pod.fullName)
          // eslint-disable-next-line no-await-in-loop
          await this.createMirror(pod, status)
          continue
        }

        const meta = mirror.metadata as Json
        const annotations = (meta.annotations ?? {}) as Record<string, string>
        if (meta.deletionTimestamp || annotations['kubernetes.io/config.mirror'] !== pod.uid || !status) continue
        if (canonicalJson(mirror.status ?? {}) === canonicalJson(status)) continue
        // eslint-disable-next-line no-await-in-loop
        await this.updateStatus(mirror, status)
      }
    } catch (error) {
      this.log.error('status_manager.go:875', 'Failed to update status for pod', 'err', (error as Error).message)
    } finally {
      this.reconciling = false
    }
  }

  /** Registers the node (retrying), then keeps its status and the pod watch going. */
  start(): void {
    background(this.register().then(() => {
      background(this.heartbeat())
      background(this.watchPods())
      this.onChange()
    }))
  }

  stop(): void {
    this.stopped = true
    this.watchAbort?.()
    this.api.close()
  }

  private async createMirror(pod: DesiredPod, status: Json | undefined): Promise<void> {
    const meta = pod.pod.metadata as Json
    const body = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        annotations: {...podAnnotations(pod), 'kubernetes.io/config.mirror': pod.uid},
        ...(meta.labels ? {labels: meta.labels} : {}),
        name: meta.name,
        namespace: meta.namespace,
        ownerReferences: [{
          apiVersion: 'v1', controller: true, kind: 'Node', name: this.node.name, uid: this.nodeUid,
        }],
      },
      spec: pod.pod.spec,
      status: status ?? {phase: 'Pending'},
    }
    try {
      const created = await this.api.request<Json>('POST', `/api/v1/namespaces/${String(meta.namespace)}/pods`, body)
      this.cache.set(pod.fullName, created)
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) return
      this.log.error('kubelet.go:1966', 'Failed creating a mirror pod', 'err', (error as Error).message, 'pod', pod.fullName)
    }
  }

  private async deleteMirror(mirror: Json): Promise<void> {
    const meta = mirror.metadata as Json
    try {
      await this.api.request('DELETE', `/api/v1/namespaces/${String(meta.namespace)}/pods/${String(meta.name)}`, {
        apiVersion: 'v1',
        gracePeriodSeconds: 0,
        kind: 'DeleteOptions',
        preconditions: {uid: meta.uid},
      })
    } catch (error) {
      if (!(error instanceof ApiError && (error.status === 404 || error.status === 409))) {
        this.log.error('mirror_client.go:131', 'Failed deleting a mirror pod', 'err', (error as Error).message, 'pod', `${String(meta.namespace)}/${String(meta.name)}`)
        return
      }
    }

    this.cache.delete(`${String(meta.namespace)}/${String(meta.name)}`)
  }

  private async heartbeat(): Promise<void> {
    while (!this.stopped) {
      // eslint-disable-next-line no-await-in-loop
      await sleep(this.node.statusUpdateFrequencyMs)
      if (this.stopped) return
      try {
        // eslint-disable-next-line no-await-in-loop
        await this.api.request('PUT', `/api/v1/nodes/${this.node.name}/status`, this.nodeObject())
      } catch (error) {
        this.log.error('kubelet_node_status.go:549', 'Error updating node status, will retry', 'err', (error as Error).message)
      }
    }
  }

  private nodeObject(): Json {
    const now = rfc3339()
    const condition = (type: string, status: string, reason: string, message: string) => ({
      lastHeartbeatTime: now,
      lastTransitionTime: this.startedAt,
      message,
      reason,
      status,
      type,
    })
    const goArch = GO_ARCH[arch()] ?? arch()
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        annotations: {'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true'},
        labels: {
          'beta.kubernetes.io/arch': goArch,
          'beta.kubernetes.io/os': 'linux',
          'kubernetes.io/arch': goArch,
          'kubernetes.io/hostname': this.node.name,
          'kubernetes.io/os': 'linux',
          ...this.node.labels,
        },
        name: this.node.name,
        ...(this.nodeUid ? {uid: this.nodeUid} : {}),
      },
      spec: {},
      status: {
        addresses: [
          {address: this.node.nodeIp, type: 'InternalIP'},
          {address: this.node.name, type: 'Hostname'},
        ],
        allocatable: {
          cpu: '2', 'ephemeral-storage': '19586931083', 'hugepages-2Mi': '0', memory: '3929332Ki', pods: '110',
        },
        capacity: {
          cpu: '2', 'ephemeral-storage': '20134592Ki', 'hugepages-2Mi': '0', memory: '4031732Ki', pods: '110',
        },
        conditions: [
          condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
          condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
          condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
          condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
        ],
        daemonEndpoints: {kubeletEndpoint: {Port: 10_250}},
        nodeInfo: {
          architecture: goArch,
          bootID: uuid(),
          containerRuntimeVersion: this.node.containerRuntimeVersion,
          kernelVersion: release(),
          kubeletVersion: KUBELET_VERSION,
          kubeProxyVersion: '',
          machineID: '',
          operatingSystem: 'linux',
          osImage: osImage(),
          systemUUID: '',
        },
      },
    }
  }

  private async register(): Promise<void> {
    let delay = 100
    while (!this.stopped) {
      this.log.info('kubelet_node_status.go:75', 'Attempting to register node', 'node', this.node.name)
      try {
        // eslint-disable-next-line no-await-in-loop
        const created = await this.api.request<Json>('POST', '/api/v1/nodes', this.nodeObject())
        this.nodeUid = String((created.metadata as Json).uid)
        this.log.info('kubelet_node_status.go:78', 'Successfully registered node', 'node', this.node.name)
        return
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) {
          // eslint-disable-next-line no-await-in-loop
          const existing = await this.api.request<Json>('GET', `/api/v1/nodes/${this.node.name}`).catch(() => {})
          if (existing) {
            this.nodeUid = String((existing.metadata as Json).uid)
            // eslint-disable-next-line no-await-in-loop
            await this.api.request('PUT', `/api/v1/nodes/${this.node.name}/status`, this.nodeObject()).catch(() => {})
            this.log.info('kubelet_node_status.go:78', 'Successfully registered node', 'node', this.node.name)
            return
          }
        }

        this.log.error('kubelet_node_status.go:107', 'Unable to register node with API server', 'err', (error as Error).message, 'node', this.node.name)
      }

      // eslint-disable-next-line no-await-in-loop
      await sleep(delay)
      delay = Math.min(delay * 2, 7000)
    }
  }

  private async updateStatus(mirror: Json, status: Json): Promise<void> {
    const meta = mirror.metadata as Json
    try {
      const updated = await this.api.request<Json>('PUT', `/api/v1/namespaces/${String(meta.namespace)}/pods/${String(meta.name)}/status`, {...mirror, status})
      this.cache.set(`${String(meta.namespace)}/${String(meta.name)}`, updated)
    } catch (error) {
      if (error instanceof ApiError && (error.status === 404 || error.status === 409)) return
      throw error
    }
  }

  /** Lists and watches the pods bound to this node (the kubelet's API pod source), relisting whenever the watch ends. */
  private async watchPods(): Promise<void> {
    const selector = encodeURIComponent(`spec.nodeName=${this.node.name}`)
    while (!this.stopped) {
      try {
        // eslint-disable-next-line no-await-in-loop
        const list = await this.api.request<Json>('GET', `/api/v1/pods?fieldSelector=${selector}`)
        this.cache.clear()
        for (const item of (list.items as Json[] | undefined) ?? []) {
          const meta = item.metadata as Json
          this.cache.set(`${String(meta.namespace)}/${String(meta.name)}`, item)
        }

        this.onChange()
        const rv = String((list.metadata as Json | undefined)?.resourceVersion ?? '')
        const watch = this.api.watch(`/api/v1/pods?fieldSelector=${selector}&watch=true&resourceVersion=${rv}`, event => {
          const meta = event.object.metadata as Json | undefined
          if (!meta || event.type === 'BOOKMARK' || event.type === 'ERROR') return
          const key = `${String(meta.namespace)}/${String(meta.name)}`
          if (event.type === 'DELETED') {
            if ((this.cache.get(key)?.metadata as Json | undefined)?.uid === meta.uid) this.cache.delete(key)
          } else this.cache.set(key, event.object)
          this.onChange()
        })
        this.watchAbort = watch.abort
        // eslint-disable-next-line no-await-in-loop
        await watch.done
      } catch (error) {
        if (this.stopped) return
        this.log.error('reflector.go:158', 'Failed to watch', 'reflector', 'pkg/kubelet/config/apiserver.go:66', 'type', '*v1.Pod', 'err', (error as Error).message)
      }

      // eslint-disable-next-line no-await-in-loop
      await sleep(1000)
    }
  }
}
