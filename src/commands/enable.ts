import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {nodeFlags, type NodeFlagValues, nodeOptions} from '../flags.js'
import {type ToggleAction, togglePod} from '../ops/enable-disable.js'
import {toggleJson} from '../output/manifests-json.js'
import {nodeWarnings, renderToggleTable} from '../output/manifests.js'
import {colorSupported, makeChalk, Progress} from '../output/progress.js'
import {exitCodeFor} from '../transport/fan-out.js'

export default class Enable extends BaseCommand {
  static args = {
    nodes: Args.string({description: 'Nodes, groups, globs (node*) or all, comma-separated.', required: true}),
    pod: Args.string({description: 'The disabled pod as `ls` shows it (NAME or NAMESPACE/NAME), or its file name.', required: true}),
  }
  static description = `Moves a manifest parked by \`staticpod disable\` back into the manifest directory under its own name (the guide's \`mv /tmp/static-web.yaml /etc/kubelet.d/\`), atomically: copied to a dot-prefixed temp file there, fsynced, renamed. It refuses to overwrite another file of that name. A pod that is already enabled is reported unchanged.

Exit status: 0 when every node succeeded, 1 when any failed (e.g. no such disabled pod), 2 on usage errors.`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %> my-node1 static-web', description: 'Start a disabled static pod again.'},
  ]
  static flags = {
    ...nodeFlags,
    backup: Flags.boolean({allowNo: true, default: true, summary: 'Back up what it would replace (--no-backup: do not).'}),
    'dry-run': Flags.boolean({summary: 'Show what would move; change nothing.'}),
  }
  static summary = 'Bring a disabled static pod back into the manifest directory.'

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Enable)
    await runToggle(this, 'enable', args, flags)
  }
}

/** What `enable` and `disable` share once their arguments are parsed. */
export async function runToggle(
  command: {log(message: string): void},
  action: ToggleAction,
  args: {nodes: string; pod: string},
  flags: NodeFlagValues & {backup: boolean; 'dry-run': boolean},
): Promise<void> {
  const progress = new Progress({})
  const result = await togglePod({
    ...nodeOptions(flags), action, backup: flags.backup, dryRun: flags['dry-run'], onEvent: progress.onEvent, pod: args.pod, spec: args.nodes,
  })
  progress.stop()
  for (const line of nodeWarnings(result.nodes, {chalk: makeChalk(colorSupported(process.stderr))})) process.stderr.write(`${line}\n`)
  if (flags.json) command.log(JSON.stringify(toggleJson(result), null, 2))
  else {
    const table = renderToggleTable(result, {chalk: makeChalk(colorSupported(process.stdout))})
    if (table) command.log(table)
  }

  progress.summary(result.nodes)
  process.exitCode = exitCodeFor(result.nodes)
}
