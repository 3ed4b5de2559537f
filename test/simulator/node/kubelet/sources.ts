// The kubelet's static pod sources (pkg/kubelet/config/file.go, file_linux.go, http.go), with their timing and
// log lines: the file source relists the manifest path at start and every fileCheckFrequency and follows inotify
// events in between; the HTTP source polls the manifest URL every httpCheckFrequency.
import {
  closeSync, type FSWatcher, openSync, readdirSync, readSync, type Stats, statSync, watch,
} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import path from 'node:path'

import type {Logger} from '../../shared/klog.js'

import {background} from '../../shared/util.js'
import {
  ManifestError, MAX_CONFIG_LENGTH, podFromFile, podsFromHttpBody, type StaticPod,
} from './manifest.js'

export type Update = (pods: StaticPod[]) => void

const RETRY_PERIOD_MS = 1000

function errnoText(error: NodeJS.ErrnoException, op: string, file: string): string {
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
    ELOOP: 'too many levels of symbolic links',
    ENOENT: 'no such file or directory',
    ENOTDIR: 'not a directory',
  }
  return `${op} ${file}: ${reasons[error.code ?? ''] ?? error.message}`
}

/** utilio.ReadAtMost(file, 10 MiB): the content, or an error once the limit is reached. */
function readAtMost(file: string): Buffer {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch (error) {
    throw Object.assign(new Error(errnoText(error as NodeJS.ErrnoException, 'open', file)), {code: (error as NodeJS.ErrnoException).code})
  }

  try {
    const chunks: Buffer[] = []
    let total = 0
    for (;;) {
      const buffer = Buffer.alloc(64 * 1024)
      let n: number
      try {
        n = readSync(fd, buffer, 0, buffer.length, null)
      } catch (error) {
        throw new Error(errnoText(error as NodeJS.ErrnoException, 'read', file))
      }

      if (n === 0) break
      total += n
      if (total > MAX_CONFIG_LENGTH) throw new ManifestError('the read limit is reached')
      chunks.push(buffer.subarray(0, n))
    }

    return Buffer.concat(chunks)
  } finally {
    closeSync(fd)
  }
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))

export class FileSource {
  /** fileKeyMapping: file → namespace/name of the pod it defined. */
  private readonly fileKeys = new Map<string, string>()
  private relistTimer?: NodeJS.Timeout
  private retryTimer?: NodeJS.Timeout
  private stopped = false
  /** cache.UndeltaStore keyed by namespace/name: every change sends the whole list. */
  private readonly store = new Map<string, StaticPod>()
  private watcher?: FSWatcher

  constructor(
    private readonly manifestPath: string,
    private readonly nodeName: string,
    private readonly periodMs: number,
    private readonly log: Logger,
    private readonly update: Update,
  ) {}

