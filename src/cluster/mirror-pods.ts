/**
 * Mirror pods: the API server's copies of a node's static pods (kubelet-facts §4.1). The kubelet names
 * them `<pod>-<node name>` in the pod's namespace and annotates them with `kubernetes.io/config.mirror`
 * (= `kubernetes.io/config.hash`, the static pod's UID, which is also the `io.kubernetes.pod.uid`
 * label of its containers). Their status is what the kubelet reports.
 */
import type {ApiClient} from './client.js'

import {ApiError} from './client.js'

export const CONFIG_MIRROR = 'kubernetes.io/config.mirror'
export const CONFIG_HASH = 'kubernetes.io/config.hash'

export interface MirrorContainer {
  name: string
  ready: boolean
  /** Why it is waiting or terminated (CrashLoopBackOff, Completed, Error, ...). */
  reason?: string
  restartCount: number
  /** ISO 8601, when the running container started. */
  startedAt?: string
  state: 'running' | 'terminated' | 'unknown' | 'waiting'
}

export interface MirrorPod {
  configHash?: string
  configMirror?: string
  containers: MirrorContainer[]
  /** ISO 8601, when the API server created it. */
  created?: string
  name: string
  namespace: string
  nodeName?: string
  /** Pending | Running | Succeeded | Failed | Unknown */
  phase: string
  /** The Ready condition is True. */
  ready: boolean
  /** The API server's UID of the mirror object (not the static pod's UID). */
  uid: string
}

/** The parts of a v1 Pod this module reads. */
interface ApiPod {
  metadata?: {annotations?: Record<string, string>; creationTimestamp?: string; name?: string; namespace?: string; uid?: string}
  spec?: {nodeName?: string}
  status?: {
    conditions?: Array<{status?: string; type?: string}>
    containerStatuses?: Array<{
      name?: string; ready?: boolean; restartCount?: number
      state?: {running?: {startedAt?: string}; terminated?: {reason?: string}; waiting?: {reason?: string}}
    }>
    phase?: string
  }
}

/** A v1 Pod as the API returns it → MirrorPod (pure). */
export function toMirrorPod(pod: ApiPod): MirrorPod {
  const annotations = pod.metadata?.annotations ?? {}
  const status = pod.status ?? {}
  return {
    configHash: annotations[CONFIG_HASH],
    configMirror: annotations[CONFIG_MIRROR],
    containers: (status.containerStatuses ?? []).map(c => {
      const state = (['running', 'waiting', 'terminated'] as const).find(key => c.state?.[key]) ?? 'unknown'
      const reason = c.state?.waiting?.reason ?? c.state?.terminated?.reason
      const startedAt = c.state?.running?.startedAt
      return {
        name: c.name ?? '', ready: c.ready === true, restartCount: c.restartCount ?? 0, state, ...(reason ? {reason} : {}), ...(startedAt ? {startedAt} : {}),
      }
    }),
    created: pod.metadata?.creationTimestamp,
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? 'default',
    nodeName: pod.spec?.nodeName,
    phase: status.phase ?? 'Unknown',
    ready: (status.conditions ?? []).some(c => c.type === 'Ready' && c.status === 'True'),
    uid: pod.metadata?.uid ?? '',
  }
}

/** Is this API pod a mirror pod (it carries the config.mirror annotation)? */
export function isMirrorPod(pod: ApiPod): boolean {
  return pod.metadata?.annotations?.[CONFIG_MIRROR] !== undefined
}

/** The mirror pod `name` in `namespace`, or undefined when there is none (404). */
export async function getMirrorPod(client: ApiClient, namespace: string, name: string, options: {timeoutMs?: number} = {}): Promise<MirrorPod | undefined> {
  try {
    const pod = await client.get<ApiPod>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`, options)
    return isMirrorPod(pod) ? toMirrorPod(pod) : undefined
  } catch (error) {
    if (error instanceof ApiError && error.kind === 'not-found') return undefined
    throw error
  }
}

/** Every mirror pod bound to `nodeName`, in one list request (fieldSelector spec.nodeName). */
export async function listMirrorPods(client: ApiClient, nodeName: string, options: {timeoutMs?: number} = {}): Promise<MirrorPod[]> {
  const selector = encodeURIComponent(`spec.nodeName=${nodeName}`)
  const list = await client.get<{items?: ApiPod[]}>(`/api/v1/pods?fieldSelector=${selector}`, options)
  return (list.items ?? []).filter(pod => isMirrorPod(pod)).map(pod => toMirrorPod(pod))
}

/** Does the namespace exist? (A mirror pod in a missing namespace cannot be created.) */
export async function namespaceExists(client: ApiClient, namespace: string, options: {timeoutMs?: number} = {}): Promise<boolean> {
  return exists(client, `/api/v1/namespaces/${encodeURIComponent(namespace)}`, options)
}

/** Is a Node object registered under this name? (Without it, the kubelet creates no mirror pods.) */
export async function nodeRegistered(client: ApiClient, nodeName: string, options: {timeoutMs?: number} = {}): Promise<boolean> {
  return exists(client, `/api/v1/nodes/${encodeURIComponent(nodeName)}`, options)
}

async function exists(client: ApiClient, path: string, options: {timeoutMs?: number}): Promise<boolean> {
  try {
    await client.get<unknown>(path, options)
    return true
  } catch (error) {
    if (error instanceof ApiError && error.kind === 'not-found') return false
    throw error
  }
}
