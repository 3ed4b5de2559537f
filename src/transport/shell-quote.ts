/**
 * POSIX shell quoting. Every remote command is built from quoted arguments only, so nothing the
 * user typed (a pod name, a path, a flag value) is ever interpreted by the node's shell.
 */

// `=` is not safe: a first word like `A=b` would be taken as an assignment.
const SAFE = /^[\w%+,./:@-]+$/

/**
 * Quote one argument for a POSIX shell: unchanged when it only has characters no shell treats
 * specially, else wrapped in single quotes with each `'` written as `'\''`.
 */
export function quoteArg(arg: string): string {
  if (arg === '') return "''"
  if (SAFE.test(arg)) return arg
  return `'${arg.replaceAll("'", String.raw`'\''`)}'`
}

/** Quote each argument and join them with spaces: a command line the shell splits back into argv. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map(arg => quoteArg(arg)).join(' ')
}
