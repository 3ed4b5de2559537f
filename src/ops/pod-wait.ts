/**
 * Waiting until the kubelet has really picked up a manifest that was just written, the way kubeadm
 * waits during upgrades (kubelet-facts §4.3): note the mirror pod's `kubernetes.io/config.hash`
 * before the write, then poll every 500 ms until the hash differs and the pod's containers run.
 *
 * The API server is asked when there is a kubeconfig, it answers and the node is registered there (a
 * kubelet without one makes no mirror pods). Otherwise the node's own runtime is asked (crictl, or
 * docker): a static pod's containers carry `io.kubernetes.pod.uid` = the config hash and
 * `io.kubernetes.pod.name` = the mirror name `<pod>-<node>`, so the same test works on them.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {isDeepStrictEqual} from 'node:util'

import type {NodeExec} from '../transport/node.js'

import {ApiClient, ApiError} from '../cluster/client.js'
import {
  getMirrorPod, type MirrorPod, namespaceExists, nodeRegistered,
} from '../cluster/mirror-pods.js'
import {mirrorPodName} from '../kubelet/node-name.js'
import {
  asArray, asObject, asString, withoutNulls,
} from '../manifest/object.js'
import {parseManifest} from '../manifest/parse.js'
import {containersOfPod, latestContainers, type RuntimeContainer} from '../runtime/containers.js'
import {listContainers, type RuntimeName} from './containers.js'
import {podKey, type PodRef} from './manifest-dir.js'

export type WaitMethod = 'api' | RuntimeName

/** One pod to wait for on a node. */
export interface WaitTarget {
  /** Names of the pod's (regular) containers, which must all run. */
  containers: string[]
  /**
   * The hash must differ from the one before the write. False when the file did not change, or
   * changed only in ways the kubelet does not see (comments, formatting, key order): the kubelet
   * keeps the same pod, under the same hash.
   */
  expectChange: boolean
  pod: PodRef
}

/** What was seen of a pod at one moment. */
export interface PodSight {
  /** The config hash of the pod seen (mirror annotation, or the containers' pod uid). */
  hash?: string
  /** Every container of the target runs. */
  running: boolean
  /** In words, for the report: `Running: web running (restarts 0)`, `no mirror pod yet`, ... */
  state: string
}

export interface PodWaitResult {
  hashAfter?: string
  hashBefore?: string
  /** The API object, or the runtime's pod name. */
  mirror: string
  ok: boolean
  pod: string
  /** The last state seen. */
  state: string
  waitedMs: number
}

export interface NodeWait {
  /** Why the API server was not used, when it was not. */
  fallback?: string
  method: WaitMethod
  pods: PodWaitResult[]
}

/** How a node's pods are looked at: the API server or the node's runtime. */
export interface PodWatcher {
  readonly fallback?: string
  /** What is seen of each target now; `before` picks, on the runtime, which pod instance is the new one. */
  look(targets: readonly WaitTarget[], before: ReadonlyMap<string, string | undefined>): Promise<Map<string, PodSight>>
  readonly method: WaitMethod
}

export const POLL_API_MS = 500
export const POLL_RUNTIME_MS = 1000

/**
 * Decide how to watch a node's pods: the API server when `client` is given, answers, and knows the
 * node; else the node's runtime (which must exist: NoContainerRuntimeError otherwise).
 */
export async function podWatcher(node: NodeExec, options: {client?: ApiClient; nodeName: string; timeoutMs?: number}): Promise<PodWatcher> {
  const {client, nodeName} = options
  let fallback = 'no kubeconfig (--kubeconfig, the inventory\'s kubeconfig, KUBECONFIG, ~/.kube/config)'
  if (client) {
    try {
      if (await nodeRegistered(client, nodeName, {timeoutMs: options.timeoutMs})) return apiWatcher(client, nodeName)
      fallback = `node ${nodeName} is not registered in the API server (a kubelet without a kubeconfig makes no mirror pods)`
    } catch (error) {
      if (!(error instanceof ApiError)) throw error
      fallback = `the API server did not answer: ${error.message}`
    }
  }

  const {runtime} = await listContainers(node, {timeoutMs: options.timeoutMs})
  return runtimeWatcher(node, nodeName, runtime, fallback)
}

