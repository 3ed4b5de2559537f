import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {VALIDATE_FLAGS} from '../cli/validate-flags.js'
import {runValidate} from '../cli/validate-run.js'

// The shared definitions carry a `type` for node:util; oclif's flag builders say it themselves.
const {format, ignore, 'node-name': nodeName, quiet, schema} = VALIDATE_FLAGS
const plain = <T extends {type: string}>({type: _type, ...rest}: T): Omit<T, 'type'> => rest

export default class Validate extends BaseCommand {
  static args = {
    path: Args.string({description: 'Manifest files, directories (read as manifest directories), or - for standard input. Default: .'}),
  }
  static description = `Checks static pod manifests the way the kubelet and the API server will: YAML, the strict Pod schema, Kubernetes API rules and static-pod rules, with file:line:column for every finding.

A directory is read as the kubelet reads a manifest directory: every file whose name does not start with "." is a manifest, so backups and stray files are reported; subdirectories are searched for *.yaml, *.yml and *.json.

Exit status: 0 when there are no errors (warnings allowed), 1 when a manifest is invalid or a file cannot be read or parsed, 2 on usage errors.`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %> static-web.yaml', description: 'Check one manifest.'},
    {command: '<%= config.bin %> <%= command.id %> /etc/kubernetes/manifests', description: 'Check a node\'s manifest directory, stray files included.'},
    {command: 'cat pod.yaml | <%= config.bin %> <%= command.id %> -', description: 'Read the manifest from standard input.'},
    {command: '<%= config.bin %> <%= command.id %> manifests/ --format sarif > staticpod.sarif', description: 'Write SARIF for code scanning.'},
  ]
  static flags = {
    format: Flags.string({...plain(format), options: [...format.options]}),
    ignore: Flags.string({...plain(ignore), multipleNonGreedy: true}),
    'node-name': Flags.string(plain(nodeName)),
    quiet: Flags.boolean(plain(quiet)),
    schema: Flags.file(plain(schema)),
  }
  static strict = false
  static summary = 'Check static pod manifests before they reach a node.'

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Validate)
    await runValidate(argv as string[], flags, this.config.version)
  }
}
