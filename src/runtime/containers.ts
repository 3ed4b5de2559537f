/**
 * The containers a node's runtime holds, as `crictl ps -a -o json` or `docker ps` print them
 * (kubelet-facts §5). Pure: the command lines to run and the parsers of what they print; running
 * them is src/ops/containers.ts.
 *
 * The link to the Kubernetes side is in the kubelet's labels: `io.kubernetes.pod.name` (for a
 * static pod the mirror name `<pod>-<node>`), `io.kubernetes.pod.namespace`, and
 * `io.kubernetes.pod.uid`, which for a static pod is the kubelet's config hash (the mirror pod's
 * `kubernetes.io/config.hash` / `config.mirror` annotations).
 */

export interface RuntimeContainer {
  /** ISO 8601, when the runtime says. */
  createdAt?: string
  /** The full container id. */
  id: string
  /** What the pod spec asked for when the runtime says so (crictl's userSpecifiedImage), else the image id. */
  image: string
  /** io.kubernetes.container.name */
  name: string
  /** io.kubernetes.pod.name: for a static pod, the mirror name <pod>-<nodeName>. */
  podName: string
  /** io.kubernetes.pod.namespace */
  podNamespace: string
  /** io.kubernetes.pod.uid: for a static pod, the kubelet's config hash. */
  podUid: string
  /** crictl's metadata.attempt; docker: the io.kubernetes.container.restartCount annotation. */
  restarts: number
  /** ISO 8601; neither `crictl ps` nor `docker ps` says it, so only set by callers that asked more. */
  startedAt?: string
  state: 'created' | 'exited' | 'running' | 'unknown'
}

/** The output was not what the runtime's CLI prints. */
export class RuntimeOutputError extends Error {
  constructor(runtime: string, message: string) {
    super(`unexpected output from ${runtime}: ${message}`)
    this.name = 'RuntimeOutputError'
  }
}

export const LABEL = {
  containerName: 'io.kubernetes.container.name',
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  podUid: 'io.kubernetes.pod.uid',
  restartCount: 'io.kubernetes.container.restartCount',
} as const

// ---------------------------------------------------------------------------------------------
// crictl
// ---------------------------------------------------------------------------------------------

export const CRICTL_PS_ARGV = ['crictl', 'ps', '-a', '-o', 'json'] as const

const CRI_STATES: Record<string, RuntimeContainer['state']> = {
  CONTAINER_CREATED: 'created', CONTAINER_EXITED: 'exited', CONTAINER_RUNNING: 'running', CONTAINER_UNKNOWN: 'unknown',
}

/**
 * `crictl ps -a -o json`: the proto3 JSON mapping of ListContainersResponse (kubelet-facts §5.1):
 * enums as names, int64 `createdAt` (nanoseconds) as a decimal string. Fields missing from older
 * or newer crictl builds are tolerated; a document that is not that shape throws RuntimeOutputError.
 */
export function parseCrictlPs(stdout: string): RuntimeContainer[] {
  let document: unknown
  try {
    document = JSON.parse(stdout)
  } catch (error) {
    throw new RuntimeOutputError('crictl', `not JSON (${(error as Error).message})`)
  }

  // crictl prints zero values too (EmitDefaults): an empty node is {"containers": []}.
  if (!isObject(document) || !Array.isArray(document.containers)) throw new RuntimeOutputError('crictl', 'no "containers" list')
  return (document.containers as unknown[]).map((item, index): RuntimeContainer => {
    if (!isObject(item) || typeof item.id !== 'string') throw new RuntimeOutputError('crictl', `container ${index} has no id`)
    const labels = stringMap(item.labels)
    const annotations = stringMap(item.annotations)
    const metadata = isObject(item.metadata) ? item.metadata : {}
    const image = isObject(item.image) ? item.image : {}
    const attempt = Number(metadata.attempt ?? annotations[LABEL.restartCount] ?? 0)
    return {
      createdAt: nanosToIso(item.createdAt),
      id: item.id,
      image: firstString(image.userSpecifiedImage, image.image, item.imageRef) ?? '',
      name: labels[LABEL.containerName] ?? firstString(metadata.name) ?? '',
      podName: labels[LABEL.podName] ?? '',
      podNamespace: labels[LABEL.podNamespace] ?? '',
      podUid: labels[LABEL.podUid] ?? '',
      restarts: Number.isFinite(attempt) ? attempt : 0,
      state: CRI_STATES[String(item.state)] ?? 'unknown',
    }
  })
}

// ---------------------------------------------------------------------------------------------
// docker
// ---------------------------------------------------------------------------------------------

