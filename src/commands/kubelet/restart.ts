import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {healthzTimeoutFlag, nodeFlags, nodeOptions} from '../../flags.js'
import {restartKubelets, sequencedExitCode} from '../../ops/kubelet-restart.js'
import {confirmKubelet} from '../../output/kubelet-confirm.js'
import {kubeletRestartJson, renderRestart} from '../../output/kubelet.js'
import {colorSupported, makeChalk, Progress} from '../../output/progress.js'

export default class KubeletRestart extends BaseCommand {
  static args = {
    nodes: Args.string({description: 'Nodes, groups, globs (node*) or all, comma-separated.', required: true}),
  }
  static description = `On each node: \`systemctl daemon-reload\` when systemd says the kubelet's unit or a drop-in changed on disk (NeedDaemonReload), or always with --daemon-reload; \`systemctl restart kubelet\`; then wait until the kubelet's healthz (http://<healthzBindAddress>:<healthzPort>/healthz, read from its configuration) answers ok, polling every 500 ms as kubeadm does, for at most --timeout. With healthzPort 0, waits for \`systemctl is-active kubelet\` instead.

Nodes go one at a time and the command stops at the first node whose kubelet does not come back (the others are left untouched and reported as skipped); --parallel N restarts N at a time. A kubelet that does not come back is reported with its last journal lines.

Needs --yes when standard input is not a terminal.

Exit status: 0 when every kubelet came back, 1 when one did not (or a node could not be reached), 2 on usage errors.`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %> my-node1', description: 'Restart one kubelet and wait until it is healthy.'},
    {command: '<%= config.bin %> <%= command.id %> worker* --parallel 3 --timeout 90s --yes', description: 'Three at a time, from a script.'},
  ]
  static flags = {
    ...nodeFlags,
    'daemon-reload': Flags.boolean({summary: 'Always run systemctl daemon-reload first (default: only when a unit file changed on disk).'}),
    parallel: Flags.integer({
      default: 1,
      helpGroup: 'NODE',
      helpValue: 'N',
      min: 1,
      summary: 'Kubelets to restart at once; the command stops after a round with a failure.',
    }),
    timeout: healthzTimeoutFlag('How long to wait for each kubelet\'s healthz to answer ok.'),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (needed when standard input is not a terminal).'}),
  }
  static summary = 'Restart the kubelet and wait until it is healthy.'

  async run(): Promise<void> {
    const {args, flags} = await this.parse(KubeletRestart)
    if (!flags.yes) await confirmKubelet(`Restart the kubelet on ${args.nodes}?`, {dryRunHint: false})
    const progress = new Progress({})
    const result = await restartKubelets({
      ...nodeOptions({...flags, timeout: undefined}),
      daemonReload: flags['daemon-reload'],
      onEvent: progress.onEvent,
      spec: args.nodes,
      waitMs: flags.timeout,
    })
    progress.stop()
    const errChalk = makeChalk(colorSupported(process.stderr))
    for (const node of result.nodes) for (const w of node.warnings) process.stderr.write(`${errChalk.yellow('Warning:')} ${node.node}: ${w}\n`)
    if (flags.json) this.log(JSON.stringify(kubeletRestartJson(result), null, 2))
    else {
      const text = renderRestart(result, {chalk: makeChalk(colorSupported(process.stdout))})
      if (text) this.log(text)
    }

    // Skipped nodes count in "N of M nodes failed" but are not failures of their own (listed above).
    progress.summary(result.nodes.map(n => (n.status === 'skipped' ? {...n, error: undefined, status: 'unchanged' as const} : {...n, status: n.status})))
    process.exitCode = sequencedExitCode(result.nodes)
  }
}
