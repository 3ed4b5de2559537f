import {Args, Flags} from '@oclif/core'
import {text as readStream} from 'node:stream/consumers'

import {BaseCommand} from '../cli/base-command.js'
import {UserError} from '../errors.js'
import {clusterFlags, nodeFlags, nodeOptions} from '../flags.js'
import {addManifests} from '../ops/add.js'
import {sequencedExitCode} from '../ops/kubelet-restart.js'
import {renderDiffs} from '../output/diff.js'
import {addJson} from '../output/manifests-json.js'
import {nodeWarnings, renderAddTable, waitNotes} from '../output/manifests.js'
import {colorSupported, makeChalk, Progress} from '../output/progress.js'

export default class Add extends BaseCommand {
  // Positional: the order is the command line's.
  /* eslint-disable perfectionist/sort-objects */
  static args = {
    nodes: Args.string({description: 'Nodes, groups, globs (node*) or all, comma-separated.', required: true}),
    manifest: Args.string({description: 'Pod manifest files (*.yaml, *.yml, *.json), or - for standard input.', required: true}),
  }
  /* eslint-enable perfectionist/sort-objects */
  static description = `Every manifest is validated first, with the checks of \`staticpod validate\`: if one is invalid, no node is touched. Then, on each node, staticpod finds the manifest directory (the inventory's manifestDir, else the kubelet's staticPodPath or --pod-manifest-path from its config and flags, else the k3s/RKE2 default, else /etc/kubernetes/manifests), and installs each manifest there:

- under its own file name, unless a file on the node already defines the same pod: that file is replaced in place, and any other file defining the pod is removed (never two files for one pod);
- atomically: written to a dot-prefixed temp file in the directory (the kubelet ignores dot files), checked against its sha256, fsynced, renamed over the target; mode 0600 like kubeadm's;
- with a backup of the file it replaces in /var/lib/staticpod/backups/<UTC time>/ (outside the manifest directory, so the kubelet never runs it), unless --no-backup.

A node whose file already has the same sha256 is reported unchanged. --dry-run prints a unified diff per node and changes nothing (and waits for nothing).

--wait: after writing, each node waits until the kubelet runs what was written, as kubeadm does during upgrades: the mirror pod <pod>-<node> gets a kubernetes.io/config.hash other than the one it had before the write (a new pod: any), and all its containers run. Polled every 500 ms through the API server (the kubeconfig: --kubeconfig, the inventory's kubeconfig, KUBECONFIG, ~/.kube/config; --context). With no kubeconfig, an API server that does not answer, or a node it does not know, the node's own runtime is asked instead (crictl, or docker), every second: the containers of <pod>-<node> whose io.kubernetes.pod.uid (the config hash) is new must run. A file rewritten with the same content, or only with other comments or formatting, keeps its hash: then the pod only has to run. The report says, per node and pod, how long it took, how it was seen, and the last state.

--timeout is, with --wait, how long each node may take to run the new pod (default 5m, kubeadm's); connecting, writing and a rollback get 2m more. Without --wait it is the time limit per node, as for every command.

--rolling: one node at a time, stopping at the first that fails (the others are not touched, and reported as skipped). --rollback-on-failure: a node whose wait fails gets back what the write replaced (the content its backup holds) or loses the file it did not have, through the same atomic write; the failed file is kept in a backup.

Exit status: 0 when every node succeeded, 1 when a manifest is invalid (nothing was changed), a node failed or its wait failed or timed out (the others still ran unless --rolling; each failure is named), 2 on usage errors.`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %> my-node1 static-web.yaml', description: 'The static pod guide\'s walkthrough, in one command.'},
    {command: '<%= config.bin %> <%= command.id %> worker* static-web.yaml --dry-run', description: 'Show what would change on every worker.'},
    {
      command: '<%= config.bin %> <%= command.id %> control-plane kube-apiserver.yaml --wait --rolling --rollback-on-failure --timeout 5m',
      description: 'One control-plane node at a time, as kubeadm upgrades them: wait for the new pod, put the old file back and stop if it does not run.',
    },
    {command: 'kustomize build . | <%= config.bin %> <%= command.id %> all - ', description: 'A pod from standard input, named <pod>.yaml on the nodes.'},
  ]
  static flags = {
    ...nodeFlags,
    ...clusterFlags,
    backup: Flags.boolean({allowNo: true, default: true, summary: 'Back up replaced files to /var/lib/staticpod/backups/<UTC time>/ on the node (--no-backup: do not).'}),
    'dry-run': Flags.boolean({summary: 'Show a unified diff per node; change nothing.'}),
    'rollback-on-failure': Flags.boolean({dependsOn: ['wait'], summary: 'With --wait: a node whose wait fails gets its previous file back.'}),
    rolling: Flags.boolean({summary: 'One node at a time; stop at the first node that fails (the rest are skipped).'}),
    timeout: {
      ...nodeFlags.timeout,
      summary: 'With --wait: how long each node may take to run the new pod (connecting and writing get 2m more). Else: time limit per node, connecting included.',
    },
    wait: Flags.boolean({summary: 'Wait on each node until the kubelet runs the new pod (its mirror pod\'s config hash changed, its containers run).'}),
  }
  static strict = false
  static summary = 'Validate static pod manifests and install them on nodes.'

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Add)
    const [spec, ...manifests] = argv as string[]
    if (!spec || manifests.length === 0) throw new UserError('add needs NODES and at least one MANIFEST', {hints: ['staticpod add my-node1 static-web.yaml']})
    const progress = new Progress({})
    const result = await addManifests({
      ...nodeOptions(flags),
      backup: flags.backup,
      context: flags.context,
      dryRun: flags['dry-run'],
      kubeconfig: flags.kubeconfig,
      manifests,
      onEvent: progress.onEvent,
      readStdin: async () => Buffer.from(await readStream(process.stdin)),
      rollbackOnFailure: flags['rollback-on-failure'],
      rolling: flags.rolling,
      spec,
      waitMs: flags.wait ? flags.timeout : undefined,
    })
    const out = makeChalk(colorSupported(process.stdout))
    const err = makeChalk(colorSupported(process.stderr))
    if ('invalid' in result) {
      progress.stop()
      if (flags.json) {
        const {renderValidateJson} = await import('../output/validate-json.js')
        this.log(renderValidateJson(result.invalid).trimEnd())
      } else {
        const {renderValidateText} = await import('../output/validate-text.js')
        process.stderr.write(renderValidateText(result.invalid, {color: colorSupported(process.stderr) && makeChalk(true), quiet: true}))
      }

      process.stderr.write(`${err.red('refused')}: ${result.invalid.summary.invalid + result.invalid.summary.errors === 1 ? 'a manifest is' : 'manifests are'} invalid; no node was touched\n`)
      process.exitCode = 1
      return
    }

    progress.stop()
    for (const line of [...nodeWarnings(result.nodes, {chalk: err}), ...waitNotes(result.nodes, {chalk: err})]) process.stderr.write(`${line}\n`)
    if (flags.json) {
      this.log(JSON.stringify(addJson(result), null, 2))
    } else {
      if (result.dryRun) {
        const diffs = renderDiffs(result.nodes.filter(node => node.error === undefined).map(node => ({diffs: node.files.flatMap(file => file.diffs ?? []), node: node.node})), {chalk: out})
        if (diffs) this.log(diffs)
      }

      const table = renderAddTable(result, {chalk: out})
      if (table) this.log(table)
    }

    // Skipped nodes (--rolling) count in "N of M nodes failed" but are not failures of their own.
    progress.summary(result.nodes.map(n => (n.status === 'skipped' ? {...n, error: undefined, status: 'unchanged' as const} : {...n, status: n.status})))
    process.exitCode = sequencedExitCode(result.nodes)
  }
}
