/**
 * A TCP relay on 127.0.0.1 in front of a node's sshd, for network faults in the middle of a
 * session: once more than `afterBytes` went towards the node, it either cuts both sides (`cut`) or
 * passes nothing more either way while keeping both connections open (`stall`: a link that hangs;
 * the client closing its side still closes the node's).
 */
import {createServer, type Server, Socket} from 'node:net'

export interface TcpRelay {
  /** Closes the listener and every connection. */
  close(): Promise<void>
  /** The fault happened (the byte count was passed). */
  readonly faulted: boolean
  readonly port: number
}

export async function startRelay(target: {address: string; port: number}, fault: {afterBytes: number; mode: 'cut' | 'stall'}): Promise<TcpRelay> {
  let toNode = 0
  let faulted = false
  const sockets: Socket[] = []
  const server: Server = createServer(client => {
    const upstream = new Socket()
    sockets.push(client, upstream)
    upstream.connect(target.port, target.address)
    client.on('data', (chunk: Buffer) => {
      toNode += chunk.length
      if (toNode > fault.afterBytes) faulted = true
      if (!faulted) {
        upstream.write(chunk)
        return
      }

      // cut: both sides go. stall: dropped, but still read, so that the client closing its side is seen and passed on.
      if (fault.mode === 'cut') for (const socket of sockets) socket.destroy()
    })
    upstream.on('data', (chunk: Buffer) => {
      if (!faulted || fault.mode === 'cut') client.write(chunk)
    })
    for (const socket of [client, upstream]) {
      socket.on('error', () => {})
      socket.on('close', () => {
        client.destroy()
        upstream.destroy()
      })
    }
  })
  await new Promise<void>(resolve => {
    server.listen(0, '127.0.0.1', resolve)
  })
  return {
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise(resolve => {
        server.close(resolve)
      })
    },
    get faulted() {
      return faulted
    },
    port: (server.address() as {port: number}).port,
  }
}

/**
 * An ssh_config block for `alias` that reaches `node` through the relay, checking the node's own
 * host key (written to its own known_hosts file next to `knownHostsFile`).
 */
export function relayHostBlock(alias: string, relay: TcpRelay, node: {knownHostsLine: string}, paths: {identityFile: string; knownHostsFile: string}): {block: string; knownHosts: string} {
  const [type, key] = node.knownHostsLine.split(' ').slice(1)
  return {
    block: [
      `Host ${alias}`,
      '  HostName 127.0.0.1',
      `  Port ${relay.port}`,
      '  User root',
      `  HostKeyAlias ${alias}`,
      `  IdentityFile ${paths.identityFile}`,
      `  UserKnownHostsFile ${paths.knownHostsFile}`,
      '  StrictHostKeyChecking yes',
      '',
    ].join('\n'),
    knownHosts: `${alias} ${type} ${key}\n`,
  }
}