function apiWatcher(client: ApiClient, nodeName: string): PodWatcher {
  return {
    async look(targets) {
      const seen = new Map<string, PodSight>()
      await Promise.all(targets.map(async target => {
        const name = mirrorPodName(target.pod.name, nodeName)
        try {
          const mirror = await getMirrorPod(client, target.pod.namespace, name)
          seen.set(podKey(target.pod), mirror ? mirrorSight(mirror, target) : {running: false, state: await noMirror(client, name, target.pod.namespace)})
        } catch (error) {
          if (!(error instanceof ApiError)) throw error
          seen.set(podKey(target.pod), {running: false, state: `the API server did not answer: ${error.message}`})
        }
      }))
      return seen
    },
    method: 'api',
  }
}

/** Why there is no mirror pod, when the API server can tell: the kubelet cannot create one in a namespace that does not exist. */
async function noMirror(client: ApiClient, name: string, namespace: string): Promise<string> {
  const missing = await namespaceExists(client, namespace).then(exists => !exists, () => false)
  return missing
    ? `no mirror pod ${name}: namespace ${namespace} does not exist in the API server, so the kubelet cannot create it there (the pod may run on the node all the same)`
    : `no mirror pod ${name} yet`
}

/** A mirror pod as the wait sees it: its hash, and whether the target's containers all run. */
export function mirrorSight(mirror: MirrorPod, target: WaitTarget): PodSight {
  const states = target.containers.map(name => {
    const status = mirror.containers.find(c => c.name === name)
    if (!status) return {name, running: false, words: `${name} not started`}
    const words = `${name} ${status.state}${status.reason ? ` (${status.reason})` : ''}, restarts ${status.restartCount}`
    return {name, running: status.state === 'running', words}
  })
  return {
    hash: mirror.configHash,
    running: mirror.phase === 'Running' && states.every(s => s.running),
    state: `${mirror.phase}: ${states.map(s => s.words).join('; ')}`,
  }
}

function runtimeWatcher(node: NodeExec, nodeName: string, runtime: RuntimeName, fallback: string): PodWatcher {
  return {
    fallback,
    async look(targets, before) {
      const {containers} = await listContainers(node)
      return new Map(targets.map(target => [podKey(target.pod), runtimeSight(containers, target, nodeName, target.expectChange ? before.get(podKey(target.pod)) : undefined)]))
    },
    method: runtime,
  }
}

/**
 * The target's pod as the runtime holds it. Containers are grouped by pod uid (= config hash); the
 * instance looked at is, in this order: one that runs under another hash than `hashBefore` (what the
 * wait waits for), the newest under another hash (the new one, not running yet: its state is the
 * news), one that runs, the newest.
 */
export function runtimeSight(containers: readonly RuntimeContainer[], target: WaitTarget, nodeName: string, hashBefore?: string): PodSight {
  const name = mirrorPodName(target.pod.name, nodeName)
  const mine = containersOfPod(containers, name, target.pod.namespace)
  if (mine.length === 0) return {running: false, state: `no container of ${name} yet`}
  const byUid = new Map<string, RuntimeContainer[]>()
  for (const c of mine) byUid.set(c.podUid, [...byUid.get(c.podUid) ?? [], c])
  const instances = [...byUid.entries()].map(([uid, list]) => ({latest: latestContainers(list), uid}))
  const score = (i: typeof instances[number]): number => {
    const running = i.latest.some(c => c.state === 'running')
    const other = i.uid !== hashBefore
    if (other) return running ? 3 : 2
    return running ? 1 : 0
  }

  const newest = (i: typeof instances[number]): string => i.latest.map(c => c.createdAt ?? '').sort().at(-1) ?? ''
  const [chosen] = instances.sort((a, b) => score(b) - score(a) || newest(b).localeCompare(newest(a)))
  const states = target.containers.map(container => {
    const c = chosen!.latest.find(x => x.name === container)
    return c ? {running: c.state === 'running', words: `${container} ${c.state}, restarts ${c.restarts}`} : {running: false, words: `${container} not started`}
  })
  return {hash: chosen!.uid, running: states.every(s => s.running), state: states.map(s => s.words).join('; ')}
}

