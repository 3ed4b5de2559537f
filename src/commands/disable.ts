import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {nodeFlags} from '../flags.js'
import {runToggle} from './enable.js'

export default class Disable extends BaseCommand {
  static args = {
    nodes: Args.string({description: 'Nodes, groups, globs (node*) or all, comma-separated.', required: true}),
    pod: Args.string({description: 'The pod as `ls` shows it (NAME or NAMESPACE/NAME), or its file name.', required: true}),
  }
  static description = `The static pod guide's \`mv /etc/kubelet.d/static-web.yaml /tmp\`, made safe and visible: the manifest moves to /var/lib/staticpod/disabled/<file> on the node, outside the manifest directory, so the kubelet stops the pod; \`staticpod ls\` shows it as disabled and \`staticpod enable\` brings it back. The move never leaves a partial file in either directory. A pod that is already disabled is reported unchanged.

Exit status: 0 when every node succeeded, 1 when any failed (e.g. the pod is not on it), 2 on usage errors.`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %> my-node1 static-web', description: 'Stop a static pod, keeping its manifest.'},
  ]
  static flags = {
    ...nodeFlags,
    backup: Flags.boolean({allowNo: true, default: true, summary: 'Back up an older parked copy it replaces (--no-backup: do not).'}),
    'dry-run': Flags.boolean({summary: 'Show what would move; change nothing.'}),
  }
  static summary = 'Stop a static pod by parking its manifest outside the manifest directory.'

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Disable)
    await runToggle(this, 'disable', args, flags)
  }
}
