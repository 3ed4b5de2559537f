/**
 * The transport seam. Everything above src/transport/ talks to a node through this interface and
 * never sees ssh2 types. Modelled on kind's exec.Cmder.
 */

export interface RunOptions {
  /**
   * Called with each chunk of standard error as it arrives; the result's stderr is then empty.
   */
  onStderr?: (chunk: Buffer) => void
  /**
   * Called with each chunk of standard output as it arrives (a followed log); the result's stdout
   * is then empty, so a command that runs for hours holds no memory.
   */
  onStdout?: (chunk: Buffer) => void
  /**
   * The command only reads, and ends by itself within moments: it runs without the watchdog that
   * stops a command when its connection goes away (three processes fewer on the node per run). A
   * timeout still ends the run here; the command then finishes on its own.
   */
  readOnly?: boolean
  /**
   * Run as root: through `sudo -n` when the node's user is not root (or the inventory says sudo).
   * A sudo that wants a password fails with SudoPasswordError (src/transport/errors.ts).
   */
  root?: boolean
  /** Bytes for the command's standard input; the stream is closed after them. */
  stdin?: Buffer | string
  /** Milliseconds; on expiry the remote command is stopped and the run rejects. */
  timeoutMs?: number
}

export interface RunResult {
  /** Exit status, or null when the command was killed by a signal. */
  code: null | number
  signal?: string
  stderr: string
  stdout: string
}

export interface NodeExec {
  close(): Promise<void>
  /** The node's name as the user selected it. */
  readonly name: string
  /**
   * Run argv on the node. Arguments are quoted by the implementation; nothing is interpreted by a
   * shell unless argv itself starts one (e.g. ['sh', '-c', script]).
   */
  run(argv: string[], options?: RunOptions): Promise<RunResult>
}
