/**
 * A small read-only client for the Kubernetes API over node:https (or http), with the credentials of a
 * kubeconfig context (src/cluster/kubeconfig.ts): CA, client certificate and key, bearer token,
 * basic auth, or an exec credential plugin, and insecure-skip-tls-verify. Every request has a time
 * limit. Failures are ApiErrors whose kind says what went wrong (the API server cannot be reached, it
 * refuses the credentials, the object does not exist, ...), so callers can show "unreachable"
 * without a stack trace.
 */
import {execFile} from 'node:child_process'
import http from 'node:http'
import https from 'node:https'
import {isAbsolute, join} from 'node:path'

import type {ClusterAccess, ExecPlugin} from './kubeconfig.js'

export type ApiErrorKind = 'forbidden' | 'http' | 'not-found' | 'timeout' | 'unauthorized' | 'unreachable'

export class ApiError extends Error {
  readonly kind: ApiErrorKind
  /** HTTP status, when the API server answered. */
  readonly status?: number

  constructor(kind: ApiErrorKind, message: string, status?: number) {
    super(message)
    this.name = 'ApiError'
    this.kind = kind
    this.status = status
  }
}

export const DEFAULT_API_TIMEOUT_MS = 10_000

interface Credential {
  cert?: Buffer | string
  key?: Buffer | string
  token?: string
}

export class ApiClient {
  readonly access: ClusterAccess
  private execCredential?: Promise<Credential>

  constructor(access: ClusterAccess) {
    this.access = access
  }

  /** GET a path such as `/api/v1/pods?fieldSelector=...` and parse the JSON answer. */
  async get<T>(path: string, options: {timeoutMs?: number} = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_API_TIMEOUT_MS
    const credential = await this.credential(timeoutMs)
    // The server may carry a path prefix (a proxy, Rancher's /k8s/clusters/ID): appended, not resolved.
    const url = new URL(`${this.access.server}${path}`)
    const {body, status} = await this.request(url, credential, timeoutMs)
    if (status >= 200 && status < 300) {
      try {
        return JSON.parse(body) as T
      } catch {
        throw new ApiError('http', `${this.access.server}: GET ${path}: the answer is not JSON`, status)
      }
    }

    throw statusError(this.access.server, path, status, body)
  }

  private async credential(timeoutMs: number): Promise<Credential> {
    const {access} = this
    if (!access.exec) return {cert: access.cert, key: access.key, token: access.token}
    this.execCredential ??= runExecPlugin(access.exec, access, timeoutMs)
    const fromPlugin = await this.execCredential
    return {cert: fromPlugin.cert ?? access.cert, key: fromPlugin.key ?? access.key, token: fromPlugin.token ?? access.token}
  }

  private request(url: URL, credential: Credential, timeoutMs: number): Promise<{body: string; status: number}> {
    const {access} = this
    const headers: Record<string, string> = {Accept: 'application/json', 'User-Agent': 'staticpod'}
    if (credential.token) headers.Authorization = `Bearer ${credential.token}`
    else if (access.username !== undefined) headers.Authorization = `Basic ${Buffer.from(`${access.username}:${access.password ?? ''}`).toString('base64')}`
    const secure = url.protocol === 'https:'
    const options: https.RequestOptions = {
      headers,
      method: 'GET',
      ...(secure
        ? {
          ca: access.ca,
          cert: credential.cert,
          key: credential.key,
          rejectUnauthorized: !access.insecureSkipTlsVerify,
          servername: access.tlsServerName,
        }
        : {}),
    }
    return new Promise((resolve, reject) => {
      const request = (secure ? https : http).request(url, options, response => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () => {
          clearTimeout(timer)
          resolve({body: Buffer.concat(chunks).toString('utf8'), status: response.statusCode ?? 0})
        })
        response.on('error', error => {
          clearTimeout(timer)
          reject(new ApiError('unreachable', `${access.server}: ${error.message}`))
        })
      })
      const timer = setTimeout(() => {
        request.destroy(new ApiError('timeout', `${access.server}: no answer within ${Math.round(timeoutMs / 100) / 10}s`))
      }, timeoutMs)
      request.on('error', error => {
        clearTimeout(timer)
        reject(error instanceof ApiError ? error : new ApiError('unreachable', `${access.server}: ${describeNetworkError(error)}`))
      })
      request.end()
    })
  }
}

function describeNetworkError(error: Error & {code?: string}): string {
  switch (error.code) {
  case 'DEPTH_ZERO_SELF_SIGNED_CERT':
  case 'SELF_SIGNED_CERT_IN_CHAIN':
  case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE': {
    return `the server's certificate is not trusted (${error.code}): check certificate-authority in the kubeconfig`
  }

  case 'ECONNREFUSED': {
    return 'connection refused'
  }

  case 'ENOTFOUND': {
    return 'no such host'
  }

  case 'ERR_TLS_CERT_ALTNAME_INVALID': {
    return `the server's certificate does not name this host (${error.message})`
  }

  default: {
    return error.message
  }
  }
}

/** The API's Status message, else the body's first line. */
function statusError(server: string, path: string, status: number, body: string): ApiError {
  let message = body.trim().split('\n')[0] ?? ''
  try {
    const parsed = JSON.parse(body) as {message?: unknown}
    if (typeof parsed.message === 'string') message = parsed.message
  } catch {}

  const text = `${server}: GET ${path}: ${status}${message ? ` ${message}` : ''}`
  if (status === 401) return new ApiError('unauthorized', text, status)
  if (status === 403) return new ApiError('forbidden', text, status)
  if (status === 404) return new ApiError('not-found', text, status)
  return new ApiError('http', text, status)
}

/** Run an exec credential plugin as kubectl does and read the ExecCredential it prints. */
async function runExecPlugin(plugin: ExecPlugin, access: ClusterAccess, timeoutMs: number): Promise<Credential> {
  const apiVersion = plugin.apiVersion ?? 'client.authentication.k8s.io/v1'
  const command = isAbsolute(plugin.command) || !plugin.command.includes('/') ? plugin.command : join(plugin.dir, plugin.command)
  const info = JSON.stringify({apiVersion, kind: 'ExecCredential', spec: {cluster: {server: access.server}, interactive: false}})
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(command, plugin.args, {
      env: {...process.env, ...plugin.env, KUBERNETES_EXEC_INFO: info}, timeout: timeoutMs,
    }, (error, out, err) => {
      if (error) reject(new ApiError('unauthorized', `the kubeconfig's exec plugin \`${plugin.command}\` failed: ${(err || error.message).trim().split('\n')[0]}`))
      else resolve(out)
    })
  })
  let status: undefined | {clientCertificateData?: string; clientKeyData?: string; token?: string}
  try {
    status = (JSON.parse(stdout) as {status?: typeof status}).status
  } catch {}

  if (!status || (!status.token && !status.clientCertificateData)) {
    throw new ApiError('unauthorized', `the kubeconfig's exec plugin \`${plugin.command}\` printed no ExecCredential with a token or certificate`)
  }

  return {cert: status.clientCertificateData, key: status.clientKeyData, token: status.token}
}