  start(): void {
    this.relist()
    this.relistTimer = setInterval(() => this.relist(), Math.max(this.periodMs, 100))
    this.startWatch()
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.relistTimer)
    clearTimeout(this.retryTimer)
    this.watcher?.close()
  }

  private consume(file: string, type: 'add' | 'delete' | 'modify'): void {
    if (type === 'delete') {
      const key = this.fileKeys.get(file)
      if (key === undefined) return
      if (!this.store.has(key)) {
        this.log.error('file.go:284', 'Unable to process watch event', 'err', `the pod with key ${key} doesn't exist in cache`)
        return
      }

      this.store.delete(key)
      this.fileKeys.delete(file)
      this.send()
      return
    }

    try {
      const pod = this.extractFromFile(file)
      this.store.set(pod.fullName, pod)
      this.send()
    } catch (error) {
      this.log.error('file.go:284', 'Unable to process watch event', 'err', `can't process config file ${JSON.stringify(file)}: ${(error as Error).message}`)
    }
  }

  private extractFromDir(dir: string): StaticPod[] {
    const names = readdirSync(dir).filter(name => !name.startsWith('.'))
    const pods: StaticPod[] = []
    for (const file of names.map(name => path.join(dir, name)).sort(byteOrder)) {
      let stat
      try {
        stat = statSync(file)
      } catch (error) {
        this.log.error('file.go:213', 'Could not get metadata', 'err', errnoText(error as NodeJS.ErrnoException, 'stat', file), 'path', file)
        continue
      }

      if (stat.isDirectory()) {
        this.log.error('file.go:218', 'Provided manifest path is a directory, not recursing into manifest path', 'path', file)
      } else if (stat.isFile()) {
        try {
          pods.push(this.extractFromFile(file))
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
            this.log.error('file.go:224', 'Could not process manifest file', 'err', (error as Error).message, 'path', file)
          }
        }
      } else {
        this.log.error('file.go:231', 'Manifest path is not a directory or file', 'path', file, 'mode', modeString(stat))
      }
    }

    return pods
  }

  private extractFromFile(file: string): StaticPod {
    const data = readAtMost(file)
    const pod = podFromFile(data, this.nodeName, file)
    this.fileKeys.set(file, pod.fullName)
    return pod
  }

  private readError(err: string): void {
    this.log.error('file.go:116', 'Unable to read config path', 'err', err, 'path', this.manifestPath)
  }

  /** listConfig: the whole path again; an empty directory sends an empty set without touching the store. */
  private relist(): void {
    if (this.stopped) return
    let stat
    try {
      stat = statSync(this.manifestPath)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.readError(errnoText(error as NodeJS.ErrnoException, 'stat', this.manifestPath))
        return
      }

      this.update([])
      this.readError('path does not exist, ignoring')
      return
    }

    if (stat.isDirectory()) {
      let pods: StaticPod[]
      try {
        pods = this.extractFromDir(this.manifestPath)
      } catch (error) {
        this.readError((error as Error).message)
        return
      }

      if (pods.length === 0) {
        this.update([])
        return
      }

      this.replaceStore(pods)
    } else if (stat.isFile()) {
      try {
        this.replaceStore([this.extractFromFile(this.manifestPath)])
      } catch (error) {
        this.readError((error as Error).message)
      }
    } else this.readError('path is not a directory or file')
  }

  private replaceStore(pods: StaticPod[]): void {
    this.store.clear()
    // Later entries with the same key win: the lexicographically last file.
    for (const pod of pods) this.store.set(pod.fullName, pod)
    this.send()
  }

  private retryWatch(): void {
    this.watcher?.close()
    this.watcher = undefined
    if (!this.stopped) this.retryTimer = setTimeout(() => this.startWatch(), RETRY_PERIOD_MS)
  }

  private send(): void {
    this.update([...this.store.values()])
  }

  /** startWatch/doWatch: retried every second while the path is missing (and logged each time, as the kubelet does). */
  private startWatch(): void {
    if (this.stopped) return
    let stat
    try {
      stat = statSync(this.manifestPath)
    } catch {
      this.update([])
      this.log.error('file_linux.go:63', 'Unable to read config path', 'err', 'path does not exist, ignoring', 'path', this.manifestPath)
      this.retryWatch()
      return
    }

    const isDir = stat.isDirectory()
    try {
      this.watcher = watch(this.manifestPath, {persistent: true}, (eventType, filename) => {
        const name = filename ? filename.toString() : path.basename(this.manifestPath)
        const file = isDir ? path.join(this.manifestPath, name) : this.manifestPath
        if (isDir && name === path.basename(this.manifestPath) && !exists(this.manifestPath)) {
          this.retryWatch()
          return
        }

        if (path.basename(file).startsWith('.')) return // "Ignored pod manifest, because it starts with dots"
        if (eventType === 'change') this.consume(file, 'modify')
        else this.consume(file, exists(file) ? 'add' : 'delete')
        if (!isDir && !exists(this.manifestPath)) this.retryWatch()
      })
      this.watcher.on('error', error => {
        this.log.error('file_linux.go:63', 'Unable to read config path', 'err', `error while watching ${JSON.stringify(this.manifestPath)}: ${error.message}`, 'path', this.manifestPath)
        this.retryWatch()
      })
    } catch (error) {
      this.log.error('file_linux.go:63', 'Unable to read config path', 'err', (error as Error).message, 'path', this.manifestPath)
      this.retryWatch()
    }
  }
}

