import {fstatSync, writeSync} from 'node:fs'

import type {ValidateResult} from '../manifest/types.js'
import type {ValidateFlags} from './validate-flags.js'

import {validate} from '../ops/validate.js'

/** What `staticpod validate` does once its flags are parsed, by oclif or by the fast path. */
export async function runValidate(paths: string[], flags: ValidateFlags, version: string): Promise<void> {
  const result = await validate({
    ignore: flags.ignore ?? [],
    nodeName: flags['node-name'],
    paths,
    async readStdin() {
      const {text} = await import('node:stream/consumers')
      return Buffer.from(await text(process.stdin))
    },
    schemaFile: flags.schema,
  })

  const output = await render(result, flags.format, {
    color: !process.env.NO_COLOR && await stdoutIsTerminal(),
    quiet: flags.quiet,
    version,
  })
  if (output) writeStdout(output.endsWith('\n') ? output : `${output}\n`)
  if (result.summary.invalid > 0 || result.summary.errors > 0) process.exitCode = 1
}

/** Whether stdout is a terminal. The tty module loads net (see below): only a character device can be a terminal. */
async function stdoutIsTerminal(): Promise<boolean> {
  try {
    if (!fstatSync(1).isCharacterDevice()) return false
  } catch {
    return false
  }

  const {isatty} = await import('node:tty')
  return isatty(1)
}

/**
 * Writes to file descriptor 1 directly. Touching process.stdout makes Node set up a stream for it,
 * which for a pipe (pre-commit, CI, any caller that reads the output) loads the net module: ~15 ms,
 * more than validating a manifest. Whatever cannot be written at once (a non-blocking pipe that is
 * full, a closed one) is handed to process.stdout, which deals with it as it always did.
 */
function writeStdout(output: string): void {
  const bytes = Buffer.from(output)
  let written = 0
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written)
  } catch {
    process.stdout.write(bytes.subarray(written))
  }
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