/** Has the kubelet picked the change up? */
export function settled(sight: PodSight, target: WaitTarget, hashBefore?: string): boolean {
  return sight.running && sight.hash !== undefined && (!target.expectChange || sight.hash !== hashBefore)
}

/** The hashes before the write, by pod key (undefined: no such pod yet). */
export async function hashesBefore(watcher: PodWatcher, targets: readonly WaitTarget[]): Promise<Map<string, string | undefined>> {
  const seen = await watcher.look(targets, new Map())
  return new Map(targets.map(t => [podKey(t.pod), seen.get(podKey(t.pod))?.hash]))
}

/**
 * Poll until every target has settled or `timeoutMs` has passed since the call. Never throws for a
 * pod that does not settle: its result says so, with the last state seen.
 */
export async function waitForPods(watcher: PodWatcher, targets: readonly WaitTarget[], before: ReadonlyMap<string, string | undefined>, options: {
  /** Between looks; default POLL_API_MS through the API server, POLL_RUNTIME_MS through the runtime. */
  intervalMs?: number; nodeName: string; now?: () => number; timeoutMs: number
}): Promise<NodeWait> {
  const now = options.now ?? Date.now
  const started = now()
  const deadline = started + options.timeoutMs
  const results = new Map<string, PodWaitResult>()
  const last = new Map<string, PodSight>()
  const interval = options.intervalMs ?? (watcher.method === 'api' ? POLL_API_MS : POLL_RUNTIME_MS)
  for (;;) {
    const pending = targets.filter(t => !results.has(podKey(t.pod)))
    if (pending.length === 0) break
    // eslint-disable-next-line no-await-in-loop -- polling
    const seen = await watcher.look(pending, before).catch((error: Error) => new Map(pending.map(t => [podKey(t.pod), {running: false, state: error.message}])))
    for (const target of pending) {
      const key = podKey(target.pod)
      const sight = seen.get(key) ?? {running: false, state: 'not seen'}
      last.set(key, sight)
      if (settled(sight, target, before.get(key))) results.set(key, result(target, sight, true))
    }

    if (results.size === targets.length || now() >= deadline) break
    // eslint-disable-next-line no-await-in-loop -- polling
    await sleep(Math.min(interval, Math.max(0, deadline - now())))
  }

  function result(target: WaitTarget, sight: PodSight | undefined, ok: boolean): PodWaitResult {
    const hashBefore = before.get(podKey(target.pod))
    return {
      hashAfter: sight?.hash, hashBefore, mirror: mirrorPodName(target.pod.name, options.nodeName), ok, pod: podKey(target.pod), state: sight?.state ?? 'not seen', waitedMs: now() - started,
    }
  }

  return {
    ...(watcher.fallback ? {fallback: watcher.fallback} : {}),
    method: watcher.method,
    pods: targets.map(t => results.get(podKey(t.pod)) ?? result(t, last.get(podKey(t.pod)), false)),
  }
}

/** What to wait for, from the manifest written and the file it replaced. */
export function waitTarget(pod: PodRef, content: Buffer, previous: Buffer | undefined, changed: boolean): WaitTarget {
  const value = firstDocument(content)
  const spec = asObject(asObject(value)?.spec)
  const containers = asArray(spec?.containers).map(c => asString(asObject(c)?.name)).filter((n): n is string => n !== undefined)
  const same = !changed || (previous !== undefined && isDeepStrictEqual(firstDocument(previous), value))
  return {containers, expectChange: !same, pod}
}

function firstDocument(content: Buffer): unknown {
  const [document] = parseManifest(content.toString('utf8')).documents
  return document?.value === undefined ? undefined : withoutNulls(document.value)
}
