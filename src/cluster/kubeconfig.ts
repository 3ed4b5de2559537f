/**
 * Which API server to ask about mirror pods, and how, from kubeconfig files as kubectl reads them:
 * `--kubeconfig` (or the inventory's `kubeconfig:`), else `KUBECONFIG` (a colon-separated list,
 * merged: the first file that names a cluster, user or context wins, and so does the first
 * `current-context`; missing files are skipped), else `~/.kube/config`; `--context` picks a context
 * other than the current one. Relative paths in a file (certificate-authority, client-certificate,
 * client-key, tokenFile) are relative to that file, as in kubectl.
 *
 * Reading files is the only I/O here; the merge and the resolution are pure (mergeKubeconfigs,
 * resolveAccess).
 */
import {load} from 'js-yaml'
import {readFileSync} from 'node:fs'
import {
  delimiter, dirname, isAbsolute, join, resolve,
} from 'node:path'

import {UserError} from '../errors.js'
import {expandTilde} from '../nodes/ssh-config.js'

/** An exec credential plugin (client.authentication.k8s.io), run by the client when it needs a credential. */
export interface ExecPlugin {
  apiVersion?: string
  args: string[]
  command: string
  /** Directory of the kubeconfig that named it: a relative command path is relative to it. */
  dir: string
  env: Record<string, string>
}

/** Everything the API client needs to talk to one cluster as one user. */
export interface ClusterAccess {
  /** PEM bundle of the CAs to trust; undefined = the system's. */
  ca?: Buffer
  /** Client certificate and key (PEM). */
  cert?: Buffer
  cluster: string
  context: string
  exec?: ExecPlugin
  insecureSkipTlsVerify: boolean
  key?: Buffer
  /** Basic auth (legacy). */
  password?: string
  /** `https://host:port` (or http), without a trailing slash. */
  server: string
  /** The kubeconfig files it came from, for messages. */
  sources: string[]
  tlsServerName?: string
  token?: string
  user: string
  username?: string
}

/** One kubeconfig file as read: named entries with the file that defined them. */
export interface KubeconfigFile {
  data: unknown
  path: string
}

interface Named {
  /** The file that defined it (relative paths are relative to its directory). */
  file: string
  value: Record<string, unknown>
}

/** Several kubeconfig files merged as kubectl merges them. */
export interface MergedKubeconfig {
  clusters: Map<string, Named>
  contexts: Map<string, Named>
  currentContext?: string
  files: string[]
  users: Map<string, Named>
}

export interface LoadClusterAccessOptions {
  /** --context. */
  context?: string
  env: NodeJS.ProcessEnv
  home: string
  /** --kubeconfig, else the inventory's kubeconfig: one file, which must exist. */
  kubeconfig?: string
  /** For tests: read a file (default: fs). */
  readFile?: (path: string) => string | undefined
}

/**
 * The cluster to ask, or undefined when there is no kubeconfig at all (no file named, KUBECONFIG
 * names no existing file, no ~/.kube/config) or it has no contexts. A file that cannot be read or
 * parsed, an unknown --context, a context without a cluster or server: UserError naming the file.
 */
export function loadClusterAccess(options: LoadClusterAccessOptions): ClusterAccess | undefined {
  const readFile = options.readFile ?? readIfExists
  const paths = kubeconfigPaths(options)
  const files: KubeconfigFile[] = []
  for (const path of paths.files) {
    let text: string | undefined
    try {
      text = readFile(path)
    } catch (error) {
      throw new UserError(`cannot read kubeconfig ${path}: ${(error as Error).message}`)
    }

    if (text === undefined) {
      if (paths.explicit) throw new UserError(`kubeconfig ${path} does not exist`, {hints: [`It is named by ${paths.explicit}.`]})
      continue
    }

    files.push({data: parseKubeconfig(path, text), path})
  }

  if (files.length === 0) return undefined
  return resolveAccess(mergeKubeconfigs(files), {context: options.context, readFile})
}

