import {Args, Flags} from '@oclif/core'
import {createInterface} from 'node:readline'

import {BaseCommand} from '../cli/base-command.js'
import {UserError} from '../errors.js'
import {nodeFlags, nodeOptions} from '../flags.js'
import {removePods} from '../ops/rm.js'
import {rmJson} from '../output/manifests-json.js'
import {nodeWarnings, renderRmTable} from '../output/manifests.js'
import {colorSupported, makeChalk, Progress} from '../output/progress.js'
import {exitCodeFor} from '../transport/fan-out.js'

export default class Rm extends BaseCommand {
  static args = {
    nodes: Args.string({description: 'Nodes, groups, globs (node*) or all, comma-separated.', required: true}),
    pod: Args.string({description: 'Pods by name as `ls` shows it (NAME or NAMESPACE/NAME), or files of the manifest directory by base name.', required: true}),
  }
  static description = `Removes every file of the manifest directory that defines the pod (the kubelet then stops it), and its disabled copy if \`staticpod disable\` parked one. Each file is backed up first to /var/lib/staticpod/backups/<UTC time>/ on the node, unless --no-backup. A file name removes that file only. A pod a node does not have is reported as absent there; that is not a failure.

Names are checked before anything reaches a node: a pod name is a DNS-1123 subdomain, a file name a plain base name (no "/", no "..", no leading ".").

Without --yes, rm asks for confirmation on a terminal, and refuses when standard input is not a terminal. --dry-run shows what would be removed.

Exit status: 0 when every node succeeded, 1 when any failed (the others still ran; each failure is named), 2 on usage errors.`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %> my-node1 static-web', description: 'Remove a pod from one node.'},
    {command: '<%= config.bin %> <%= command.id %> all kube-system/etcd-backup --dry-run', description: 'What would go, on every node.'},
    {command: '<%= config.bin %> <%= command.id %> worker* static-web.yaml.bak --yes', description: 'A stray backup file, from a script.'},
  ]
  static flags = {
    ...nodeFlags,
    backup: Flags.boolean({allowNo: true, default: true, summary: 'Back up removed files to /var/lib/staticpod/backups/<UTC time>/ on the node (--no-backup: do not).'}),
    'dry-run': Flags.boolean({summary: 'Show what would be removed; change nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (needed when standard input is not a terminal).'}),
  }
  static strict = false
  static summary = 'Remove static pods from nodes.'

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Rm)
    const [spec, ...pods] = argv as string[]
    if (!spec || pods.length === 0) throw new UserError('rm needs NODES and at least one POD', {hints: ['staticpod rm my-node1 static-web']})
    if (!flags.yes && !flags['dry-run']) await confirm(`Remove ${pods.join(', ')} from ${spec}?`)
    const progress = new Progress({})
    const result = await removePods({
      ...nodeOptions(flags), backup: flags.backup, dryRun: flags['dry-run'], onEvent: progress.onEvent, pods, spec,
    })
    progress.stop()
    for (const line of nodeWarnings(result.nodes, {chalk: makeChalk(colorSupported(process.stderr))})) process.stderr.write(`${line}\n`)
    if (flags.json) this.log(JSON.stringify(rmJson(result), null, 2))
    else {
      const table = renderRmTable(result, {chalk: makeChalk(colorSupported(process.stdout))})
      if (table) this.log(table)
    }

    progress.summary(result.nodes)
    process.exitCode = exitCodeFor(result.nodes)
  }
}

/** Ask on the terminal; a UserError when there is none to ask on, or the answer is not yes. */
export async function confirm(question: string): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new UserError('standard input is not a terminal, so rm cannot ask for confirmation', {
      hints: ['Pass --yes to remove without asking, or --dry-run to see what would be removed.'],
    })
  }

  const rl = createInterface({input: process.stdin, output: process.stderr})
  const answer = await new Promise<string>(resolve => {
    rl.question(`${question} [y/N] `, resolve)
  }).finally(() => rl.close())
  if (!/^y(es)?$/i.test(answer.trim())) throw new UserError('not removed', {exitCode: 1})
}
