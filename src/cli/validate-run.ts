import {text as readStream} from 'node:stream/consumers'

import type {ValidateResult} from '../manifest/types.js'
import type {ValidateFlags} from './validate-flags.js'

import {validate} from '../ops/validate.js'

/** What `staticpod validate` does once its flags are parsed, by oclif or by the fast path. */
export async function runValidate(paths: string[], flags: ValidateFlags, version: string): Promise<void> {
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
    version,
  })
  if (output) process.stdout.write(output.endsWith('\n') ? output : `${output}\n`)
  if (result.summary.invalid > 0 || result.summary.errors > 0) process.exitCode = 1
}

/** Only the chosen writer is loaded: a pre-commit run pays for text, nothing more. */
async function render(
  result: ValidateResult,
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
    return renderValidateSarif(result, {ruleDescriptions: ruleDescriptions(), version: options.version})
  }

  default: {
    const [{renderValidateText}, chalk] = await Promise.all([
      import('../output/validate-text.js'),
      options.color ? import('../output/progress.js').then(({makeChalk}) => makeChalk(true)) : (false as const),
    ])
    return renderValidateText(result, {color: chalk, quiet: options.quiet})
  }
  }
}
