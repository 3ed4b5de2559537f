// The kubelet's pod lifecycle for static pods: make the runtime match the desired pods (sandbox, init containers in
// order, containers restarted per restartPolicy with the kubelet's crash-loop back-off), kill pods that are no
// longer desired, relist the runtime every second (PLEG), and compute each pod's API status.
import type {Logger} from '../../shared/klog.js'
import type {
  Container, ContainerConfig, Sandbox, SandboxConfig,
} from '../runtime.js'
import type {Json, StaticPod} from './manifest.js'

import {
  background, canonicalJson, fnv128a, qosClass, rfc3339,
} from '../../shared/util.js'
import {CONTAINER_LOGS_DIR, POD_LOGS_DIR} from '../paths.js'
import {rpc} from '../rpc.js'

export interface DesiredPod extends StaticPod {
  /** kubernetes.io/config.seen: when this kubelet first saw this UID. */
  seen: string
}

interface RuntimeState {
  containers: Container[]
  sandboxes: Sandbox[]
}

const INITIAL_BACKOFF_MS = 10_000
const MAX_BACKOFF_MS = 300_000
const CONTAINER_GC_PERIOD_MS = 60_000

/** The annotations of a pod as the kubelet holds it: the manifest's, plus config.hash/source/seen. */
export function podAnnotations(pod: DesiredPod): Record<string, string> {
  const meta = pod.pod.metadata as Json
  return {
    ...(meta.annotations as Record<string, string>),
    'kubernetes.io/config.hash': pod.uid,
    'kubernetes.io/config.seen': pod.seen,
    'kubernetes.io/config.source': pod.source,
  }
}

/** restartPolicy says to run the container again after it exited. */
function shouldRestart(c: Container, policy: string): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && c.exitCode !== 0)
}

const nsTime = (ns: string) => rfc3339(Number(BigInt(ns) / 1_000_000n))

export class PodManager {
  /** The desired static pods by UID. */
  desired = new Map<string, DesiredPod>()
  /** Called after every sync with the runtime state and the computed statuses. */
  onSynced: (statuses: Map<string, Json>) => void = () => {}
  private readonly backoff = new Map<string, {backoffMs: number; lastUpdate: number}>()
  private dirty = true
  private lastState: RuntimeState = {containers: [], sandboxes: []}
  private readonly startTimes = new Map<string, string>()
  private stopped = false
  private readonly stoppedSince = new Map<string, number>()
  private syncing?: Promise<void>
  private readonly terminating = new Set<string>()
  private timer?: NodeJS.Timeout

  constructor(
    private readonly runtimeSocket: string,
    private readonly runtimeKind: 'containerd' | 'docker',
    private readonly nodeIp: string,
    private readonly log: Logger,
  ) {}

  get state(): RuntimeState {
    return this.lastState
  }

  /** generateAPIPodStatus, for what the simulator runs. */
  podStatus(pod: DesiredPod, state: RuntimeState): Json {
    const spec = pod.pod.spec as Json
    const byName = this.containersOf(state, pod.uid)
    const sandbox = state.sandboxes.filter(s => s.metadata.uid === pod.uid).sort((a, b) => b.metadata.attempt - a.metadata.attempt)[0]
    const initStatuses = ((spec.initContainers as Json[] | undefined) ?? []).map(c => this.containerStatus(pod, c, byName.get(String(c.name)), c.restartPolicy !== 'Always'))
    const containerStatuses = ((spec.containers as Json[] | undefined) ?? []).map(c => this.containerStatus(pod, c, byName.get(String(c.name)), false))
    const phase = this.podPhase(pod, byName)
    const now = rfc3339()
    const initialized = initStatuses.every((s, i) => {
      const initSpec = ((spec.initContainers as Json[]) ?? [])[i]!
      if (initSpec.restartPolicy === 'Always') return (s.state as Json).running !== undefined
      return ((s.state as Json).terminated as Json | undefined)?.exitCode === 0
    })
    const containersReady = initialized && containerStatuses.every(s => s.ready === true)
    const condition = (type: string, ok: boolean, reason?: string) => ({
      lastProbeTime: null,
      lastTransitionTime: this.startTimes.get(pod.uid) ?? now,
      ...(ok || !reason ? {} : {reason}),
      status: ok ? 'True' : 'False',
      type,
    })
    const ip = sandbox?.ip ?? ''
    const status: Json = {
      conditions: [
        condition('PodReadyToStartContainers', sandbox?.state === 'SANDBOX_READY'),
        condition('Initialized', initialized, 'ContainersNotInitialized'),
        condition('Ready', containersReady, 'ContainersNotReady'),
        condition('ContainersReady', containersReady, 'ContainersNotReady'),
        condition('PodScheduled', true),
      ],
      containerStatuses,
      hostIP: this.nodeIp,
      hostIPs: [{ip: this.nodeIp}],
      phase,
      qosClass: qosClass(spec),
      ...(ip ? {podIP: ip, podIPs: [{ip}]} : {}),
      startTime: this.startTimes.get(pod.uid) ?? now,
    }
    if (initStatuses.length > 0) status.initContainerStatuses = initStatuses
    return status
  }

