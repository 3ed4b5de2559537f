// JSON over HTTP on a unix socket: how the simulator's programs on a node talk to the node daemon (the way the
// kubelet and crictl talk to containerd over its socket, and systemctl to systemd).
import {existsSync, unlinkSync} from 'node:fs'
import {chmod} from 'node:fs/promises'
import http from 'node:http'

export interface RpcRequest {
  body: unknown
  method: string
  path: string
  query: URLSearchParams
}

export interface RpcResponse {
  body: unknown
  status?: number
}

export class RpcError extends Error {
  constructor(
    message: string,
    readonly status = 500,
  ) {
    super(message)
  }
}

/** Serves `handler` on a unix socket (replacing a stale socket file) with the given mode. */
export async function serveRpc(
  socketPath: string,
  mode: number,
  handler: (request: RpcRequest) => Promise<RpcResponse> | RpcResponse,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://local')
      let response: RpcResponse
      try {
        const text = Buffer.concat(chunks).toString('utf8')
        response = await handler({
          body: text ? JSON.parse(text) : undefined, method: req.method ?? 'GET', path: url.pathname, query: url.searchParams,
        })
      } catch (error) {
        response = {body: {error: (error as Error).message}, status: error instanceof RpcError ? error.status : 500}
      }

      const body = JSON.stringify(response.body ?? null)
      res.writeHead(response.status ?? 200, {'content-length': Buffer.byteLength(body), 'content-type': 'application/json'})
      res.end(body)
    })
  })
  if (existsSync(socketPath)) unlinkSync(socketPath)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, () => resolve())
  })
  await chmod(socketPath, mode)
  return server
}

/** Error of a call whose socket could not be reached: carries the errno code (ENOENT, ECONNREFUSED, EACCES). */
export class RpcConnectError extends Error {
  constructor(
    readonly code: string,
    readonly socketPath: string,
  ) {
    super(`dial unix ${socketPath}: connect: ${connectReason(code)}`)
  }
}

export function connectReason(code: string): string {
  switch (code) {
  case 'EACCES': {
    return 'permission denied'
  }

  case 'ECONNREFUSED': {
    return 'connection refused'
  }

  case 'ENOENT': {
    return 'no such file or directory'
  }

  default: {
    return code
  }
  }
}

export async function rpc<T>(socketPath: string, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  return new Promise<T>((resolve, reject) => {
    const req = http.request(
      {
        headers: payload === undefined ? {} : {'content-length': Buffer.byteLength(payload), 'content-type': 'application/json'},
        method,
        path,
        socketPath,
        timeout: timeoutMs,
      },
      res => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: unknown
          try {
            parsed = text ? JSON.parse(text) : undefined
          } catch {
            parsed = {error: text}
          }

          if ((res.statusCode ?? 500) >= 400) {
            reject(new RpcError((parsed as {error?: string})?.error ?? `HTTP ${res.statusCode}`, res.statusCode))
          } else resolve(parsed as T)
        })
      },
    )
    req.on('timeout', () => req.destroy(new Error(`timeout calling ${socketPath}`)))
    req.on('error', (error: NodeJS.ErrnoException) => {
      reject(error.code && ['EACCES', 'ECONNREFUSED', 'ENOENT'].includes(error.code) ? new RpcConnectError(error.code, socketPath) : error)
    })
    req.end(payload)
  })
}
