/**
 * The verdict on one static pod of one node, from the three places it shows (kubelet-facts §4, §5):
 * its manifest file, its containers in the node's runtime, and its mirror pod in the API server.
 * Pure: everything it looks at is in its input.
 *
 * Containers belong to the pod by the kubelet's labels (`io.kubernetes.pod.name` = the mirror name,
 * `io.kubernetes.pod.namespace`); of the pod's versions (`io.kubernetes.pod.uid` = config hash), the
 * current one is the mirror pod's `kubernetes.io/config.mirror`, else the newest.
 */
import type {MirrorPod} from '../cluster/mirror-pods.js'
import type {RuntimeContainer} from '../runtime/containers.js'

import {latestContainers} from '../runtime/containers.js'

export type Verdict = 'completed' | 'crash-looping' | 'failed' | 'file-only' | 'mirror-missing' | 'orphan' | 'pending' | 'running' | 'unknown'

/** Verdicts that mean "as it should be": every other one makes `status` exit 3. */
export const HEALTHY_VERDICTS: ReadonlySet<Verdict> = new Set(['completed', 'running'])

/** What the file says, as far as the verdict cares. */
export interface VerdictFile {
  /** Names of spec.containers, when the file parses. */
  containers?: readonly string[]
  /** Names of spec.initContainers (sidecars included). */
  initContainers?: readonly string[]
  /** Why the kubelet refuses or skips it, for invalid and unparseable files. */
  reason?: string
  status: 'error' | 'invalid' | 'valid'
}

/** Why a mirror pod can be missing, as far as the API server was asked. */
export interface MirrorFacts {
  namespaceExists?: boolean
  nodeName?: string
  nodeRegistered?: boolean
}

export interface VerdictInput {
  /** 'none': no kubeconfig; 'error': the API server did not answer, so the mirror pod is unknown. */
  api: 'error' | 'none' | 'ok'
  /** The containers of this pod on the node (every version, every state); undefined when the runtime could not be asked. */
  containers?: readonly RuntimeContainer[]
  /** The manifest file in the manifest directory; undefined: none defines this pod. */
  file?: VerdictFile
  /** The kubelet's log says it took the pod (SyncLoop ADD) and has not dropped it since. */
  kubeletLoaded?: boolean
  /** The kubelet's own last word on the file, from its log, when known. */
  kubeletReason?: string
  mirror?: MirrorPod
  mirrorFacts?: MirrorFacts
  namespace: string
}

export interface VerdictResult {
  /** The containers of the current version, newest of each name. */
  current: RuntimeContainer[]
  reason?: string
  verdict: Verdict
}

/** A container that is there now (an exited one of a removed pod is only waiting for garbage collection). */
function alive(container: RuntimeContainer): boolean {
  return container.state !== 'exited'
}

/** The pod's current version: the mirror pod's, else the newest the runtime holds. */
export function currentContainers(containers: readonly RuntimeContainer[], mirror?: MirrorPod): RuntimeContainer[] {
  const hash = mirror?.configMirror ?? mirror?.configHash
  let uid = hash !== undefined && containers.some(c => c.podUid === hash) ? hash : undefined
  if (uid === undefined) {
    const newest = [...containers].sort((a, b) => Number(alive(b)) - Number(alive(a)) || (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))[0]
    uid = newest?.podUid
  }

  return latestContainers(containers.filter(c => c.podUid === uid))
}

export function podVerdict(input: VerdictInput): VerdictResult {
  const {file, mirror} = input
  const containers = input.containers ?? []
  const current = currentContainers(containers, mirror)
  if (!file) return {current, ...orphan(containers, mirror)}

  const appNames = file.containers ?? mirror?.containers.map(c => c.name)
  const init = new Set(file.initContainers ?? [])
  const app = current.filter(c => (appNames ? appNames.includes(c.name) : !init.has(c.name)))
  const running = app.filter(c => c.state === 'running')
  const refused = file.status !== 'valid'

  if (input.containers === undefined) return {current, ...fromMirrorOnly(input)}
  if (current.length === 0 || (refused && running.length === 0)) return {current, ...notStarted(input)}

  const stale = mirror && (mirror.configMirror ?? mirror.configHash) !== current[0]?.podUid
  if (mirror?.phase === 'Succeeded') return {current, verdict: 'completed'}
  if (mirror?.phase === 'Failed') return {current, reason: 'the pod failed (restartPolicy does not restart it)', verdict: 'failed'}
  const crashing = crashLooping(app, mirror)
  if (crashing) return {current, reason: crashing, verdict: 'crash-looping'}
  if (input.api === 'ok' && !mirror) return {current, reason: mirrorMissingReason(input), verdict: 'mirror-missing'}
  if (stale) return {current, reason: 'the kubelet is switching to a new version: the mirror pod\'s config.hash is not the containers\' pod uid', verdict: 'pending'}
  const expected = appNames?.length ?? app.length
  if (running.length < expected || expected === 0) return {current, reason: pendingReason(current, app, appNames ?? [], init), verdict: 'pending'}
  if (refused) return {current, reason: `still running an earlier version, but the file is refused now: ${file.reason ?? 'invalid'}`, verdict: 'running'}
  return {current, verdict: 'running'}
}