  setDesired(pods: DesiredPod[]): void {
    const next = new Map(pods.map(pod => [pod.uid, pod]))
    for (const [uid, pod] of this.desired) {
      if (!next.has(uid)) this.log.info('kubelet.go:2559', 'SyncLoop REMOVE', 'source', pod.source, 'pods', [pod.fullName])
    }

    for (const [uid, pod] of next) {
      if (!this.desired.has(uid)) this.log.info('kubelet.go:2543', 'SyncLoop ADD', 'source', pod.source, 'pods', [pod.fullName])
    }

    this.desired = next
    this.trigger()
  }

  /** Runs the sync loop: on demand (trigger) and every second (the PLEG relist period). */
  start(): void {
    background(this.loop())
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }

  /** Asks for a sync as soon as the current one (if any) is done. */
  trigger(): void {
    this.dirty = true
    if (this.timer && !this.syncing) {
      clearTimeout(this.timer)
      this.timer = setTimeout(() => this.loop(), 5)
    }
  }

  private backoffMs(key: string): number {
    return this.backoff.get(key)?.backoffMs ?? INITIAL_BACKOFF_MS
  }

  private async call<T>(method: string, route: string, body?: unknown): Promise<T> {
    return rpc<T>(this.runtimeSocket, method, route, body)
  }

  private containerConfig(pod: DesiredPod, spec: Json, attempt: number, init: boolean): ContainerConfig {
    const meta = pod.pod.metadata as Json
    const podSpec = pod.pod.spec as Json
    const env = ((spec.env as Json[] | undefined) ?? []).map(e => ({name: String(e.name), value: this.envValue(pod, e)}))
    const annotations: Record<string, string> = {
      'io.kubernetes.container.hash': fnv128a(canonicalJson(spec)).slice(0, 8),
      'io.kubernetes.container.restartCount': String(attempt),
      'io.kubernetes.container.terminationMessagePath': String(spec.terminationMessagePath ?? '/dev/termination-log'),
      'io.kubernetes.container.terminationMessagePolicy': String(spec.terminationMessagePolicy ?? 'File'),
      'io.kubernetes.pod.terminationGracePeriod': String(podSpec.terminationGracePeriodSeconds ?? 30),
    }
    if (Array.isArray(spec.ports) && spec.ports.length > 0) annotations['io.kubernetes.container.ports'] = JSON.stringify(spec.ports)
    return {
      annotations,
      ...(Array.isArray(spec.args) ? {args: (spec.args as unknown[]).map(String)} : {}),
      ...(Array.isArray(spec.command) ? {command: (spec.command as unknown[]).map(String)} : {}),
      env,
      image: String(spec.image),
      init,
      labels: {
        'io.kubernetes.container.name': String(spec.name),
        'io.kubernetes.pod.name': String(meta.name),
        'io.kubernetes.pod.namespace': String(meta.namespace),
        'io.kubernetes.pod.uid': pod.uid,
      },
      logPath: `${String(spec.name)}/${attempt}.log`,
      metadata: {attempt, name: String(spec.name)},
      ...(typeof spec.workingDir === 'string' ? {workingDir: spec.workingDir} : {}),
    }
  }