/** Which files, in kubectl's order: the explicit one, else KUBECONFIG's list, else ~/.kube/config. */
export function kubeconfigPaths(options: {env: NodeJS.ProcessEnv; home: string; kubeconfig?: string}): {explicit?: string; files: string[]} {
  if (options.kubeconfig) return {explicit: '--kubeconfig or the inventory', files: [resolve(expandTilde(options.kubeconfig, options.home))]}
  const list = (options.env.KUBECONFIG ?? '').split(delimiter).filter(Boolean)
  if (list.length > 0) return {files: [...new Set(list.map(path => resolve(expandTilde(path, options.home))))]}
  return {files: [join(options.home, '.kube', 'config')]}
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** Parse one file's text (YAML or JSON); UserError when it is not a mapping. */
export function parseKubeconfig(path: string, text: string): unknown {
  let data: unknown
  try {
    data = load(text, {filename: path})
  } catch (error) {
    throw new UserError(`kubeconfig ${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`)
  }

  if (data === undefined || data === null) return {}
  if (typeof data !== 'object' || Array.isArray(data)) throw new UserError(`kubeconfig ${path} is not a kubeconfig (not a mapping)`)
  return data
}

/** Merge files in order: for clusters, users and contexts the first definition of a name wins, as does the first current-context. */
export function mergeKubeconfigs(files: readonly KubeconfigFile[]): MergedKubeconfig {
  const merged: MergedKubeconfig = {
    clusters: new Map(), contexts: new Map(), files: files.map(f => f.path), users: new Map(),
  }
  for (const {data, path} of files) {
    const doc = (data ?? {}) as Record<string, unknown>
    const current = doc['current-context']
    if (merged.currentContext === undefined && typeof current === 'string' && current !== '') merged.currentContext = current
    addNamed(merged.clusters, doc.clusters, 'cluster', path)
    addNamed(merged.users, doc.users, 'user', path)
    addNamed(merged.contexts, doc.contexts, 'context', path)
  }

  return merged
}

function addNamed(into: Map<string, Named>, list: unknown, field: string, file: string): void {
  if (list === undefined || list === null) return
  if (!Array.isArray(list)) throw new UserError(`kubeconfig ${file}: ${field}s must be a list`)
  for (const item of list) {
    const entry = item as null | Record<string, unknown>
    const name = entry?.name
    if (typeof name !== 'string' || name === '') throw new UserError(`kubeconfig ${file}: every entry of ${field}s needs a name`)
    if (into.has(name)) continue
    const value = entry?.[field] ?? {}
    if (typeof value !== 'object' || Array.isArray(value)) throw new UserError(`kubeconfig ${file}: ${field} "${name}" must be a mapping`)
    into.set(name, {file, value: value as Record<string, unknown>})
  }
}

/** The access a context gives (pure but for reading the files its paths name, through readFile). */
export function resolveAccess(merged: MergedKubeconfig, options: {context?: string; readFile: (path: string) => string | undefined}): ClusterAccess | undefined {
  const where = merged.files.join(', ')
  const contextName = options.context ?? merged.currentContext
  if (contextName === undefined) {
    if (merged.contexts.size === 0) return undefined
    throw new UserError(`kubeconfig ${where} has no current context`, {
      hints: [`Pass --context (one of: ${[...merged.contexts.keys()].join(', ')}), or run \`kubectl config use-context NAME\`.`],
    })
  }

  const context = merged.contexts.get(contextName)
  if (!context) {
    throw new UserError(`context "${contextName}" is not in kubeconfig ${where}`, {
      hints: merged.contexts.size > 0 ? [`Contexts: ${[...merged.contexts.keys()].join(', ')}.`] : [],
    })
  }

  const clusterName = stringField(context, 'cluster')
  const cluster = clusterName === undefined ? undefined : merged.clusters.get(clusterName)
  if (!clusterName || !cluster) throw new UserError(`context "${contextName}" in kubeconfig ${context.file} names ${clusterName ? `cluster "${clusterName}", which is not defined` : 'no cluster'}`)
  const server = stringField(cluster, 'server')
  if (!server) throw new UserError(`cluster "${clusterName}" in kubeconfig ${cluster.file} has no server`)
  if (!/^https?:\/\//.test(server)) throw new UserError(`cluster "${clusterName}" in kubeconfig ${cluster.file}: server "${server}" is not an http(s) URL`)
  const userName = stringField(context, 'user') ?? ''
  const user = merged.users.get(userName)
  if (userName && !user) throw new UserError(`context "${contextName}" in kubeconfig ${context.file} names user "${userName}", which is not defined`)

  const access: ClusterAccess = {
    cluster: clusterName,
    context: contextName,
    insecureSkipTlsVerify: cluster.value['insecure-skip-tls-verify'] === true,
    server: server.replace(/\/+$/, ''),
    sources: merged.files,
    user: userName,
  }
  const ca = bytes(cluster, 'certificate-authority', options.readFile)
  if (ca) access.ca = ca
  const serverName = stringField(cluster, 'tls-server-name')
  if (serverName) access.tlsServerName = serverName
  if (user) Object.assign(access, userCredentials(user, options.readFile))
  return access
}

function userCredentials(user: Named, readFile: (path: string) => string | undefined): Partial<ClusterAccess> {
  const out: Partial<ClusterAccess> = {}
  const cert = bytes(user, 'client-certificate', readFile)
  const key = bytes(user, 'client-key', readFile)
  if (cert) out.cert = cert
  if (key) out.key = key
  const token = stringField(user, 'token')
  const tokenFile = stringField(user, 'tokenFile')
  if (token) out.token = token
  else if (tokenFile) out.token = readRequired(user, tokenFile, readFile).toString('utf8').trim()
  const username = stringField(user, 'username')
  if (username) {
    out.username = username
    out.password = stringField(user, 'password') ?? ''
  }

  const exec = user.value.exec as Record<string, unknown> | undefined
  if (exec && typeof exec === 'object') {
    const command = typeof exec.command === 'string' ? exec.command : ''
    if (!command) throw new UserError(`kubeconfig ${user.file}: the exec plugin of a user has no command`)
    out.exec = {
      apiVersion: typeof exec.apiVersion === 'string' ? exec.apiVersion : undefined,
      args: Array.isArray(exec.args) ? exec.args.map(String) : [],
      command,
      dir: dirname(user.file),
      env: Object.fromEntries((Array.isArray(exec.env) ? exec.env as Array<{name?: unknown; value?: unknown}> : [])
      .filter(e => typeof e?.name === 'string').map(e => [String(e.name), String(e.value ?? '')])),
    }
  }

  if (user.value['auth-provider'] && !out.token && !out.exec) {
    throw new UserError(`kubeconfig ${user.file}: the auth-provider of user is not supported (kubectl dropped it too)`, {
      hints: ['Use an exec credential plugin (e.g. gke-gcloud-auth-plugin, kubelogin) or a token.'],
    })
  }

  return out
}

function stringField(entry: Named, field: string): string | undefined {
  const value = entry.value[field]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** `<field>-data` (base64) wins over `<field>` (a path relative to the file that defined it). */
function bytes(entry: Named, field: string, readFile: (path: string) => string | undefined): Buffer | undefined {
  const data = stringField(entry, `${field}-data`)
  if (data) return Buffer.from(data, 'base64')
  const path = stringField(entry, field)
  return path ? readRequired(entry, path, readFile) : undefined
}

function readRequired(entry: Named, path: string, readFile: (path: string) => string | undefined): Buffer {
  const full = isAbsolute(path) ? path : join(dirname(entry.file), path)
  let text: string | undefined
  try {
    text = readFile(full)
  } catch (error) {
    throw new UserError(`cannot read ${full} (named in kubeconfig ${entry.file}): ${(error as Error).message}`)
  }

  if (text === undefined) throw new UserError(`${full} (named in kubeconfig ${entry.file}) does not exist`)
  return Buffer.from(text)
}
