// The kubelet's API client: reads its kubeconfig (server, CA, token or client certificate) and talks JSON over
// HTTPS to the API server stand-in, including a watch (newline-delimited JSON events).
import {readFileSync} from 'node:fs'
import https from 'node:https'
import path from 'node:path'
import {parse} from 'yaml'

export type Json = Record<string, unknown>

export interface ApiConfig {
  ca?: Buffer
  cert?: Buffer
  key?: Buffer
  server: URL
  token?: string
}

function noop(): void {}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body?: Json,
  ) {
    super(message)
  }
}

/** Loads a kubeconfig as client-go does for the current context (paths relative to the file). */
export function loadKubeconfig(file: string): ApiConfig {
  const config = parse(readFileSync(file, 'utf8')) as Json
  const named = (list: unknown, name: unknown) => ((list as Json[] | undefined) ?? []).find(item => item.name === name)
  const context = (named(config.contexts, config['current-context'])?.context ?? (config.contexts as Json[] | undefined)?.[0]?.context) as Json | undefined
  const cluster = (named(config.clusters, context?.cluster)?.cluster ?? (config.clusters as Json[] | undefined)?.[0]?.cluster) as Json | undefined
  const user = (named(config.users, context?.user)?.user ?? (config.users as Json[] | undefined)?.[0]?.user ?? {}) as Json
  if (!cluster?.server) throw new Error(`invalid configuration: no server found for cluster ${JSON.stringify(context?.cluster ?? '')}`)
  const dir = path.dirname(file)
  const data = (inline: unknown, ref: unknown) =>
    typeof inline === 'string' ? Buffer.from(inline, 'base64') : (typeof ref === 'string' ? readFileSync(path.resolve(dir, ref)) : undefined)
  return {
    ca: data(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: data(user['client-certificate-data'], user['client-certificate']),
    key: data(user['client-key-data'], user['client-key']),
    server: new URL(String(cluster.server)),
    token: typeof user.token === 'string' ? user.token : (typeof user.tokenFile === 'string' ? readFileSync(user.tokenFile, 'utf8').trim() : undefined),
  }
}

export class ApiClient {
  private readonly agent: https.Agent

  constructor(
    private readonly config: ApiConfig,
    private readonly userAgent: string,
  ) {
    this.agent = new https.Agent({
      ca: config.ca, cert: config.cert, keepAlive: true, key: config.key, maxSockets: 8,
    })
  }

  close(): void {
    this.agent.destroy()
  }

  async request<T = Json>(method: string, route: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    return new Promise<T>((resolve, reject) => {
      const req = https.request(
        {
          agent: this.agent,
          headers: {
            accept: 'application/json',
            ...(payload === undefined ? {} : {'content-length': Buffer.byteLength(payload), 'content-type': contentType}),
            ...(this.config.token ? {authorization: `Bearer ${this.config.token}`} : {}),
            'user-agent': this.userAgent,
          },
          host: this.config.server.hostname,
          method,
          path: route,
          port: this.config.server.port || 443,
          timeout: 10_000,
        },
        res => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            let parsed: Json = {}
            try {
              parsed = text ? (JSON.parse(text) as Json) : {}
            } catch {
              parsed = {message: text}
            }

            const status = res.statusCode ?? 500
            if (status >= 400) reject(new ApiError(String(parsed.message ?? `HTTP ${status}`), status, parsed))
            else resolve(parsed as T)
          })
        },
      )
      req.on('timeout', () => req.destroy(new Error('Client.Timeout exceeded while awaiting headers')))
      req.on('error', reject)
      req.end(payload)
    })
  }

  /**
   * Watches a collection from a resourceVersion; calls onEvent per event; resolves when the stream ends (the
   * caller relists). Returns a function that aborts it.
   */
  watch(route: string, onEvent: (event: {object: Json; type: string}) => void): {abort: () => void; done: Promise<void>} {
    let abort: () => void = noop
    const done = new Promise<void>((resolve, reject) => {
      const req = https.request(
        {
          agent: this.agent,
          headers: {
            accept: 'application/json',
            ...(this.config.token ? {authorization: `Bearer ${this.config.token}`} : {}),
            'user-agent': this.userAgent,
          },
          host: this.config.server.hostname,
          method: 'GET',
          path: route,
          port: this.config.server.port || 443,
        },
        res => {
          if ((res.statusCode ?? 500) >= 400) {
            res.resume()
            reject(new ApiError(`watch ${route}: HTTP ${res.statusCode}`, res.statusCode ?? 500))
            return
          }

          let pending = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => {
            pending += chunk
            let newline = pending.indexOf('\n')
            while (newline !== -1) {
              const line = pending.slice(0, newline).trim()
              pending = pending.slice(newline + 1)
              if (line) {
                try {
                  onEvent(JSON.parse(line) as {object: Json; type: string})
                } catch {
                  // ignore a malformed line
                }
              }

              newline = pending.indexOf('\n')
            }
          })
          res.on('end', () => resolve())
          res.on('error', () => resolve())
          res.on('close', () => resolve())
        },
      )
      req.on('error', reject)
      req.end()
      abort = () => req.destroy()
    })
    return {abort: () => abort(), done}
  }
}
