import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {UserError} from '../../errors.js'
import {healthzTimeoutFlag, nodeFlags, nodeOptions} from '../../flags.js'
import {kubeletFlags, parseEdit} from '../../ops/kubelet-flags.js'
import {sequencedExitCode} from '../../ops/kubelet-restart.js'
import {confirmKubelet} from '../../output/kubelet-confirm.js'
import {
  kubeletFlagsJson, renderEdit, renderSettings,
} from '../../output/kubelet.js'
import {colorSupported, makeChalk, Progress} from '../../output/progress.js'

export default class KubeletFlags extends BaseCommand {
  static args = {
    nodes: Args.string({description: 'Nodes, groups, globs (node*) or all, comma-separated.', required: true}),
  }
  static description = `Without --set/--unset: each node's effective kubelet settings and where each one comes from — the unit's ExecStart=, its drop-ins in order, the environment files they read (KUBELET_KUBEADM_ARGS, KUBELET_EXTRA_ARGS, Fedora's KUBELET_ARGS, ...), the --config file and the --config-dir drop-ins — with the kubelet's precedence: defaults < --config file < --config-dir drop-ins < command-line flags (the last occurrence wins). Values that lost are shown indented under the winner. The files are read over SSH in one round trip; systemd is asked (systemctl cat) when it answers, else the unit files are read.

Keys are flag names (pod-manifest-path, manifest-url, manifest-url-header, ...) or KubeletConfiguration fields (staticPodPath, ...), either way. A --set is written where it belongs on the node: in the KubeletConfiguration file when the node has one (those flags are deprecated; a flag for the same setting is taken out of the environment files, since it would win), else in the layout's environment file (Fedora /etc/kubernetes/kubelet KUBELET_ARGS; kubeadm /etc/default/kubelet or /etc/sysconfig/kubelet KUBELET_EXTRA_ARGS). Comments, order and quoting of everything else are kept. Each file is written atomically, its previous content saved first to /var/lib/staticpod/backups/<UTC time>/<path> on the node.

The kubelet reads these files only when it starts: --restart restarts it one node at a time (--parallel N for more), waits until its healthz answers ok (--timeout), and stops at the first node that fails. A node whose kubelet does not come back gets its previous files back and is restarted again; it is reported as rolled back, with the kubelet's last journal lines, and the command exits 1.

--dry-run shows the unified diff of every file that would change. Changing anything needs --yes when standard input is not a terminal.

Exit status: 0 when every node succeeded, 1 when any failed or was rolled back, 2 on usage errors (unknown key, bad value).`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %> my-node1', description: 'Where each setting of the kubelet comes from.'},
    {command: '<%= config.bin %> <%= command.id %> my-node1 --set pod-manifest-path=/etc/kubelet.d/ --dry-run', description: 'The diff of pointing the kubelet at /etc/kubelet.d/.'},
    {command: '<%= config.bin %> <%= command.id %> my-node1 --set pod-manifest-path=/etc/kubelet.d/ --restart --yes', description: 'Do it, restart, roll back if the kubelet does not come back.'},
    {command: '<%= config.bin %> <%= command.id %> all --unset manifest-url --json', description: 'Remove a setting everywhere, as JSON.'},
  ]
  static flags = {
    ...nodeFlags,
    'dry-run': Flags.boolean({summary: 'Show the diff of what would change; change nothing.'}),
    parallel: Flags.integer({
      helpGroup: 'NODE',
      helpValue: 'N',
      min: 1,
      summary: 'Nodes to work on at once. Default: 1 with --restart (stop at the first failure), else 32.',
    }),
    restart: Flags.boolean({summary: 'Restart the kubelet after the change, wait until it is healthy, roll back when it is not.'}),
    set: Flags.string({helpValue: 'KEY=VALUE', multiple: true, summary: 'Set a flag or config field (repeatable).'}),
    timeout: healthzTimeoutFlag('With --restart: how long to wait for the kubelet\'s healthz to answer ok before rolling back.'),
    unset: Flags.string({helpValue: 'KEY', multiple: true, summary: 'Remove a flag or config field, back to its default (repeatable).'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (needed when standard input is not a terminal).'}),
  }
  static summary = 'Show the kubelet\'s effective flags and config, and change them.'

  async run(): Promise<void> {
    const {args, flags} = await this.parse(KubeletFlags)
    const set = flags.set ?? []
    const unset = flags.unset ?? []
    const editing = set.length > 0 || unset.length > 0
    const {pairs} = parseEdit(set, unset)
    if (flags.restart && !editing) throw new UserError('--restart goes with --set or --unset', {hints: ['To restart without a change: staticpod kubelet restart NODES']})
    if (editing && !flags['dry-run'] && !flags.yes) {
      const what = [...set.map(s => `set ${s}`), ...unset.map(u => `unset ${u}`)].join(', ')
      await confirmKubelet(`On ${args.nodes}: ${what}${flags.restart ? ', then restart the kubelet' : ''}?`, {dryRunHint: true})
    }

    const progress = new Progress({})
    const result = await kubeletFlags({
      ...nodeOptions({...flags, parallel: flags.parallel ?? (flags.restart ? 1 : 32), timeout: undefined}),
      dryRun: flags['dry-run'],
      onEvent: progress.onEvent,
      restart: flags.restart,
      set: pairs,
      spec: args.nodes,
      unset,
      waitMs: flags.timeout,
    })
    progress.stop()
    const errChalk = makeChalk(colorSupported(process.stderr))
    for (const node of result.nodes) for (const w of node.warnings) process.stderr.write(`${errChalk.yellow('Warning:')} ${node.node}: ${w}\n`)
    if (flags.json) this.log(JSON.stringify(kubeletFlagsJson(result), null, 2))
    else {
      const chalk = makeChalk(colorSupported(process.stdout))
      const text = editing ? renderEdit(result, {chalk}) : renderSettings(result, {chalk})
      if (text) this.log(text)
    }

    for (const node of result.nodes.filter(n => n.status === 'skipped')) process.stderr.write(`${node.node}: skipped (an earlier node failed; nothing was changed there)\n`)
    // Skipped nodes count in "N of M nodes failed" but are not failures of their own (listed above).
    progress.summary(result.nodes.map(n => (n.status === 'skipped' ? {...n, error: undefined, status: 'unchanged' as const} : {...n, status: n.status})))
    process.exitCode = sequencedExitCode(result.nodes)
  }
}