/**
 * `docker ps` with a tab-separated template of the fields needed, labels read one by one with
 * `{{.Label "k"}}` (the `Labels` field is one comma-joined `k=v` string whose values may hold
 * commas, kubelet-facts §5.2), and only the kubelet's containers (not the `k8s_POD_` sandboxes).
 * `Status` rather than `State`, which older docker CLIs do not have.
 */
export const DOCKER_PS_FORMAT = [
  '{{.ID}}',
  '{{.Status}}',
  '{{.CreatedAt}}',
  '{{.Image}}',
  `{{.Label "${LABEL.containerName}"}}`,
  `{{.Label "${LABEL.podName}"}}`,
  `{{.Label "${LABEL.podNamespace}"}}`,
  `{{.Label "${LABEL.podUid}"}}`,
  `{{.Label "annotation.${LABEL.restartCount}"}}`,
].join(String.raw`\t`)

export const DOCKER_PS_ARGV = ['docker', 'ps', '-a', '--no-trunc', '--filter', 'label=io.kubernetes.docker.type=container', '--format', DOCKER_PS_FORMAT] as const

/** What DOCKER_PS_ARGV prints: one container per line, the template's fields separated by tabs. */
export function parseDockerPs(stdout: string): RuntimeContainer[] {
  const out: RuntimeContainer[] = []
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue
    const fields = line.split('\t')
    if (fields.length !== 9) throw new RuntimeOutputError('docker', `expected 9 tab-separated fields, got ${fields.length}: ${JSON.stringify(line.slice(0, 120))}`)
    const [id, status, created, image, name, podName, podNamespace, podUid, restartCount] = fields as [string, string, string, string, string, string, string, string, string]
    const restarts = Number(restartCount || 0)
    out.push({
      createdAt: dockerTimeToIso(created),
      id,
      image,
      name,
      podName,
      podNamespace,
      podUid,
      restarts: Number.isFinite(restarts) ? restarts : 0,
      state: dockerState(status),
    })
  }

  return out
}

/** docker's Status column: `Up 2 hours`, `Up 5 seconds (Paused)`, `Exited (137) 5 seconds ago`, `Created`, `Restarting (1) ...`. */
export function dockerState(status: string): RuntimeContainer['state'] {
  if (/^Up\b/.test(status)) return status.includes('(Paused)') ? 'unknown' : 'running'
  if (/^Exited\b/.test(status)) return 'exited'
  if (/^Created\b/.test(status)) return 'created'
  return 'unknown'
}

/** docker's CreatedAt: Go's time.String() of the CLI's zone, `2024-01-02 15:04:05 +0000 UTC`. */
function dockerTimeToIso(text: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.\d+)? ([+-]\d{2})(\d{2})\b/.exec(text)
  if (!m) return undefined
  const date = new Date(`${m[1]}T${m[2]}${m[3]}:${m[4]}`)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

// ---------------------------------------------------------------------------------------------
// Static pods
// ---------------------------------------------------------------------------------------------

/** The containers of one pod (by the kubelet's labels: its pod name, e.g. a mirror name, and namespace). */
export function containersOfPod(containers: readonly RuntimeContainer[], podName: string, namespace: string): RuntimeContainer[] {
  return containers.filter(c => c.podName === podName && c.podNamespace === namespace)
}

/**
 * The newest container of each container name (the kubelet keeps the newest dead one next to the
 * running one): what runs now, or ran last.
 */
export function latestContainers(containers: readonly RuntimeContainer[]): RuntimeContainer[] {
  const byName = new Map<string, RuntimeContainer>()
  for (const container of containers) {
    const seen = byName.get(container.name)
    if (!seen || newer(container, seen)) byName.set(container.name, container)
  }

  return [...byName.values()]
}

function newer(a: RuntimeContainer, b: RuntimeContainer): boolean {
  if (a.state === 'running' && b.state !== 'running') return true
  if (b.state === 'running' && a.state !== 'running') return false
  if (a.restarts !== b.restarts) return a.restarts > b.restarts
  return (a.createdAt ?? '') > (b.createdAt ?? '')
}

// ---------------------------------------------------------------------------------------------

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function stringMap(value: unknown): Record<string, string> {
  if (!isObject(value)) return {}
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'))
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v !== '')
}

/** An int64 of nanoseconds since the epoch, as proto3 JSON prints it (a decimal string); 0: unknown. */
function nanosToIso(value: unknown): string | undefined {
  const text = typeof value === 'number' ? String(value) : value
  if (typeof text !== 'string' || !/^\d+$/.test(text) || /^0+$/.test(text)) return undefined
  return new Date(Number(BigInt(text) / 1_000_000n)).toISOString()
}
