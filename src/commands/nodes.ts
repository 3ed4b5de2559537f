import {Args} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {nodeFlags, nodeOptions} from '../flags.js'
import {listNodes, type NodeInfo} from '../ops/nodes.js'
import {
  colorSupported, makeChalk, Progress, styleStatus,
} from '../output/progress.js'
import {formatTable} from '../output/table.js'
import {exitCodeFor} from '../transport/fan-out.js'

export default class Nodes extends BaseCommand {
  static args = {
    nodes: Args.string({description: 'Nodes, groups, globs (node*) or all, comma-separated. Default: every known node.'}),
  }
  static description = `The known nodes are those of the inventory (staticpod.yaml); without one, the Host entries of the OpenSSH config. For each node: the address, port and user it is reached with (inventory first, then the ssh config, as \`ssh NAME\` would), the jump host it goes through, and whether it answers: staticpod connects, runs \`uname -n\` and shows the node's hostname and the round trip.

Exit status: 0 when every node answered, 1 when any did not (each is named, with the cause), 2 on usage errors (unknown node or group, bad inventory).`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Every known node.'},
    {command: '<%= config.bin %> <%= command.id %> control-plane,worker*', description: 'A group and a glob.'},
    {command: '<%= config.bin %> <%= command.id %> --json | jq -r \'.[] | select(.reachable | not) | .name\'', description: 'The nodes that do not answer.'},
  ]
  static flags = {...nodeFlags}
  static summary = 'List the nodes and check that each is reachable.'

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Nodes)
    const progress = new Progress({})
    const {nodes} = await listNodes({...nodeOptions(flags), onEvent: progress.onEvent, spec: args.nodes})
    progress.stop()
    this.log(flags.json ? JSON.stringify(nodes, null, 2) : nodesTable(nodes))
    progress.summary(nodes.map(node => ({...node, node: node.name})))
    process.exitCode = exitCodeFor(nodes)
  }
}

function nodesTable(nodes: NodeInfo[]): string {
  const chalk = makeChalk(colorSupported(process.stdout))
  return formatTable(nodes, [
    {header: 'node', value: node => node.name},
    {header: 'address', value: node => node.address},
    {align: 'right', header: 'port', value: node => String(node.port)},
    {header: 'user', value: node => node.user},
    {header: 'via', value: node => node.via ?? '-'},
    {
      header: 'status',
      style: (text, node) => (node.reachable ? chalk.green(text) : styleStatus(chalk, node.status)),
      value: node => (node.reachable ? 'reachable' : node.status),
    },
    {header: 'hostname', value: node => node.hostname ?? '-'},
    {align: 'right', header: 'rtt', value: node => (node.rttMs === undefined ? '-' : `${node.rttMs.toFixed(1)}ms`)},
  ])
}
