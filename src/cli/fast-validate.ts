import {readFileSync} from 'node:fs'
import {parseArgs, type ParseArgsConfig} from 'node:util'

import {VALIDATE_FLAGS, type ValidateFlags} from './validate-flags.js'
import {runValidate} from './validate-run.js'

/**
 * `staticpod validate` without oclif: loading @oclif/core costs more than validating a manifest,
 * and pre-commit runs validate on every commit. Handles well-formed invocations only; for anything
 * else (help, unknown or malformed flags) it returns false and bin/run.js hands over to oclif, which
 * prints the same help and errors as for every other command.
 */
export async function fastValidate(argv: string[], packageJsonUrl: URL): Promise<boolean> {
  if (argv.some(arg => arg === '--help' || arg === '-h')) return false
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      allowPositionals: true, args: argv, options: parseOptions(), strict: true,
    })
  } catch {
    return false
  }

  const flags = parsed.values as unknown as Partial<ValidateFlags>
  const format = flags.format ?? VALIDATE_FLAGS.format.default
  if (!(VALIDATE_FLAGS.format.options as readonly string[]).includes(format)) return false

  const {version} = JSON.parse(readFileSync(packageJsonUrl, 'utf8')) as {version: string}
  try {
    await runValidate(parsed.positionals, {...flags, format, quiet: flags.quiet ?? false}, version)
  } catch (error) {
    // Errors are rare and may be slow: report them exactly as the oclif path would.
    const {asBug, reportError} = await import('./base-command.js')
    const code = reportError(error as Error)
    if (code === undefined) {
      const {handle} = await import('@oclif/core')
      await handle(asBug(error as Error))
    } else {
      process.exitCode = code
    }
  }

  return true
}

function parseOptions(): ParseArgsConfig['options'] {
  const options: NonNullable<ParseArgsConfig['options']> = {}
  for (const [name, flag] of Object.entries(VALIDATE_FLAGS)) {
    options[name] = {
      type: flag.type === 'boolean' ? 'boolean' : 'string',
      ...('multiple' in flag && {multiple: flag.multiple}),
      ...('char' in flag && {short: flag.char}),
    }
  }

  return options
}
