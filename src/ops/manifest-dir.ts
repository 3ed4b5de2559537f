/**
 * What is in a node's static pod directory, and where that directory is. One probe round trip
 * reads the kubelet's files and lists the likely directories (src/ops/node-scripts.ts); when the
 * kubelet's files name a config file or directory that was not read, or the directory turns out to be
 * one that was not listed, a second (rarely a third) round trip reads those.
 *
 * The directory is found in the order of the "manifests on nodes" issue: the inventory's
 * manifestDir; the kubelet's staticPodPath / --pod-manifest-path as the kubelet itself would
 * compute it (src/kubelet/effective.ts: running command line, `systemctl cat`, unit files,
 * environment files, --config and --config-dir); the k3s and RKE2 defaults; else
 * /etc/kubernetes/manifests with a warning. When there is no kubelet unit and no running kubelet
 * (and systemd cannot be asked), the environment files that kubeadm's, Fedora's and kubespray's
 * units read are read as such a unit would.
 */
import {posix} from 'node:path'

import type {CheckedDocument, PodSchema} from '../manifest/check.js'
import type {DocumentResult, Finding} from '../manifest/types.js'
import type {NodeExec} from '../transport/node.js'

import {RemoteCommandError} from '../errors.js'
import {
  computeEffective, DEFAULT_MANIFEST_DIR, K3S_MANIFEST_DIR, KUBELET_FILES, type KubeletEffective, manifestDir, type ManifestDirResult, RKE2_MANIFEST_DIR,
} from '../kubelet/effective.js'
import {kubeletNodeName} from '../kubelet/node-name.js'
import {checkFile, fileResult, statusOf} from '../manifest/check.js'
import {markDuplicatePods, strayFileFinding, subdirectoryFinding} from '../manifest/directory-rules.js'
import {dns1123Subdomain} from '../manifest/names.js'
import {fileFinding, tooLargeFinding} from '../manifest/parse.js'
import {
  DISABLED_DIR, fingerprint, parseProbeOutput, type ProbeAnswer, probeArgv, type ProbedEntry, type ProbedPath, type ProbeItem, type ProbeRequest, ProbeTornError, scriptSaid, sha256,
} from './node-scripts.js'

/** Everything the probes have read from a node so far. */
export interface Gathered {
  /** `systemctl cat kubelet.service`, when systemd answered. */
  cmdline?: string
  /** Paths known to exist (directories, probe paths, files). */
  existing: Set<string>
  /** Kubelet files: path → text; undefined when looked for and absent. */
  files: Map<string, string | undefined>
  hostname?: string
  /** Manifest directories (and the disabled directory) listed, by normalized path. */
  listings: Map<string, ProbedPath>
  /** The node's clock (seconds) at the first probe. */
  now?: number
  /** Items already asked for ("TAG:PATH"), so nothing is asked twice. */
  requested: Set<string>
  /** Round trips so far. */
  rounds: number
  systemctlCat?: string
}

/** The first probe: the kubelet's files, the running kubelet, and the usual manifest directories. */
export function firstProbeRequest(options: {disabledDir?: string; inventoryManifestDir?: string} = {}): ProbeRequest {
  const dirs = options.inventoryManifestDir ? [options.inventoryManifestDir] : [DEFAULT_MANIFEST_DIR, K3S_MANIFEST_DIR, RKE2_MANIFEST_DIR]
  const items: ProbeItem[] = [
    ...KUBELET_FILES.files.map(path => ({path, tag: 'file' as const})),
    ...KUBELET_FILES.dirs.map(path => ({path, tag: 'conf-dir' as const})),
    ...KUBELET_FILES.probe.map(path => ({path, tag: 'exists' as const})),
    ...[...dirs, options.disabledDir ?? DISABLED_DIR].map(path => ({path, tag: 'manifest-dir' as const})),
  ]
  return {items, mode: 'full'}
}

export function emptyGathered(): Gathered {
  return {
    existing: new Set(), files: new Map(), listings: new Map(), requested: new Set(), rounds: 0,
  }
}

/** Adds one probe's answer to what is known. */
export function absorbProbe(gathered: Gathered, request: ProbeRequest, answer: ProbeAnswer): void {
  gathered.rounds++
  if (answer.hostname !== undefined) gathered.hostname = answer.hostname
  if (answer.now !== undefined) gathered.now ??= answer.now
  if (answer.cmdline) gathered.cmdline = answer.cmdline.text
  if (answer.systemctlCat !== undefined) gathered.systemctlCat = answer.systemctlCat
  for (const item of request.items) gathered.requested.add(requestKey(item))
  for (const result of answer.results) absorbResult(gathered, result)
  for (const candidate of answer.candidates) {
    const key = normalizeDir(candidate.path)
    if (!gathered.listings.has(key)) gathered.listings.set(key, candidate)
    gathered.requested.add(`m:${key}`)
  }
}

