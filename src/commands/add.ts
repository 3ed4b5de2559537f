import {Args, Flags} from '@oclif/core'
import {text as readStream} from 'node:stream/consumers'

import {BaseCommand} from '../cli/base-command.js'
import {UserError} from '../errors.js'
import {nodeFlags, nodeOptions} from '../flags.js'
import {addManifests} from '../ops/add.js'
import {renderDiffs} from '../output/diff.js'
import {addJson} from '../output/manifests-json.js'
import {nodeWarnings, renderAddTable} from '../output/manifests.js'
import {colorSupported, makeChalk, Progress} from '../output/progress.js'
import {exitCodeFor} from '../transport/fan-out.js'

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

A node whose file already has the same sha256 is reported unchanged. --dry-run prints a unified diff per node and changes nothing.

Exit status: 0 when every node succeeded, 1 when a manifest is invalid (nothing was changed) or a node failed (the others still ran; each failure is named), 2 on usage errors.`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %> my-node1 static-web.yaml', description: 'The static pod guide\'s walkthrough, in one command.'},
    {command: '<%= config.bin %> <%= command.id %> worker* static-web.yaml --dry-run', description: 'Show what would change on every worker.'},
    {command: 'kustomize build . | <%= config.bin %> <%= command.id %> all - ', description: 'A pod from standard input, named <pod>.yaml on the nodes.'},
  ]
  static flags = {
    ...nodeFlags,
    backup: Flags.boolean({allowNo: true, default: true, summary: 'Back up replaced files to /var/lib/staticpod/backups/<UTC time>/ on the node (--no-backup: do not).'}),
    'dry-run': Flags.boolean({summary: 'Show a unified diff per node; change nothing.'}),
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
      dryRun: flags['dry-run'],
      manifests,
      onEvent: progress.onEvent,
      readStdin: async () => Buffer.from(await readStream(process.stdin)),
      spec,
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
    for (const line of nodeWarnings(result.nodes, {chalk: err})) process.stderr.write(`${line}\n`)
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

    progress.summary(result.nodes)
    process.exitCode = exitCodeFor(result.nodes)
  }
}
