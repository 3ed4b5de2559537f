/**
 * The error taxonomy. Operations throw these; the command layer maps them to messages and exit codes
 * in one place (src/commands/base.ts). Anything else that escapes is a bug.
 */

/** Something the user can fix: bad input, unknown node, missing file. Exit 2 unless stated. */
export class UserError extends Error {
  readonly exitCode: number
  readonly hints: string[]

  constructor(message: string, options: {exitCode?: number; hints?: string[]} = {}) {
    super(message)
    this.name = 'UserError'
    this.exitCode = options.exitCode ?? 2
    this.hints = options.hints ?? []
  }
}

/** A command on a node failed. Carries what was run and what it said, so the user can paste it. */
export class RemoteCommandError extends Error {
  readonly command: string
  readonly exitCode: null | number
  readonly node: string
  readonly stderr: string
  readonly stdout: string

  constructor(node: string, command: string, result: {code: null | number; stderr: string; stdout: string}, message?: string) {
    super(message ?? `${node}: \`${command}\` exited with ${result.code ?? 'no status'}${firstLine(result.stderr)}`)
    this.name = 'RemoteCommandError'
    this.node = node
    this.command = command
    this.exitCode = result.code
    this.stdout = result.stdout
    this.stderr = result.stderr
  }
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0]
  return line ? `: ${line}` : ''
}