/** No container of the pod has started (or the file is refused and nothing of it runs). */
function notStarted(input: VerdictInput): Omit<VerdictResult, 'current'> {
  const {mirror} = input
  if (mirror) return {reason: `the mirror pod is ${mirror.phase} but no container has started yet`, verdict: 'pending'}
  if (input.kubeletLoaded && input.file?.status === 'valid') return {reason: 'the kubelet has taken the pod but no container has started yet (pulling the image?)', verdict: 'pending'}
  return {reason: fileOnlyReason(input), verdict: 'file-only'}
}

function orphan(containers: readonly RuntimeContainer[], mirror: MirrorPod | undefined): Omit<VerdictResult, 'current'> {
  const live = containers.some(c => alive(c))
  if (live && mirror) return {reason: 'containers and a mirror pod, but no manifest file: is the kubelet running?', verdict: 'orphan'}
  if (live) return {reason: 'containers run, but no manifest file defines the pod', verdict: 'orphan'}
  if (mirror) return {reason: 'a mirror pod, but no manifest file defines the pod', verdict: 'orphan'}
  return {reason: 'nothing left but exited containers', verdict: 'unknown'}
}

/** The runtime could not be asked: the mirror pod's status is all there is. */
function fromMirrorOnly(input: VerdictInput): Omit<VerdictResult, 'current'> {
  const {mirror} = input
  if (!mirror) return {reason: `the containers are unknown${input.api === 'ok' ? ' and there is no mirror pod' : ''}`, verdict: 'unknown'}
  const crashing = crashLooping([], mirror)
  if (crashing) return {reason: crashing, verdict: 'crash-looping'}
  if (mirror.phase === 'Running' && mirror.ready) return {reason: 'from the mirror pod (the node\'s runtime could not be asked)', verdict: 'running'}
  return {reason: `the mirror pod is ${mirror.phase}`, verdict: 'pending'}
}

function crashLooping(app: readonly RuntimeContainer[], mirror: MirrorPod | undefined): string | undefined {
  const backOff = mirror?.containers.find(c => c.state === 'waiting' && c.reason === 'CrashLoopBackOff')
  if (backOff) return `container ${backOff.name}: CrashLoopBackOff after ${backOff.restartCount} restart${backOff.restartCount === 1 ? '' : 's'}`
  const down = app.find(c => c.state !== 'running' && c.restarts > 0)
  if (down) return `container ${down.name} is ${down.state} after ${down.restarts} restart${down.restarts === 1 ? '' : 's'}`
  return undefined
}

function fileOnlyReason(input: VerdictInput): string {
  const {file} = input
  if (file && file.status !== 'valid') return file.reason ?? 'the kubelet refuses the file'
  if (input.kubeletReason) return `the kubelet says: ${input.kubeletReason}`
  return 'the kubelet has not started it: no container, no mirror pod (just written? is the kubelet running and reading this directory?)'
}

function mirrorMissingReason(input: VerdictInput): string {
  const facts = input.mirrorFacts ?? {}
  if (facts.nodeRegistered === false) return `no Node "${facts.nodeName ?? '?'}" in the API server: the kubelet creates mirror pods only once its node is registered (standalone kubelet, or another --hostname-override?)`
  if (facts.namespaceExists === false) return `namespace "${input.namespace}" does not exist: the API server refuses the mirror pod`
  if (input.file && input.file.status !== 'valid' && input.file.reason) return `the API server refuses the mirror pod of such a spec: ${input.file.reason}`
  return 'the kubelet has not created it yet, or the API server refused it (static pods may not reference API objects: service accounts, secrets, config maps)'
}

function pendingReason(current: readonly RuntimeContainer[], app: readonly RuntimeContainer[], appNames: readonly string[], init: ReadonlySet<string>): string {
  const initRunning = current.find(c => init.has(c.name) && c.state === 'running')
  if (initRunning) return `init container ${initRunning.name} is running`
  const notStarted = appNames.filter(name => !app.some(c => c.name === name && c.state === 'running'))
  if (notStarted.length > 0) return `not running yet: ${notStarted.join(', ')}`
  return 'no container is running yet'
}
