import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {nodeFlags, nodeOptions} from '../flags.js'
import {listManifests} from '../ops/ls.js'
import {lsJson} from '../output/manifests-json.js'
import {lsWarnings, renderLsTable} from '../output/manifests.js'
import {colorSupported, makeChalk, Progress} from '../output/progress.js'
import {exitCodeFor} from '../transport/fan-out.js'

export default class Ls extends BaseCommand {
  static args = {
    nodes: Args.string({description: 'Nodes, groups, globs (node*) or all, comma-separated. Default: every known node.'}),
  }
  static description = `One round trip per node (two when the kubelet's config is somewhere unusual): staticpod finds the manifest directory as \`add\` does, reads every file in it, and checks each as \`staticpod validate\` would. Every file is a row, since the kubelet loads every file whose name does not start with "."; manifests parked by \`staticpod disable\` are rows too, marked (disabled).

Warnings (on stderr) name the files the kubelet would load by accident (backups, READMEs), pods defined in two files, files it cannot parse or would refuse, and disabled pods.

AGE is by the node's clock; SHA is the start of the file's sha256 (-o wide shows all of it, with size, modification time and directory).

Exit status: 0 when every node answered, 1 when any did not (each is named, with the cause), 2 on usage errors.`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Every known node.'},
    {command: '<%= config.bin %> <%= command.id %> my-node1 -o wide', description: 'One node, with sizes, times, full hashes and directories.'},
    {command: '<%= config.bin %> <%= command.id %> --json | jq -r \'.[] | select(.name == "static-web") | .node\'', description: 'The nodes that have static-web.'},
  ]
  static flags = {
    ...nodeFlags,
    output: Flags.string({
      char: 'o', helpValue: 'wide|json', options: ['wide', 'json'], summary: 'wide: more columns; json: like --json.',
    }),
  }
  static summary = 'List the static pods on the nodes.'

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Ls)
    const progress = new Progress({})
    const result = await listManifests({...nodeOptions(flags), onEvent: progress.onEvent, spec: args.nodes})
    progress.stop()
    const err = makeChalk(colorSupported(process.stderr))
    if (flags.json || flags.output === 'json') {
      this.log(JSON.stringify(lsJson(result), null, 2))
    } else {
      const table = renderLsTable(result, {chalk: makeChalk(colorSupported(process.stdout)), wide: flags.output === 'wide'})
      if (table) this.log(table)
      else if (result.nodes.some(node => node.error === undefined)) process.stderr.write('No static pods found.\n')
    }

    for (const line of lsWarnings(result, {chalk: err})) process.stderr.write(`${line}\n`)
    progress.summary(result.nodes)
    process.exitCode = exitCodeFor(result.nodes)
  }
}
