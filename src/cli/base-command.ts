import {Command, Errors} from '@oclif/core'

import {RemoteCommandError, UserError} from '../errors.js'

/**
 * The one place where errors become messages and exit codes (docs/design.md "Exit codes"):
 * user-fixable errors exit 2 (or their own code) with hints, remote failures exit 1 naming the node
 * and the command, anything else is a bug and says so.
 */
export abstract class BaseCommand extends Command {
  async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    const code = reportError(err)
    if (code === undefined) return super.catch(asBug(err))
    return this.exit(code)
  }

  async init(): Promise<void> {
    await super.init()
    process.once('SIGINT', () => this.interrupt())
  }

  /** Ctrl-C. A command for which it is the normal end (logs -f) overrides this; a second Ctrl-C meets the default handler. */
  protected interrupt(): void {
    interrupted()
  }
}

/**
 * Ctrl-C: say what it means and exit 130 at once. Exiting closes the SSH connections, and that is what
 * stops the work in progress on the nodes (the watchdog of src/transport/remote-command.ts; the apply
 * script's EXIT trap removes its temp file; a kubelet restart rolls back by itself). A second Ctrl-C
 * meets the default handler.
 */
export function interrupted(stderr: NodeJS.WritableStream = process.stderr): never {
  stderr.write('\nInterrupted: nodes reported as finished are done; on the others the work in progress stops with the connection, and no file is left half-written.\n')
  // eslint-disable-next-line n/no-process-exit, unicorn/no-process-exit -- a signal handler: nothing else is left to run
  process.exit(130)
}

/**
 * Prints an error the user can act on to stderr, as written (multi-line lists of problems stay
 * readable), and returns the exit code; undefined when the error is not one of ours.
 */
export function reportError(err: Error, stderr: NodeJS.WritableStream = process.stderr): number | undefined {
  if (err instanceof UserError) {
    stderr.write(`Error: ${err.message}\n${err.hints.map(hint => `Hint: ${hint}\n`).join('')}`)
    return err.exitCode
  }

  if (err instanceof RemoteCommandError) {
    const output = (err.stderr || err.stdout).trim()
    stderr.write(`Error: ${err.message}\n${output ? `${output}\n` : ''}`)
    return 1
  }

  return undefined
}

/** Anything that is neither a user error nor a remote failure is a bug: say so, without a stack trace. */
export function asBug(err: Error): Error {
  if (err instanceof Errors.CLIError || (err as {code?: string}).code === 'EEXIT' || 'oclif' in err) return err
  if (process.env.DEBUG) return err
  return new Errors.CLIError(`internal error: ${err.message}`, {
    exit: 1,
    suggestions: ['This is a bug in staticpod. Run again with DEBUG=* to see the stack trace, and report it.'],
  })
}