  /** A pod's containers by name, newest first. */
  private containersOf(state: RuntimeState, uid: string): Map<string, Container[]> {
    const byName = new Map<string, Container[]>()
    for (const c of state.containers) {
      if (c.labels['io.kubernetes.pod.uid'] !== uid) continue
      byName.set(c.metadata.name, [...(byName.get(c.metadata.name) ?? []), c])
    }

    for (const list of byName.values()) list.sort((a, b) => b.metadata.attempt - a.metadata.attempt || Number(BigInt(b.createdAt) - BigInt(a.createdAt)))
    return byName
  }

  private containerStatus(pod: DesiredPod, containerSpec: Json, list: Container[] | undefined, isInit: boolean): Json {
    const name = String(containerSpec.name)
    const latest = list?.[0]
    const previous = list?.[1]
    const meta = pod.pod.metadata as Json
    const prefix = `${this.runtimeKind}://`
    const terminated = (c: Container) => ({
      terminated: {
        containerID: prefix + c.id,
        exitCode: c.exitCode,
        finishedAt: nsTime(c.finishedAt),
        ...(c.message ? {message: c.message} : {}),
        reason: c.reason || (c.exitCode === 0 ? 'Completed' : 'Error'),
        startedAt: c.startedAt === '0' ? null : nsTime(c.startedAt),
      },
    })
    const image = latest?.image ?? String(containerSpec.image)
    const base: Json = {
      image,
      imageID: latest?.imageRef ?? '',
      name,
      ready: false,
      restartCount: latest?.metadata.attempt ?? 0,
      started: false,
    }
    if (latest?.id) base.containerID = prefix + latest.id
    if (!latest) return {...base, lastState: {}, state: {waiting: {reason: isInit ? 'PodInitializing' : 'ContainerCreating'}}}
    const lastState = previous && previous.state === 'CONTAINER_EXITED' ? terminated(previous) : {}
    if (latest.state === 'CONTAINER_RUNNING') {
      return {
        ...base, lastState, ready: true, started: true, state: {running: {startedAt: nsTime(latest.startedAt)}},
      }
    }

    const restartPolicy = String((pod.pod.spec as Json).restartPolicy ?? 'Always')
    const willRestart = restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && latest.exitCode !== 0) || (isInit && latest.exitCode !== 0 && restartPolicy !== 'Never')
    if (latest.state === 'CONTAINER_EXITED' && willRestart && !(isInit && latest.exitCode === 0)) {
      const key = `${String(meta.name)}_${String(meta.namespace)}_${pod.uid}_${name}`
      const message = `back-off ${Math.round(this.backoffMs(key) / 1000)}s restarting failed container=${name} pod=${String(meta.name)}_${String(meta.namespace)}(${pod.uid})`
      return {...base, lastState: terminated(latest), state: {waiting: {message, reason: 'CrashLoopBackOff'}}}
    }