function absorbResult(gathered: Gathered, result: ProbeAnswer['results'][number]): void {
  const {entry, item} = result
  switch (item.tag) {
  case 'conf-dir': {
    if (entry.kind === 'file') gathered.files.set(item.path, entry.content?.toString('utf8'))
    if (entry.kind !== 'dir') break
    gathered.existing.add(item.path)
    for (const child of result.entries ?? []) {
      if (child.kind === 'file') gathered.files.set(`${item.path}/${child.name}`, child.content?.toString('utf8'))
    }

    break
  }

  case 'exists': {
    if (entry.kind !== 'absent') gathered.existing.add(item.path)
    break
  }

  case 'file': {
    gathered.files.set(item.path, entry.kind === 'file' ? entry.content?.toString('utf8') ?? '' : undefined)
    if (entry.kind === 'dir') gathered.existing.add(item.path)
    break
  }

  case 'manifest-dir': {
    gathered.listings.set(normalizeDir(item.path), result)
    if (entry.kind !== 'absent') gathered.existing.add(item.path)
    break
  }
  }
}

/** The environment files kubelet units read, with the variables they hold flags in. */
const ENV_FILES = [
  '/etc/kubernetes/config',
  '/etc/kubernetes/kubelet',
  '/etc/kubernetes/kubelet.env',
  '/var/lib/kubelet/kubeadm-flags.env',
  '/etc/default/kubelet',
  '/etc/sysconfig/kubelet',
]
const ASSUMED_UNIT = '/staticpod/assumed/kubelet.service'

/**
 * The kubelet's effective settings from what was gathered. Without a kubelet unit, a running
 * kubelet or systemd, the environment files that exist are read as kubeadm's, Fedora's and
 * kubespray's units would read them (kubeadm's default --config when its file is there).
 */
export function effectiveFrom(gathered: Gathered): KubeletEffective {
  const input = {
    cmdline: gathered.cmdline, existing: gathered.existing, files: gathered.files, systemctlCat: gathered.systemctlCat,
  }
  const eff = computeEffective(input)
  const rancher = eff.layout === 'k3s' || eff.layout === 'rke2'
  const envFiles = ENV_FILES.filter(path => gathered.files.get(path) !== undefined)
  if (eff.unit || eff.running || rancher || envFiles.length === 0) return eff
  const configArgs = gathered.files.get('/var/lib/kubelet/config.yaml') === undefined ? [] : ['Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"']
  const unit = [
    `# ${ASSUMED_UNIT}`,
    '[Service]',
    ...configArgs,
    ...envFiles.map(path => `EnvironmentFile=-${path}`),
    'ExecStart=/usr/bin/kubelet $KUBELET_CONFIG_ARGS $KUBELET_HOSTNAME $KUBELET_KUBEADM_ARGS $KUBELET_ARGS $KUBELET_EXTRA_ARGS',
    '',
  ].join('\n')
  return computeEffective({...input, systemctlCat: unit})
}

export interface Discovery {
  dir: ManifestDirResult
  eff: KubeletEffective
  /** What to read next, if anything is missing. */
  next?: ProbeRequest
}

/** Where the manifest directory is, from what was gathered, and what else to read to be sure. */
export function discover(gathered: Gathered, options: {inventoryManifestDir?: string} = {}): Discovery {
  const eff = effectiveFrom(gathered)
  const dir = manifestDir(eff, {inventoryManifestDir: options.inventoryManifestDir})
  const items: ProbeItem[] = []
  for (const path of eff.unfetched) {
    const item: ProbeItem = path.endsWith('/') ? {path: path.replace(/\/+$/, ''), tag: 'conf-dir'} : {path, tag: 'file'}
    if (!gathered.requested.has(requestKey(item))) items.push(item)
  }

  const listing: ProbeItem = {path: dir.path, tag: 'manifest-dir'}
  if (dir.path.startsWith('/') && !gathered.listings.has(normalizeDir(dir.path)) && !gathered.requested.has(requestKey(listing))) items.push(listing)
  return {dir, eff, ...(items.length > 0 ? {next: {items, mode: 'more'}} : {})}
}

function requestKey(item: ProbeItem): string {
  return `${item.tag === 'manifest-dir' ? 'm' : item.tag}:${item.tag === 'manifest-dir' ? normalizeDir(item.path) : item.path}`
}

/** `/etc/kubelet.d/` and `/etc/kubelet.d` are one directory. */
export function normalizeDir(path: string): string {
  const normal = posix.normalize(path)
  return normal.length > 1 ? normal.replace(/\/+$/, '') : normal
}

