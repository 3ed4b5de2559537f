import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {UserError} from '../errors.js'
import {clusterFlags, nodeFlags, nodeOptions} from '../flags.js'
import {podStatus, statusExitCode} from '../ops/status.js'
import {colorSupported, makeChalk, Progress} from '../output/progress.js'
import {
  renderStatusTable, statusJson, statusNotes, statusReasons,
} from '../output/status.js'

export default class Status extends BaseCommand {
  static args = {
    nodes: Args.string({description: 'Nodes, groups, globs (node*) or all, comma-separated.', required: true}),
    pod: Args.string({description: 'Static pods by name, NAMESPACE/NAME or file name (default: every one).'}),
  }
  static description = `Per node and static pod, three places side by side:

- the FILE in the manifest directory (found as \`add\` finds it): its name, age by the node's clock and sha256; a file the kubelet refuses is marked, with the reason (the checks of \`staticpod validate\`);
- the CONTAINERS in the node's runtime (crictl, or docker on docker nodes): the current version's containers (the pod uid = the kubelet's config hash), their state and restarts (-o wide: images, start times);
- the MIRROR pod <pod>-<node name> in the pod's namespace, from the API server: phase and ready containers (-o wide: its name and kubernetes.io/config.hash). Containers and mirror pod are linked by the containers' io.kubernetes.pod.uid label and the mirror pod's kubernetes.io/config.mirror annotation. The kubeconfig: --kubeconfig, the inventory's kubeconfig, KUBECONFIG (merged like kubectl), ~/.kube/config; --context. Without any, the MIRROR column says "no kubeconfig" and the verdicts do without it.

VERDICT: running; pending (not all containers run yet: image, init containers, a new version starting); crash-looping (a container exited after restarts, or CrashLoopBackOff); file only (the kubelet did not load it: the reason when the file is invalid); mirror missing (containers run but the API server has no mirror pod: the likely cause, e.g. a namespace that does not exist, a node not registered, API object references); orphan (containers or a mirror pod that no file defines); completed / failed (pods that do not restart). Reasons are printed under the table.

Exit status: 0 when every pod is running (or completed), 3 when any is not (like \`systemctl status\`), 1 when a node could not be read or the API server did not answer (each is named), 2 on usage errors.`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %> my-node1', description: 'Every static pod of one node.'},
    {command: '<%= config.bin %> <%= command.id %> control-plane kube-apiserver etcd -o wide', description: 'Two pods on every control-plane node, with images and hashes.'},
    {command: String.raw`<%= config.bin %> <%= command.id %> all --json | jq -r '.[] | select(.verdict != "running") | "\(.node) \(.name) \(.verdict)"'`, description: 'What is not running, for a script.'},
    {command: '<%= config.bin %> <%= command.id %> all >/dev/null || echo "not everything runs"', description: 'Exit status 3 when a pod is not running.'},
  ]
  static flags = {
    ...nodeFlags,
    ...clusterFlags,
    output: Flags.string({
      char: 'o', helpValue: 'wide|json', options: ['wide', 'json'], summary: 'wide: more columns; json: like --json.',
    }),
  }
  static strict = false
  static summary = 'Show whether static pods really run: file, containers and mirror pod side by side.'

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Status)
    const [spec, ...pods] = argv as string[]
    if (!spec) throw new UserError('status needs NODES', {hints: ['staticpod status my-node1 [POD...]']})
    const progress = new Progress({})
    const result = await podStatus({
      ...nodeOptions(flags), context: flags.context, kubeconfig: flags.kubeconfig, onEvent: progress.onEvent, pods, spec,
    })
    progress.stop()
    const err = makeChalk(colorSupported(process.stderr))
    if (flags.json || flags.output === 'json') {
      this.log(JSON.stringify(statusJson(result), null, 2))
    } else {
      const out = makeChalk(colorSupported(process.stdout))
      const table = renderStatusTable(result, {chalk: out, wide: flags.output === 'wide'})
      if (table) this.log(table)
      else if (result.nodes.some(node => node.error === undefined) && pods.length === 0) process.stderr.write('No static pods found.\n')
      const reasons = statusReasons(result, {chalk: out})
      if (reasons.length > 0) this.log(`\n${reasons.join('\n')}`)
    }

    for (const line of statusNotes(result, {chalk: err})) process.stderr.write(`${line}\n`)
    progress.summary(result.nodes)
    process.exitCode = statusExitCode(result)
  }
}
