import {Args, Flags} from '@oclif/core'
import {text as readStream} from 'node:stream/consumers'

import {validate} from '../ops/validate.js'
import {BaseCommand} from './base.js'

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
    format: Flags.string({
      char: 'f',
      default: 'text',
      description: 'Output format.',
      options: ['text', 'json', 'junit', 'sarif'],
    }),
    ignore: Flags.string({
      description: 'Leave out a rule (e.g. dir/subdirectory) or a whole category (dir, api, static-pod). Repeatable.',
      multiple: true,
    }),
    'node-name': Flags.string({description: 'The node the manifests are for: checks that the mirror pod name <name>-<node> is valid.'}),
    quiet: Flags.boolean({char: 'q', description: 'Print errors only, and nothing when every manifest is valid.'}),
    schema: Flags.file({description: 'Use this Pod JSON schema instead of the built-in one (e.g. a standalone-strict pod-v1.json of another Kubernetes version).', exists: true}),
  }
  static strict = false
  static summary = 'Check static pod manifests before they reach a node.'

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Validate)
    const paths = argv as string[]
    const result = await validate({
      ignore: flags.ignore ?? [],
      nodeName: flags['node-name'],
      paths,
      readStdin: async () => Buffer.from(await readStream(process.stdin)),
      schemaFile: flags.schema,
    })

    const output = await render(result, flags.format, {
      color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
      quiet: flags.quiet,
      version: this.config.version,
    })
    if (output) process.stdout.write(output.endsWith('\n') ? output : `${output}\n`)
    if (result.summary.invalid > 0 || result.summary.errors > 0) process.exitCode = 1
  }
}

/** Only the chosen writer is loaded: a pre-commit run pays for text, nothing more. */
async function render(
  result: Awaited<ReturnType<typeof validate>>,
  format: string,
  options: {color: boolean; quiet: boolean; version: string},
): Promise<string> {
  switch (format) {
  case 'json': {
    const {renderValidateJson} = await import('../output/validate-json.js')
    return renderValidateJson(result)
  }

  case 'junit': {
    const {renderValidateJunit} = await import('../output/validate-junit.js')
    return renderValidateJunit(result)
  }

  case 'sarif': {
    const [{renderValidateSarif}, {ruleDescriptions}] = await Promise.all([
      import('../output/validate-sarif.js'),
      import('../manifest/rules.js'),
    ])
    return renderValidateSarif(result, {
      ruleDescriptions: ruleDescriptions(),
      version: options.version,
    })
  }

  default: {
    const {renderValidateText} = await import('../output/validate-text.js')
    return renderValidateText(result, {color: options.color, quiet: options.quiet})
  }
  }
}
