/* eslint-disable n/no-process-exit, unicorn/no-process-exit -- a program's entry point */
// The node daemon: plays systemd (for systemctl) and the container runtime (containerd, or dockerd with
// cri-dockerd on a docker node) of one sandbox node. Started once per node boot, inside the node's namespaces, by
// the cluster starter; everything it starts (the kubelet stand-in, containers) is its child, so the node's
// teardown takes it all.
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {Journal} from './journal.js'
import {
  CONTAINERD_SOCKET,
  CRI_DOCKERD_SOCKET,
  DAEMON_PID,
  DOCKER_SOCKET,
  NODE_CONFIG,
  type NodeConfig,
  RUN_DIR,
  SYSTEMD_SOCKET,
} from './paths.js'
import {
  RpcError, type RpcRequest, type RpcResponse, serveRpc,
} from './rpc.js'
import {type ContainerConfig, Runtime, type SandboxConfig} from './runtime.js'
import {type BuiltinUnit, Systemd} from './systemd.js'

const KUBELET_MAIN = fileURLToPath(new URL('kubelet/main.js', import.meta.url))

export const RUNTIME_VERSIONS = {
  containerd: {runtimeName: 'containerd', runtimeVersion: 'v1.7.27'},
  docker: {runtimeName: 'docker', runtimeVersion: '26.1.5'},
} as const

function unitOf(query: URLSearchParams): string {
  const unit = query.get('unit') ?? ''
  return unit.includes('.') ? unit : `${unit}.service`
}

async function main(): Promise<void> {
  const node = JSON.parse(readFileSync(NODE_CONFIG, 'utf8')) as NodeConfig
  mkdirSync(RUN_DIR, {recursive: true})
  writeFileSync(DAEMON_PID, `${process.pid}\n`)
  const journal = new Journal()
  const runtime = new Runtime(node.runtime, node.nodeIp)
  const builtins: BuiltinUnit[]
    = node.runtime === 'docker'
      ? [
        {description: 'Docker Application Container Engine', documentation: ['https://docs.docker.com'], name: 'docker.service'},
        {description: 'CRI Interface for Docker Application Container Engine', documentation: ['https://docs.mirantis.com'], name: 'cri-docker.service'},
      ]
      : [{description: 'containerd container runtime', documentation: ['https://containerd.io'], name: 'containerd.service'}]
  const systemd = new Systemd(journal, builtins, binary =>
    path.basename(binary) === 'kubelet' ? {args: [KUBELET_MAIN], file: process.execPath} : undefined)

  await serveRpc(SYSTEMD_SOCKET, 0o666, async ({method, path: route, query}: RpcRequest): Promise<RpcResponse> => {
    const unit = unitOf(query)
    if (route === '/daemon-reload' && method === 'POST') {
      systemd.daemonReload()
      return {body: {}}
    }

    if (route === '/exists') return {body: {exists: systemd.exists(unit)}}
    if (!systemd.exists(unit)) throw new RpcError(`Unit ${unit} not found.`, 404)
    switch (route) {
    case '/disable': {
      return {body: {messages: systemd.disable(unit)}}
    }

    case '/enable': {
      return {body: {messages: systemd.enable(unit)}}
    }

    case '/restart': {
      await systemd.restart(unit)
      return {body: {}}
    }

    case '/start': {
      await systemd.start(unit)
      return {body: {}}
    }

    case '/status': {
      return {body: systemd.status(unit)}
    }

    case '/stop': {
      await systemd.stop(unit)
      return {body: {}}
    }

    default: {
      throw new RpcError(`no such call ${route}`, 404)
    }
    }
  })

  const runtimeHandler = async ({body, method, path: route}: RpcRequest): Promise<RpcResponse> => {
    const parts = route.split('/').filter(Boolean)
    const [kind, id, action] = parts
    if (route === '/version') return {body: {...RUNTIME_VERSIONS[node.runtime], runtimeApiVersion: 'v1', version: '0.1.0'}}
    if (route === '/state') return {body: {containers: runtime.listContainers(), sandboxes: runtime.listSandboxes()}}
    if (kind === 'sandboxes') {
      if (method === 'POST' && !id) return {body: runtime.runSandbox(body as SandboxConfig)}
      if (method === 'POST' && id && action === 'stop') {
        await runtime.stopSandbox(id)
        return {body: {}}
      }

      if (method === 'DELETE' && id) {
        await runtime.removeSandbox(id)
        return {body: {}}
      }
    }

    if (kind === 'containers') {
      if (method === 'POST' && !id) {
        const {config, sandboxId} = body as {config: ContainerConfig; sandboxId: string}
        return {body: runtime.createContainer(sandboxId, config)}
      }

      if (method === 'POST' && id && action === 'start') {
        runtime.startContainer(id)
        return {body: {}}
      }

      if (method === 'POST' && id && action === 'stop') {
        await runtime.stopContainer(id, (body as undefined | {timeout?: number})?.timeout ?? 10)
        return {body: {}}
      }

      if (method === 'POST' && id && action === 'kill') {
        runtime.signalContainer(id, ((body as undefined | {signal?: NodeJS.Signals})?.signal ?? 'SIGKILL'))
        return {body: {}}
      }

      if (method === 'DELETE' && id) {
        runtime.removeContainer(id)
        return {body: {}}
      }
    }

    throw new RpcError(`no such call ${method} ${route}`, 404)
  }

  const sockets = node.runtime === 'docker' ? [DOCKER_SOCKET, CRI_DOCKERD_SOCKET] : [CONTAINERD_SOCKET]
  for (const socket of sockets) {
    mkdirSync(path.dirname(socket), {recursive: true})
    // eslint-disable-next-line no-await-in-loop
    await serveRpc(socket, 0o660, runtimeHandler)
  }

  const shutdown = () => {
    systemd.killAll()
    runtime.killAll()
    process.exit(0)
  }

  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
  await systemd.boot()
}

try {
  await main()
} catch (error) {
  process.stderr.write(`simd: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
}