    return {...base, lastState, state: terminated(latest)}
  }

  private envValue(pod: DesiredPod, env: Json): string {
    if (typeof env.value === 'string') return env.value
    const fieldPath = ((env.valueFrom as Json | undefined)?.fieldRef as Json | undefined)?.fieldPath
    const meta = pod.pod.metadata as Json
    switch (fieldPath) {
    case 'metadata.name': {
      return String(meta.name)
    }

    case 'metadata.namespace': {
      return String(meta.namespace)
    }

    case 'metadata.uid': {
      return pod.uid
    }

    case 'spec.nodeName': {
      return String((pod.pod.spec as Json).nodeName)
    }

    case 'status.hostIP':
    case 'status.podIP': {
      return this.nodeIp
    }

    default: {
      return ''
    }
    }
  }

  /**
   * Container GC: keeps the most recent dead container of each container (MaxPerPodContainer 1); removes the
   * containers and sandboxes of pods that are gone once they have been stopped for a GC period (1 minute).
   */
  private async garbageCollect(state: RuntimeState): Promise<void> {
    for (const pod of this.desired.values()) {
      for (const list of this.containersOf(state, pod.uid).values()) {
        const dead = list.filter(c => c.state === 'CONTAINER_EXITED')
        // eslint-disable-next-line no-await-in-loop
        for (const c of dead.slice(1)) await this.call('DELETE', `/containers/${c.id}`)
      }
    }

    const now = Date.now()
    for (const sandbox of state.sandboxes) {
      const {uid} = sandbox.metadata
      if (this.desired.has(uid) || this.terminating.has(uid)) continue
      const running = sandbox.state === 'SANDBOX_READY' || state.containers.some(c => c.podSandboxId === sandbox.id && c.state === 'CONTAINER_RUNNING')
      if (running) continue
      const since = this.stoppedSince.get(sandbox.id) ?? now
      this.stoppedSince.set(sandbox.id, since)
      if (now - since >= CONTAINER_GC_PERIOD_MS) {
        // eslint-disable-next-line no-await-in-loop
        await this.call('DELETE', `/sandboxes/${sandbox.id}`)
        this.stoppedSince.delete(sandbox.id)
      }
    }
  }

  /** The kubelet's back-off: `true` while a restart must wait (CrashLoopBackOff). */
  private inBackoff(key: string, finishedAtMs: number): boolean {
    const entry = this.backoff.get(key)
    if (!entry) return false
    if (Date.now() - entry.lastUpdate > 2 * MAX_BACKOFF_MS) {
      this.backoff.delete(key)
      return false
    }

    return Date.now() - finishedAtMs < entry.backoffMs
  }

  private async killPod(uid: string, state: RuntimeState): Promise<void> {
    if (this.terminating.has(uid)) return
    this.terminating.add(uid)
    try {
      const sandboxes = state.sandboxes.filter(s => s.metadata.uid === uid)
      const running = state.containers.filter(c => c.labels['io.kubernetes.pod.uid'] === uid && c.state === 'CONTAINER_RUNNING')
      await Promise.all(running.map(c => {
        const grace = Number(c.annotations['io.kubernetes.pod.terminationGracePeriod'] ?? 30)
        this.log.info('kuberuntime_container.go:809', 'Killing container with a grace period', 'pod', `${c.labels['io.kubernetes.pod.namespace']}/${c.labels['io.kubernetes.pod.name']}`, 'podUID', uid, 'containerName', c.metadata.name, 'containerID', `${this.runtimeKind}://${c.id}`, 'gracePeriod', grace)
        return this.call('POST', `/containers/${c.id}/stop`, {timeout: grace})
      }))
      await Promise.all(sandboxes.filter(s => s.state === 'SANDBOX_READY').map(s => this.call('POST', `/sandboxes/${s.id}/stop`)))
    } finally {
      this.terminating.delete(uid)
      this.trigger()
    }
  }

  /** /var/log/containers/<pod>_<ns>_<container>-<id>.log → the CRI log file, as the kubelet links them. */
  private async linkContainerLog(pod: DesiredPod, name: string, container: Container): Promise<void> {
    const {mkdir, symlink} = await import('node:fs/promises')
    const meta = pod.pod.metadata as Json
    try {
      await mkdir(CONTAINER_LOGS_DIR, {recursive: true})
      await symlink(container.logPath, `${CONTAINER_LOGS_DIR}/${String(meta.name)}_${String(meta.namespace)}_${name}-${container.id}.log`)
    } catch {
      // the link is a convenience; the runtime's log file is what matters
    }
  }

  private async loop(): Promise<void> {
    this.timer = undefined
    await this.sync()
    if (!this.stopped && !this.timer) this.timer = setTimeout(() => this.loop(), this.dirty ? 5 : 1000)
  }

  private nextBackoff(key: string): void {
    const entry = this.backoff.get(key)
    this.backoff.set(key, {backoffMs: entry ? Math.min(entry.backoffMs * 2, MAX_BACKOFF_MS) : INITIAL_BACKOFF_MS, lastUpdate: Date.now()})
  }

  private podPhase(pod: DesiredPod, byName: Map<string, Container[]>): string {
    const spec = pod.pod.spec as Json
    const restartPolicy = String(spec.restartPolicy ?? 'Always')
    const initSpecs = ((spec.initContainers as Json[] | undefined) ?? []).filter(c => c.restartPolicy !== 'Always')
    for (const initSpec of initSpecs) {
      const latest = byName.get(String(initSpec.name))?.[0]
      if (!latest) return 'Pending'
      if (latest.state !== 'CONTAINER_EXITED') return 'Pending'
      if (latest.exitCode !== 0) return restartPolicy === 'Never' ? 'Failed' : 'Pending'
    }

    const mains = ((spec.containers as Json[] | undefined) ?? []).map(c => byName.get(String(c.name))?.[0])
    if (mains.some(c => !c)) return mains.some(c => c?.state === 'CONTAINER_RUNNING') ? 'Running' : 'Pending'
    if (mains.some(c => c!.state === 'CONTAINER_RUNNING')) return 'Running'
    if (restartPolicy === 'Always') return 'Running'
    const allExited = mains.every(c => c!.state === 'CONTAINER_EXITED')
    if (!allExited) return 'Pending'
    if (mains.every(c => c!.exitCode === 0)) return 'Succeeded'
    return restartPolicy === 'Never' ? 'Failed' : 'Running'
  }

  /** One pass of the sync loop. Never runs twice at once. */
  private async sync(): Promise<void> {
    if (this.syncing) return this.syncing
    this.syncing = this.syncOnce()
    .catch((error: unknown) => {
      this.log.error('kubelet.go:2470', 'Skipping pod synchronization', 'err', (error as Error).message)
    })
    .finally(() => {
      this.syncing = undefined
    })
    return this.syncing
  }

  private async syncOnce(): Promise<void> {
    this.dirty = false
    let state = await this.call<RuntimeState>('GET', '/state')
    // Pods that are no longer desired: kill them (in the background; their grace period may be long).
    const desiredUids = new Set(this.desired.keys())
    const runningUids = new Set([...state.containers.filter(c => c.state === 'CONTAINER_RUNNING').map(c => c.labels['io.kubernetes.pod.uid'] ?? ''), ...state.sandboxes.filter(s => s.state === 'SANDBOX_READY').map(s => s.metadata.uid)])
    for (const uid of runningUids) if (uid && !desiredUids.has(uid)) background(this.killPod(uid, state))

    let changed = false
    for (const pod of this.desired.values()) {
      // A static pod starts only once no other pod with its full name is still running (podWorkers.allowStaticPodStart).
      const meta = pod.pod.metadata as Json
      const blocker = state.sandboxes.find(s => s.metadata.uid !== pod.uid && s.metadata.name === meta.name && s.metadata.namespace === meta.namespace && runningUids.has(s.metadata.uid))
      if (blocker) continue
      // eslint-disable-next-line no-await-in-loop
      changed = (await this.syncPod(pod, state)) || changed
      // eslint-disable-next-line no-await-in-loop
      if (changed) state = await this.call<RuntimeState>('GET', '/state')
    }

    await this.garbageCollect(state)
    this.lastState = state
    const statuses = new Map<string, Json>()
    for (const pod of this.desired.values()) statuses.set(pod.uid, this.podStatus(pod, state))
    this.onSynced(statuses)
  }

  /** computePodActions + SyncPod for one static pod. Returns whether it changed anything. */
  private async syncPod(pod: DesiredPod, state: RuntimeState): Promise<boolean> {
    const meta = pod.pod.metadata as Json
    const spec = pod.pod.spec as Json
    const {fullName} = pod
    const sandboxes = state.sandboxes.filter(s => s.metadata.uid === pod.uid).sort((a, b) => b.metadata.attempt - a.metadata.attempt)
    let sandbox = sandboxes[0]
    let changed = false
    const byName = this.containersOf(state, pod.uid)
    const restartPolicy = String(spec.restartPolicy ?? 'Always')
    const initSpecs = (spec.initContainers as Json[] | undefined) ?? []
    const mainSpecs = (spec.containers as Json[] | undefined) ?? []
    const phase = this.podPhase(pod, byName)
    if (phase === 'Succeeded' || phase === 'Failed') return false
    if (!sandbox || sandbox.state !== 'SANDBOX_READY') {
      this.log.info('kuberuntime_manager.go:1041', sandbox ? 'No ready sandbox for pod can be found. Need to start a new one' : 'No sandbox for pod can be found. Need to start a new one', 'pod', fullName)
      const running = state.containers.filter(c => c.labels['io.kubernetes.pod.uid'] === pod.uid && c.state === 'CONTAINER_RUNNING')
      // eslint-disable-next-line no-await-in-loop
      for (const c of running) await this.call('POST', `/containers/${c.id}/stop`, {timeout: 0})
      const config: SandboxConfig = {
        annotations: podAnnotations(pod),
        hostNetwork: spec.hostNetwork === true,
        labels: {
          ...(meta.labels as Record<string, string> | undefined),
          'io.kubernetes.pod.name': String(meta.name),
          'io.kubernetes.pod.namespace': String(meta.namespace),
          'io.kubernetes.pod.uid': pod.uid,
        },
        logDirectory: `${POD_LOGS_DIR}/${String(meta.namespace)}_${String(meta.name)}_${pod.uid}`,
        metadata: {
          attempt: sandbox ? sandbox.metadata.attempt + 1 : 0, name: String(meta.name), namespace: String(meta.namespace), uid: pod.uid,
        },
      }
      sandbox = await this.call<Sandbox>('POST', '/sandboxes', config)
      this.startTimes.set(pod.uid, this.startTimes.get(pod.uid) ?? rfc3339())
      changed = true
    }

    const start = async (containerSpec: Json, init: boolean, previous?: Container) => {
      const name = String(containerSpec.name)
      const attempt = previous ? previous.metadata.attempt + 1 : 0
      const created = await this.call<Container>('POST', '/containers', {config: this.containerConfig(pod, containerSpec, attempt, init), sandboxId: sandbox!.id})
      await this.call('POST', `/containers/${created.id}/start`)
      await this.linkContainerLog(pod, name, created)
      changed = true
    }

    const restartIfDue = async (containerSpec: Json, c: Container, policy: string, init: boolean): Promise<void> => {
      if (!shouldRestart(c, policy)) return
      const key = `${String(meta.name)}_${String(meta.namespace)}_${pod.uid}_${String(containerSpec.name)}`
      if (this.inBackoff(key, Number(BigInt(c.finishedAt) / 1_000_000n))) return
      this.nextBackoff(key)
      await start(containerSpec, init, c)
    }

    // Init containers, one after the other; sidecars (restartPolicy: Always) keep running.
    for (const initSpec of initSpecs) {
      const sidecar = initSpec.restartPolicy === 'Always'
      const latest = byName.get(String(initSpec.name))?.[0]
      if (!latest) {
        // eslint-disable-next-line no-await-in-loop
        await start(initSpec, !sidecar)
        return true
      }

      if (sidecar) {
        // eslint-disable-next-line no-await-in-loop
        if (latest.state === 'CONTAINER_EXITED') await restartIfDue(initSpec, latest, 'Always', false)
        continue
      }

      if (latest.state === 'CONTAINER_RUNNING' || latest.state === 'CONTAINER_CREATED') return changed
      if (latest.exitCode === 0) continue
      // eslint-disable-next-line no-await-in-loop
      await restartIfDue(initSpec, latest, restartPolicy === 'Never' ? 'Never' : 'Always', true)
      return changed
    }

    for (const containerSpec of mainSpecs) {
      const latest = byName.get(String(containerSpec.name))?.[0]
      // eslint-disable-next-line no-await-in-loop
      if (!latest) await start(containerSpec, false)
      // eslint-disable-next-line no-await-in-loop
      else if (latest.state === 'CONTAINER_EXITED') await restartIfDue(containerSpec, latest, restartPolicy, false)
    }

    return changed
  }
}

