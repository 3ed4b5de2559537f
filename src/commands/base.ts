import {Command, Errors} from '@oclif/core'

import {RemoteCommandError, UserError} from '../errors.js'

/**
 * The one place where errors become messages and exit codes (docs/design.md "Exit codes"):
 * user-fixable errors exit 2 (or their own code) with hints, remote failures exit 1 naming the node
 * and the command, anything else is a bug and says so.
 */
export abstract class BaseCommand extends Command {
  override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    return super.catch(toCliError(err))
  }
}

export function toCliError(err: Error): Error {
  if (err instanceof UserError) {
    return new Errors.CLIError(err.message, {exit: err.exitCode, suggestions: err.hints})
  }

  if (err instanceof RemoteCommandError) {
    const output = (err.stderr || err.stdout).trim()
    return new Errors.CLIError(`${err.message}${output ? `\n${output}` : ''}`, {exit: 1})
  }

  if (err instanceof Errors.CLIError || (err as {code?: string}).code === 'EEXIT' || 'oclif' in err) return err
  if (process.env.DEBUG) return err
  return new Errors.CLIError(`internal error: ${err.message}`, {
    exit: 1,
    suggestions: ['This is a bug in staticpod. Run again with DEBUG=* to see the stack trace, and report it.'],
  })
}
