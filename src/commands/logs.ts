import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {nodeFlags, nodeOptions, parseDuration} from '../flags.js'
import {
  followKubeletLines, followLogs, type LogsOptions, readKubeletLines, readLogs,
} from '../ops/logs.js'
import {parsePodArg} from '../ops/pod-ref.js'
import {
  formatKubeletLine, formatLogLine, kubeletJson, kubeletNotes, logNotes, logsJson,
} from '../output/logs.js'
import {colorSupported, formatSummary, makeChalk} from '../output/progress.js'
import {exitCodeFor, type NodeOutcome} from '../transport/fan-out.js'

export default class Logs extends BaseCommand {
  // Positional: the order is the command line's.

  static args = {
    nodes: Args.string({description: 'Nodes, groups, globs (node*) or all, comma-separated.', required: true}),
    pod: Args.string({description: 'The static pod: NAME or NAMESPACE/NAME as `staticpod ls` shows it, or its manifest file\'s name.', required: true}),
  }
  static description = `Straight from each node over SSH, so it works when the API server is down: the container's log through the node's own \`crictl logs\` (\`docker logs\` on dockershim / cri-dockerd nodes), stdout and stderr in the order the container wrote them, as \`kubectl logs\` shows them. The container is found by the kubelet's labels: pod <pod>-<node> (the mirror pod's name, with the name the kubelet registers the node under) in the namespace of the pod's manifest. A pod with several containers needs -c. A pod whose file is gone is still found by its containers.

With several nodes, each line starts with [node], like \`kubectl logs --prefix\`; without -f the nodes come one after the other.

--previous: the instance that ran before the current one (the crashed one; the restart count must be at least 1).

-f follows every node until the containers stop or you press Ctrl-C; Ctrl-C ends the \`crictl logs -f\` on each node too (closing the connection stops the remote command) and exits 0 when every node could be followed.

--kubelet: the kubelet's own lines about the pod and its manifest file, from \`journalctl -u kubelet\` (k3s: its units), or the kubelet's log file where the journal has nothing (/var/log/kubelet.log, /var/log/kubernetes/kubelet.log, RKE2's and k3s' agent/logs/kubelet.log): why it did not load the file ("Could not process manifest file" and the reason) is said on stderr. --since applies to the journal, not to log files.

Exit status: 0 when every node answered, 1 when any failed (no such pod or container, no crictl or docker, unreachable: each is named, the others are still shown), 2 on usage errors.`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %> my-node1 static-web', description: 'The log of static-web\'s only container.'},
    {command: '<%= config.bin %> <%= command.id %> control-plane kube-system/etcd -f --tail 20', description: 'Follow etcd on every control-plane node, each line prefixed by its node.'},
    {command: '<%= config.bin %> <%= command.id %> my-node1 kube-apiserver --previous', description: 'Why did it crash? The log of the instance before the restart.'},
    {command: '<%= config.bin %> <%= command.id %> my-node1 static-web.yaml --kubelet', description: 'What the kubelet said about the file (why it did not run it).'},
  ]
  static flags = {
    ...nodeFlags,
    container: Flags.string({char: 'c', summary: 'The container, when the pod has several.'}),
    follow: Flags.boolean({char: 'f', exclusive: ['json', 'previous'], summary: 'Keep printing new lines until the containers stop or Ctrl-C.'}),
    kubelet: Flags.boolean({exclusive: ['container', 'previous', 'timestamps'], summary: 'The kubelet\'s lines about the pod and its file, instead of the container\'s log.'}),
    prefix: Flags.boolean({allowNo: true, summary: 'Start each line with [node]. Default: when there are several nodes.'}),
    previous: Flags.boolean({char: 'p', summary: 'The previous (crashed) instance of the container.'}),
    since: Flags.string({helpValue: 'DURATION', summary: 'Only lines newer than this (5s, 2m, 1h), by the node\'s clock.'}),
    tail: Flags.integer({helpValue: 'N', min: 0, summary: 'The last N lines of each node (with -f: then new ones). Default: all (--kubelet -f: 10).'}),
    timestamps: Flags.boolean({char: 't', summary: 'Start each line with the runtime\'s timestamp (RFC 3339).'}),
  }
  static summary = 'Show a static pod\'s container log, or the kubelet\'s lines about it, from the nodes.'
  /** Set while following: Ctrl-C ends the follow instead of the process. */
  private following?: AbortController

  protected interrupt(): void {
    if (this.following) this.following.abort()
    else super.interrupt()
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Logs)
    parsePodArg(args.pod)
    const options: LogsOptions = {
      ...nodeOptions(flags),
      container: flags.container,
      pod: args.pod,
      previous: flags.previous,
      sinceMs: flags.since === undefined ? undefined : parseDuration(flags.since),
      spec: args.nodes,
      tail: flags.tail,
    }
    let outcomes: ReadonlyArray<NodeOutcome<unknown>>
    if (flags.follow) outcomes = await this.follow(options, flags.kubelet, {prefix: flags.prefix, timestamps: flags.timestamps})
    else if (flags.kubelet) {
      outcomes = this.print((await readKubeletLines(options)).nodes, flags, {
        json: kubeletJson, lines: (node, result, prefix) => result.lines.map(line => formatKubeletLine(node, line, {prefix})), notes: kubeletNotes,
      })
    } else {
      outcomes = this.print((await readLogs(options)).nodes, flags, {
        json: logsJson, lines: (node, result, prefix) => result.lines.map(line => formatLogLine(node, line, {prefix, timestamps: flags.timestamps})), notes: logNotes,
      })
    }

    const summary = formatSummary(outcomes, {chalk: makeChalk(colorSupported(process.stderr))})
    if (summary) process.stderr.write(`${summary}\n`)
    process.exitCode = exitCodeFor(outcomes)
  }

  /** -f: every node's lines as they come, until the containers stop or Ctrl-C (or SIGTERM). */
  private async follow(options: LogsOptions, kubelet: boolean, format: {prefix?: boolean; timestamps: boolean}): Promise<ReadonlyArray<NodeOutcome<unknown>>> {
    const controller = new AbortController()
    this.following = controller
    const stop = (): void => controller.abort()
    process.once('SIGTERM', stop)
    let prefix = format.prefix ?? false
    const onNodes = (nodes: string[]): void => {
      prefix = format.prefix ?? nodes.length > 1
    }

    // `| head`: the reader is gone, so is the point of following.
    process.stdout.on('error', stop)
    const write = (text: string): void => {
      if (!controller.signal.aborted) process.stdout.write(`${text}\n`)
    }

    // A node that cannot be followed says so at once, not only in the summary after Ctrl-C.
    options = {
      ...options,
      onEvent(event) {
        if (event.type === 'done' && event.outcome.error && !controller.signal.aborted) process.stderr.write(`${event.outcome.node}: ${event.outcome.status}: ${event.outcome.error}\n`)
      },
    }
    try {
      if (kubelet) {
        const {nodes} = await followKubeletLines({
          ...options,
          onLine: (node, line) => write(formatKubeletLine(node, line, {prefix})),
          onNodes,
          onSource(node, source) {
            if (source === undefined) process.stderr.write(`${node}: no kubelet log found (no kubelet entries in the journal, no kubelet log file)\n`)
          },
          signal: controller.signal,
        })
        return nodes
      }

      const {nodes} = await followLogs({
        ...options,
        onLine: (node, line) => write(formatLogLine(node, line, {prefix, timestamps: format.timestamps})),
        onNodes,
        onStopped(node, source) {
          process.stderr.write(`${node}: container ${source.container} of ${source.namespace}/${source.pod} stopped; no more lines from it\n`)
        },
        signal: controller.signal,
      })
      for (const outcome of nodes) {
        for (const warning of outcome.result?.warnings ?? []) process.stderr.write(`${outcome.node}: ${outcome.result!.source.runtime}: ${warning}\n`)
      }

      return nodes
    } finally {
      process.off('SIGTERM', stop)
      this.following = undefined
    }
  }

  /** Every node's lines (one node after the other) or the --json document, and the notes about each on stderr. */
  private print<T>(nodes: ReadonlyArray<NodeOutcome<T>>, flags: {json: boolean; prefix?: boolean}, as: {
    json: (nodes: ReadonlyArray<NodeOutcome<T>>) => unknown
    lines: (node: string, result: T, prefix: boolean) => string[]
    notes: (node: string, result: T) => string[]
  }): ReadonlyArray<NodeOutcome<T>> {
    const prefix = flags.prefix ?? nodes.length > 1
    if (flags.json) this.log(JSON.stringify(as.json(nodes), null, 2))
    for (const {node, result} of nodes) {
      if (result === undefined) continue
      if (!flags.json) for (const line of as.lines(node, result, prefix)) this.log(line)
      for (const note of as.notes(node, result)) process.stderr.write(`${note}\n`)
    }

    return nodes
  }
}
