import {expect} from 'chai'
import {
  chmodSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import http from 'node:http'
import {type AddressInfo, createServer as createTcpServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ApiClient, ApiError} from '../../../src/cluster/client.js'
import {type ClusterAccess} from '../../../src/cluster/kubeconfig.js'
import {
  getMirrorPod, listMirrorPods, namespaceExists, nodeRegistered, toMirrorPod,
} from '../../../src/cluster/mirror-pods.js'

/** A v1 Pod as the API server returns a mirror pod. */
function apiPod(name: string, node: string, options: {mirror?: boolean} = {}): Record<string, unknown> {
  return {
    metadata: {
      annotations: options.mirror === false ? {} : {'kubernetes.io/config.hash': 'abc', 'kubernetes.io/config.mirror': 'abc', 'kubernetes.io/config.source': 'file'},
      creationTimestamp: '2026-01-01T00:00:00Z',
      name,
      namespace: 'kube-system',
      uid: 'a1b2c3d4-0000-4000-8000-000000000000',
    },
    spec: {nodeName: node},
    status: {
      conditions: [{status: 'True', type: 'Ready'}],
      containerStatuses: [
        {
          name: 'web', ready: true, restartCount: 2, state: {running: {startedAt: '2026-01-01T00:00:01Z'}},
        },
        {
          name: 'side', ready: false, restartCount: 5, state: {waiting: {reason: 'CrashLoopBackOff'}},
        },
      ],
      phase: 'Running',
    },
  }
}

describe('cluster API client', () => {
  let server: http.Server
  let base: string
  const requests: Array<{authorization?: string; url: string}> = []
  let dir: string

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'staticpod-client-'))
    server = http.createServer((req, res) => {
      requests.push({authorization: req.headers.authorization, url: req.url!})
      const url = new URL(req.url!, 'http://x')
      const send = (status: number, body: unknown) => {
        res.writeHead(status, {'Content-Type': 'application/json'})
        res.end(JSON.stringify(body))
      }

      const path = url.pathname.replace(/^\/prefix/, '')
      if (path === '/slow') return setTimeout(() => send(200, {}), 2000)
      if (path === '/api/v1/pods') {
        const selector = url.searchParams.get('fieldSelector')
        return send(200, {items: selector === 'spec.nodeName=node-1' ? [apiPod('web-node-1', 'node-1'), apiPod('daemon-x', 'node-1', {mirror: false})] : []})
      }

      if (path === '/api/v1/namespaces/kube-system/pods/web-node-1') return send(200, apiPod('web-node-1', 'node-1'))
      if (path === '/api/v1/namespaces/kube-system/pods/plain') return send(200, apiPod('plain', 'node-1', {mirror: false}))
      if (path === '/api/v1/namespaces/kube-system' || path === '/api/v1/nodes/node-1') return send(200, {})
      if (path === '/denied') return send(403, {kind: 'Status', message: 'pods is forbidden: User "x" cannot list'})
      if (path === '/unauthorized') return send(401, {kind: 'Status', message: 'Unauthorized'})
      if (path === '/text') {
        res.writeHead(200)
        return res.end('not json')
      }

      return send(404, {kind: 'Status', message: 'not found', reason: 'NotFound'})
    })
    await new Promise<void>(resolve => {
      server.listen(0, '127.0.0.1', resolve)
    })
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  after(() => {
    server.closeAllConnections()
    server.close()
    rmSync(dir, {force: true, recursive: true})
  })

  const access = (extra: Partial<ClusterAccess> = {}): ClusterAccess => ({
    cluster: 'c', context: 'c', insecureSkipTlsVerify: false, server: base, sources: [], user: 'u', ...extra,
  })

  it('sends the bearer token and keeps the server URL\'s path prefix', async () => {
    const client = new ApiClient(access({server: `${base}/prefix`, token: 't0k'}))
    expect(await namespaceExists(client, 'kube-system')).to.equal(true)
    expect(requests.at(-1)).to.deep.equal({authorization: 'Bearer t0k', url: '/prefix/api/v1/namespaces/kube-system'})
  })

  it('basic auth when the user has a username', async () => {
    await new ApiClient(access({password: 'pw', username: 'admin'})).get('/api/v1/nodes/node-1')
    expect(requests.at(-1)?.authorization).to.equal(`Basic ${Buffer.from('admin:pw').toString('base64')}`)
  })

  it('maps HTTP failures to error kinds with the API\'s message', async () => {
    const client = new ApiClient(access())
    const failures: Array<[string, string, RegExp]> = [
      ['/denied', 'forbidden', /403 pods is forbidden/],
      ['/unauthorized', 'unauthorized', /401 Unauthorized/],
      ['/nothing', 'not-found', /404 not found/],
      ['/text', 'http', /not JSON/],
    ]
    for (const [path, kind, message] of failures) {
      // eslint-disable-next-line no-await-in-loop
      const error = await client.get(path).then(() => {}, (error_: unknown) => error_)
      expect(error, path).to.be.instanceOf(ApiError)
      expect((error as ApiError).kind, path).to.equal(kind)
      expect((error as ApiError).message, path).to.match(message)
    }
  })

  it('times out, and says so', async () => {
    const error = await new ApiClient(access()).get('/slow', {timeoutMs: 200}).catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(ApiError)
    expect(error).to.include({kind: 'timeout'})
  })

  it('an API server that is not there is unreachable', async () => {
    const closed = createTcpServer()
    await new Promise<void>(resolve => {
      closed.listen(0, '127.0.0.1', resolve)
    })
    const {port} = closed.address() as AddressInfo
    await new Promise(resolve => {
      closed.close(resolve)
    })
    const error = await new ApiClient(access({server: `http://127.0.0.1:${port}`})).get('/api').catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(ApiError)
    expect(error).to.include({kind: 'unreachable'})
    expect((error as Error).message).to.match(/connection refused/)
  })

  it('runs an exec credential plugin once and uses its token', async () => {
    const plugin = join(dir, 'plugin.sh')
    const counter = join(dir, 'runs')
    const credential = '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-\'"$1-$MY_ENV"\'"}}'
    writeFileSync(plugin, `#!/bin/sh\necho run >> ${counter}\necho '${credential}'\n`)
    chmodSync(plugin, 0o755)
    const client = new ApiClient(access({
      exec: {
        args: ['plugin'], command: './plugin.sh', dir, env: {MY_ENV: 'env'},
      },
    }))
    await client.get('/api/v1/nodes/node-1')
    await client.get('/api/v1/nodes/node-1')
    expect(requests.at(-1)?.authorization).to.equal('Bearer from-plugin-env')
    const {readFileSync} = await import('node:fs')
    expect(readFileSync(counter, 'utf8')).to.equal('run\n')
  })

  it('a failing exec plugin is an unauthorized error naming it', async () => {
    const client = new ApiClient(access({
      exec: {
        args: ['-c', 'echo no credentials >&2; exit 1'], command: 'sh', dir, env: {},
      },
    }))
    const error = await client.get('/api').catch((error_: unknown) => error_)
    expect(error).to.include({kind: 'unauthorized'})
    expect((error as Error).message).to.match(/exec plugin `sh` failed: no credentials/)
  })

  describe('mirror pods', () => {
    it('lists the mirror pods of one node in one request, skipping the pods that are not mirrors', async () => {
      const before = requests.length
      const pods = await listMirrorPods(new ApiClient(access()), 'node-1')
      expect(requests.length - before).to.equal(1)
      expect(requests.at(-1)?.url).to.equal('/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1')
      expect(pods.map(p => p.name)).to.deep.equal(['web-node-1'])
    })

    it('gets one mirror pod; undefined when it does not exist or is not a mirror pod', async () => {
      const client = new ApiClient(access())
      expect(await getMirrorPod(client, 'kube-system', 'web-node-1')).to.include({configMirror: 'abc', name: 'web-node-1'})
      expect(await getMirrorPod(client, 'kube-system', 'absent')).to.equal(undefined)
      expect(await getMirrorPod(client, 'kube-system', 'plain')).to.equal(undefined)
    })

    it('namespaces and nodes that do not exist', async () => {
      const client = new ApiClient(access())
      expect(await namespaceExists(client, 'nope')).to.equal(false)
      expect(await nodeRegistered(client, 'node-1')).to.equal(true)
      expect(await nodeRegistered(client, 'node-2')).to.equal(false)
    })

    it('reads phase, readiness, hashes and container states', () => {
      expect(toMirrorPod(apiPod('web-node-1', 'node-1') as never)).to.deep.equal({
        configHash: 'abc',
        configMirror: 'abc',
        containers: [
          {
            name: 'web', ready: true, restartCount: 2, startedAt: '2026-01-01T00:00:01Z', state: 'running',
          },
          {
            name: 'side', ready: false, reason: 'CrashLoopBackOff', restartCount: 5, state: 'waiting',
          },
        ],
        created: '2026-01-01T00:00:00Z',
        name: 'web-node-1',
        namespace: 'kube-system',
        nodeName: 'node-1',
        phase: 'Running',
        ready: true,
        uid: 'a1b2c3d4-0000-4000-8000-000000000000',
      })
    })
  })
})
