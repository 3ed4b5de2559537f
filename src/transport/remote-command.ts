/**
 * The command line sent to sshd for one NodeExec.run(). sshd hands it to the user's login shell
 * (`$SHELL -c LINE`), so it is built from quoted arguments only, and it wraps the real command in a
 * small POSIX sh watchdog because closing an SSH channel does not stop the remote process
 * (OpenSSH bug 396; ssh2#382): the watchdog kills the command's process group when the SSH
 * session process goes away (the connection closed: timeout, Ctrl-C, crash) or when the deadline
 * passes.
 */
import {quoteArg, quoteArgv} from './shell-quote.js'

/**
 * $1: pid of the sshd session process (the login shell's parent), $2: deadline in seconds (0: none),
 * then argv. stdin is passed on through fd 3 because an asynchronous command's stdin is /dev/null
 * before its own redirections apply (POSIX, job control off). setsid gives the command its own
 * process group, so its children are stopped with it, also those it leaves behind when it exits.
 */
export const WATCHDOG_SCRIPT = [
  'p=$1 t=$2; shift 2',
  'exec 3<&0',
  'if command -v setsid >/dev/null 2>&1; then setsid "$@" <&3 3<&- & else "$@" <&3 3<&- & fi',
  'c=$!',
  'exec 3<&-',
  '(',
  '  n=0',
  '  while kill -0 "$c" 2>/dev/null; do',
  '    if ! kill -0 "$p" 2>/dev/null || { [ "$t" -gt 0 ] && [ "$n" -ge "$t" ]; }; then',
  '      kill -TERM -"$c" 2>/dev/null || kill -TERM "$c" 2>/dev/null',
  '      sleep 2',
  '      kill -KILL -"$c" 2>/dev/null || kill -KILL "$c" 2>/dev/null',
  '      exit 0',
  '    fi',
  '    sleep 1',
  '    n=$((n+1))',
  '  done',
  ') </dev/null >/dev/null 2>&1 &',
  'w=$!',
  'wait "$c"',
  's=$?',
  'kill "$w" 2>/dev/null',
  // Whatever the command left running in its group would hold the channel open: it ends with it.
  'kill -TERM -"$c" 2>/dev/null',
  'exit "$s"',
].join('\n')

export interface RemoteCommandOptions {
  /** Seconds after which the command is stopped on the node; 0 or undefined for none. */
  deadlineSeconds?: number
  /** Prefix `sudo -n --` (the watchdog then runs as root too, so it can stop the command). */
  sudo?: boolean
  /** Wrap the command in the watchdog (default). Without it the line is `exec [sudo -n --] ARGV...`. */
  watchdog?: boolean
}

/** The line for sshd: `exec [sudo -n --] sh -c WATCHDOG staticpod "$PPID" DEADLINE ARGV...`. */
export function remoteCommand(argv: readonly string[], options: RemoteCommandOptions = {}): string {
  if (argv.length === 0) throw new Error('remoteCommand: empty argv')
  if (options.watchdog === false) return ['exec', ...(options.sudo ? ['sudo', '-n', '--'] : []), quoteArgv(argv)].join(' ')
  const deadline = Math.max(0, Math.ceil(options.deadlineSeconds ?? 0))
  // "$PPID" is left for the login shell to expand: it is the sshd session process.
  const parts = ['exec', ...(options.sudo ? ['sudo', '-n', '--'] : []), 'sh', '-c', quoteArg(WATCHDOG_SCRIPT), 'staticpod']
  return `${parts.join(' ')} "$PPID" ${deadline} ${quoteArgv(argv)}`
}

/** Did `sudo -n` refuse because it wants a password (or a terminal to ask for one)? */
export function sudoWantsPassword(result: {code: null | number; stderr: string}): boolean {
  return result.code === 1 && /^sudo: (?:a password is required|a terminal is required|no tty present)/m.test(result.stderr)
}

/** Is sudo missing on the node? */
export function sudoMissing(result: {code: null | number; stderr: string}): boolean {
  return result.code === 127 && /sudo: (?:command )?not found|sudo: not found/.test(result.stderr)
}