/** A file (or other entry) of a manifest directory, checked as the kubelet would read it. */
export interface ManifestFile {
  content?: Buffer
  /** The checks' results for its documents (the kubelet reads the first only). */
  documents: DocumentResult[]
  kind: 'dir' | 'file' | 'other'
  mtime?: number
  name: string
  /** Full path on the node. */
  path: string
  /** The pod its first document defines, if it is a Pod with a name. */
  pod?: PodRef
  raw: Buffer
  sha256?: string
  size?: number
  /** valid, invalid (the kubelet would refuse it), error (cannot be read or parsed), or other (a directory, a broken link). */
  status: 'error' | 'invalid' | 'other' | 'valid'
}

export interface PodRef {
  name: string
  namespace: string
}

export function podKey(pod: PodRef): string {
  return `${pod.namespace}/${pod.name}`
}

/** One node's static pods, where they are, and how they were found. */
export interface NodeManifests {
  /** The manifest directory, how it was found, and what it is on the node. */
  dir: ManifestDirResult & {kind: ProbedEntry['kind']}
  /** Parked (disabled) manifests. */
  disabled: ManifestFile[]
  disabledDir: string
  /** Entries of the manifest directory (or the single file staticPodPath names). */
  files: ManifestFile[]
  /** Of the manifest and disabled directories, for the apply script. */
  fingerprint: string
  hostname?: string
  /** The name the kubelet registers the node under (mirror pods are <pod>-<nodeName>). */
  nodeName?: string
  /** The node's clock, seconds since the epoch. */
  now: number
  /** Probe round trips it took. */
  rounds: number
}

export interface ReadNodeOptions {
  disabledDir?: string
  inventoryManifestDir?: string
  schema: PodSchema
  timeoutMs?: number
}

/** Probe a node (as root) until its manifest directory is known and listed; check every file in it. */
export async function readNodeManifests(node: NodeExec, options: ReadNodeOptions): Promise<NodeManifests> {
  const gathered = emptyGathered()
  let request: ProbeRequest | undefined = firstProbeRequest(options)
  let discovery: Discovery | undefined
  while (request) {
    // eslint-disable-next-line no-await-in-loop -- each round asks for what the previous one found missing
    const answer = await runProbe(node, request, options.timeoutMs)
    absorbProbe(gathered, request, answer)
    discovery = discover(gathered, options)
    request = gathered.rounds < 4 ? discovery.next : undefined
  }

  return nodeManifests(gathered, discovery!, options)
}

/** The result for a node from what was gathered (pure). */
export function nodeManifests(gathered: Gathered, discovery: Discovery, options: {disabledDir?: string; schema: PodSchema}): NodeManifests {
  const {dir, eff} = discovery
  const nodeName = kubeletNodeName(eff, gathered.hostname)
  const listing = gathered.listings.get(normalizeDir(dir.path))
  const disabledDir = options.disabledDir ?? DISABLED_DIR
  const parked = gathered.listings.get(normalizeDir(disabledDir))
  const context = {nodeName, schema: options.schema}
  const kind = listing?.entry.kind ?? 'absent'
  const entries = kind === 'dir' ? listing?.entries ?? [] : (kind === 'file' ? [{...listing!.entry, name: posix.basename(dir.path), raw: Buffer.from(posix.basename(dir.path))}] : [])
  const base = kind === 'file' ? posix.dirname(dir.path) : dir.path
  const parkedEntries = parked?.entry.kind === 'dir' ? parked.entries ?? [] : []
  return {
    dir: {...dir, kind},
    disabled: checkEntries(parkedEntries, disabledDir, context, false),
    disabledDir,
    files: checkEntries(entries, base, context, true),
    fingerprint: fingerprint(kind === 'dir' ? entries : [], parkedEntries),
    hostname: gathered.hostname,
    nodeName,
    now: gathered.now ?? Math.floor(Date.now() / 1000),
    rounds: gathered.rounds,
  }
}

/**
 * Check each entry of a directory as `staticpod validate DIR` would (the same checks, run here on
 * what was fetched): files the kubelet would load by accident, subdirectories, unreadable files,
 * and, in a manifest directory, pods defined twice.
 */
