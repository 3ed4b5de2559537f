/**
 * The containers on a node, from its own runtime CLI, in one round trip: `crictl ps -a -o json`
 * when crictl is there (and works), else `docker ps` (dockershim / cri-dockerd nodes). As root:
 * the runtime's socket is root's.
 */
import type {NodeExec} from '../transport/node.js'

import {RemoteCommandError, UserError} from '../errors.js'
import {
  CRICTL_PS_ARGV, DOCKER_PS_ARGV, parseCrictlPs, parseDockerPs, type RuntimeContainer,
} from '../runtime/containers.js'

export type RuntimeName = 'crictl' | 'docker'

/** Neither crictl nor docker on the node. */
export class NoContainerRuntimeError extends UserError {
  readonly node: string

  constructor(node: string) {
    super(`${node}: neither crictl nor docker is on the PATH of root (sudo's secure_path, or the SSH session's)`, {
      exitCode: 1,
      hints: ['Install crictl (cri-tools) on the node, or put it where root finds it, e.g. /usr/local/bin.'],
    })
    this.name = 'NoContainerRuntimeError'
    this.node = node
  }
}

/**
 * Arguments: docker's argv. Prints `staticpod-runtime crictl|docker|none`, then what the runtime
 * printed. A crictl that fails (no endpoint on a docker node) gives way to docker when docker is
 * there, else its failure is the script's. (crictl's argv is plain words: it is part of the script.)
 */
export const LIST_SCRIPT = `if command -v crictl >/dev/null 2>&1; then
  out=$(${CRICTL_PS_ARGV.join(' ')}) && { printf 'staticpod-runtime crictl\\n%s\\n' "$out"; exit 0; }
  st=$?
  command -v docker >/dev/null 2>&1 || exit "$st"
fi
if command -v docker >/dev/null 2>&1; then
  echo 'staticpod-runtime docker'
  exec "$@"
fi
echo 'staticpod-runtime none'
`

/** The argv that lists the node's containers. */
export function listArgv(): string[] {
  return ['sh', '-c', LIST_SCRIPT, 'staticpod-containers', ...DOCKER_PS_ARGV]
}

/** Parse what LIST_SCRIPT printed; undefined runtime: there is none. */
export function parseListOutput(stdout: string): undefined | {containers: RuntimeContainer[]; runtime: RuntimeName} {
  const newline = stdout.indexOf('\n')
  const head = newline === -1 ? stdout : stdout.slice(0, newline)
  const rest = newline === -1 ? '' : stdout.slice(newline + 1)
  switch (head) {
  case 'staticpod-runtime crictl': {
    return {containers: parseCrictlPs(rest), runtime: 'crictl'}
  }

  case 'staticpod-runtime docker': {
    return {containers: parseDockerPs(rest), runtime: 'docker'}
  }

  case 'staticpod-runtime none': {
    return undefined
  }

  default: {
    throw new Error(`unexpected output from the node's container listing: ${JSON.stringify(head.slice(0, 80))}`)
  }
  }
}

/**
 * Every container of the node (all states), and which CLI said so. Throws NoContainerRuntimeError
 * when there is neither crictl nor docker, RemoteCommandError when the runtime CLI fails.
 */
export async function listContainers(node: NodeExec, options: {timeoutMs?: number} = {}): Promise<{containers: RuntimeContainer[]; runtime: RuntimeName}> {
  const argv = listArgv()
  const result = await node.run(argv, {root: true, timeoutMs: options.timeoutMs ?? 30_000})
  if (result.code !== 0) {
    const which = result.stdout.startsWith('staticpod-runtime docker') ? DOCKER_PS_ARGV : CRICTL_PS_ARGV
    throw new RemoteCommandError(node.name, which.join(' '), result)
  }

  const listed = parseListOutput(result.stdout)
  if (!listed) throw new NoContainerRuntimeError(node.name)
  return listed
}
