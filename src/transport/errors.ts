/**
 * Errors of one node. They never abort the other nodes: the fan-out records them per node (status
 * `unreachable` when the node could not be connected to, `failed` afterwards) and the summary shows
 * the message and the hints.
 */

export type NodeErrorKind = 'auth' | 'config' | 'connect' | 'host-key' | 'sudo' | 'timeout'

export class NodeError extends Error {
  readonly hints: string[]
  readonly kind: NodeErrorKind
  readonly node: string

  constructor(node: string, kind: NodeErrorKind, message: string, hints: string[] = []) {
    super(message)
    this.name = 'NodeError'
    this.node = node
    this.kind = kind
    this.hints = hints
  }
}

/** The host key is unknown, changed or revoked: the connection was refused before authentication. */
export class HostKeyError extends NodeError {
  constructor(node: string, message: string, hints: string[] = []) {
    super(node, 'host-key', message, hints)
    this.name = 'HostKeyError'
  }
}

/** No key, agent identity or method was accepted, or a key needs a passphrase nobody can give. */
export class AuthError extends NodeError {
  constructor(node: string, message: string, hints: string[] = []) {
    super(node, 'auth', message, hints)
    this.name = 'AuthError'
  }
}

/** TCP/SSH connection failed or timed out before the node was usable. */
export class ConnectError extends NodeError {
  constructor(node: string, message: string, hints: string[] = []) {
    super(node, 'connect', message, hints)
    this.name = 'ConnectError'
  }
}

/** `sudo -n` refused because the user's sudo wants a password. */
export class SudoPasswordError extends NodeError {
  constructor(node: string, user: string) {
    super(node, 'sudo', `sudo on ${node} requires a password for ${user}; configure NOPASSWD or connect as root`, [
      `Allow it in sudoers, e.g. \`${user} ALL=(root) NOPASSWD: ALL\`, or set \`User root\` for ${node} in the ssh config or the inventory.`,
    ])
    this.name = 'SudoPasswordError'
  }
}

/** The node's work did not finish in time; the remote commands were stopped. */
export class NodeTimeoutError extends NodeError {
  constructor(node: string, message: string) {
    super(node, 'timeout', message, ['Raise --timeout if the node is just slow.'])
    this.name = 'NodeTimeoutError'
  }
}