export function checkEntries(entries: readonly ProbedEntry[], dir: string, context: {nodeName?: string; schema: PodSchema}, inManifestDir: boolean): ManifestFile[] {
  const all: CheckedDocument[] = []
  const perFile = entries.filter(entry => entry.kind !== 'absent').map(entry => {
    const path = posix.join(dir, entry.name)
    let docs: CheckedDocument[]
    if (entry.kind === 'dir') docs = [fileResult(path, subdirectoryFinding(path))]
    else if (entry.kind === 'other') docs = [fileResult(path, fileFinding('file/unreadable', 'not a regular file (a broken link, a socket or a device): the kubelet cannot read it'))]
    else if (entry.tooLarge || !entry.content) docs = [fileResult(path, tooLargeFinding(entry.size ?? 0))]
    else {
      docs = checkFileOnce(path, entry.content, entry.sha256, context)
      const stray = inManifestDir ? strayFileFinding(path, true) : undefined
      if (stray && docs[0]) docs[0].result.findings.unshift(stray)
    }

    all.push(...docs)
    return {docs, entry, path}
  })
  if (inManifestDir) markDuplicatePods(all)
  return perFile.map(({docs, entry, path}) => {
    const documents = docs.map(doc => ({...doc.result, status: doc.result.status === 'error' ? 'error' as const : statusOf(doc.result.findings)}))
    const first = documents[0]
    const pod = first && first.kind === 'Pod' && first.name ? {name: first.name, namespace: first.namespace ?? 'default'} : undefined
    let status: ManifestFile['status'] = 'valid'
    if (entry.kind === 'dir' || entry.kind === 'other') status = 'other'
    else if (documents.some(doc => doc.status === 'error')) status = 'error'
    else if (documents.some(doc => doc.status === 'invalid')) status = 'invalid'
    return {
      content: entry.content,
      documents,
      kind: entry.kind as ManifestFile['kind'],
      mtime: entry.mtime,
      name: entry.name,
      path,
      pod,
      raw: entry.raw,
      sha256: entry.sha256,
      size: entry.size,
      status,
    }
  })
}

/** Checked files by path, content and what of the node name matters; fleets carry the same manifests on every node. */
const checkedFiles = new Map<string, CheckedDocument[]>()
const CHECKED_FILES_KEPT = 2000

/** checkFile, once per distinct file: a copy of the results (the callers add findings to them). */
function checkFileOnce(path: string, content: Buffer, hash: string | undefined, context: {nodeName?: string; schema: PodSchema}): CheckedDocument[] {
  // The node name enters only the mirror pod name (<pod>-<node>); for a node name that is a DNS
  // subdomain, as the kubelet's are, only its length can change the verdict, and when the verdict is
  // a finding its message names the node: such results are not kept.
  const {nodeName} = context
  const node = nodeName === undefined ? '-' : (dns1123Subdomain(nodeName) ? `=${nodeName}` : `#${nodeName.length}`)
  const key = `${hash ?? sha256(content)}\0${node}\0${path}`
  let docs = checkedFiles.get(key)
  if (!docs) {
    docs = checkFile(path, content, context)
    if (checkedFiles.size >= CHECKED_FILES_KEPT) checkedFiles.clear()
    if (!docs.some(doc => doc.result.findings.some(f => f.rule === 'static-pod/mirror-name-length'))) checkedFiles.set(key, docs)
  }

  return docs.map(doc => ({locate: doc.locate, result: {...doc.result, findings: [...doc.result.findings]}}))
}

/** Findings of a file that say something about the directory or the file as a whole (not its fields). */
export function errorFindings(file: ManifestFile): Finding[] {
  return file.documents.flatMap(doc => doc.findings.filter(f => f.severity === 'error'))
}

/**
 * Runs the probe on the node (as root) and parses what it printed. Files are read as they are, so
 * one that changes while it is read tears the answer: the probe then runs again (three times in all).
 */
export async function runProbe(node: NodeExec, request: ProbeRequest, timeoutMs: number | undefined): Promise<ProbeAnswer> {
  for (let attempt = 1; ; attempt++) {
    const argv = probeArgv(request)
    const chunks: Buffer[] = []
    // eslint-disable-next-line no-await-in-loop -- a torn answer is asked for again, one after the other
    const result = await node.run(argv, {
      onStdout: chunk => chunks.push(chunk), readOnly: true, root: true, timeoutMs,
    })
    if (result.code !== 0) {
      // The probe says why in a "staticpod: " line on stderr (an unreadable manifest directory).
      const said = scriptSaid(result.stderr)
      throw new RemoteCommandError(node.name, describeArgv(argv), result, `${node.name}: reading the kubelet's files and the manifest directory failed: ${said ?? `exit ${result.code ?? result.signal}`}`)
    }

    try {
      return parseProbeOutput(Buffer.concat(chunks), request)
    } catch (error) {
      if (!(error instanceof ProbeTornError) || attempt >= 3) throw error
    }
  }
}

/** An argv for messages: the script itself is replaced by its name. */
export function describeArgv(argv: readonly string[]): string {
  const name = argv[3]
  const rest = argv.slice(4)
  const shown = rest.length > 6 ? [...rest.slice(0, 6), `… (${rest.length - 6} more)`] : rest
  return `sh -c <${name ?? 'script'}> ${shown.join(' ')}`
}