function exists(file: string): boolean {
  try {
    statSync(file)
    return true
  } catch {
    return false
  }
}

/** Go's FileMode.String() for the kinds of files a manifest directory may hold. */
function modeString(stat: Stats): string {
  let type = '-'
  if (stat.isFIFO()) type = 'p'
  else if (stat.isSocket()) type = 'S'
  else if (stat.isCharacterDevice()) type = 'Dc'
  else if (stat.isBlockDevice()) type = 'D'
  const octal = (stat.mode % 0o1000).toString(8).padStart(3, '0')
  const perms = [...octal].map(digit => {
    const n = Number(digit)
    return `${n >= 4 ? 'r' : '-'}${n % 4 >= 2 ? 'w' : '-'}${n % 2 === 1 ? 'x' : '-'}`
  })
  return `${type}${perms.join('')}`
}

export class HttpSource {
  private data?: Buffer
  private failures = 0
  private timer?: NodeJS.Timeout

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string[]> | undefined,
    private readonly nodeName: string,
    private readonly periodMs: number,
    private readonly log: Logger,
    private readonly update: Update,
  ) {}

  start(): void {
    const tick = async () => {
      await this.run()
      this.timer = setTimeout(tick, Math.max(this.periodMs, 100))
    }

    background(tick())
  }

  stop(): void {
    clearTimeout(this.timer)
  }

  private async extract(): Promise<void> {
    const {body, status, statusText} = await this.fetch()
    if (status !== 200) throw new Error(`${this.url}: ${status} ${statusText}`)
    if (body.length === 0) {
      this.update([])
      throw new Error(`zero-length data received from ${this.url}`)
    }

    if (this.data && body.equals(this.data)) return
    this.data = body
    let pods: StaticPod[]
    try {
      pods = podsFromHttpBody(body, this.nodeName, this.url)
    } catch (error) {
      const {message} = (error as Error)
      throw new Error(message.startsWith('received ') ? `${this.url}: ${message}` : message)
    }

    const seen = new Set<string>()
    const unique: StaticPod[] = []
    for (const pod of pods) {
      if (seen.has(pod.fullName)) {
        this.log.warning('config.go:410', 'Pod failed validation due to duplicate pod name, ignoring', 'pod', pod.fullName)
        continue
      }

      seen.add(pod.fullName)
      unique.push(pod)
    }

    this.update(unique)
  }

  private fetch(): Promise<{body: Buffer; status: number; statusText: string}> {
    const url = new URL(this.url)
    const client = url.protocol === 'https:' ? https : http
    const headers: Record<string, string[]> = {}
    for (const [key, values] of Object.entries(this.headers ?? {})) headers[key] = values
    return new Promise((resolve, reject) => {
      const req = client.get(url, {headers, timeout: 10_000}, res => {
        const chunks: Buffer[] = []
        let total = 0
        res.on('data', (chunk: Buffer) => {
          total += chunk.length
          if (total > MAX_CONFIG_LENGTH) {
            req.destroy(new Error('the read limit is reached'))
            return
          }

          chunks.push(chunk)
        })
        res.on('end', () => resolve({body: Buffer.concat(chunks), status: res.statusCode ?? 0, statusText: res.statusMessage ?? ''}))
        res.on('error', reject)
      })
      req.on('timeout', () => req.destroy(new Error(`Get ${JSON.stringify(this.url)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)))
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED') {
          reject(new Error(`Get ${JSON.stringify(this.url)}: dial tcp ${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}: connect: connection refused`))
        } else reject(error)
      })
    })
  }

  private async run(): Promise<void> {
    try {
      await this.extract()
      if (this.failures > 0) {
        this.log.info('http.go:85', 'Successfully read pods from URL')
        this.failures = 0
      }
    } catch (error) {
      const err = (error as Error).message
      if (this.failures < 3) this.log.info('http.go:77', 'Failed to read pods from URL', 'err', err)
      else if (this.failures === 3) this.log.info('http.go:79', 'Failed to read pods from URL. Dropping verbosity of this message to V(4)', 'err', err)
      this.failures++
    }
  }
}
