/**
 * Progress of multi-node work, on stderr only (stdout is for results and --json). On a terminal:
 * a live block of the nodes in flight under the lines of finished nodes. Elsewhere (CI, pipes,
 * files): one line per node as it finishes, `[3/10] node3 ok (0.12s)`, as pssh does. Then a
 * summary that names each failed node with its cause and hints.
 */
// chalk's default export is an instance bound to stdout's colour support; this writes to stderr.
// eslint-disable-next-line unicorn/import-style
import {Chalk, type ChalkInstance} from 'chalk'
import {stripVTControlCharacters} from 'node:util'

import type {FanOutEvent, NodeOutcome, NodeStatus} from '../transport/fan-out.js'

interface Stream {
  columns?: number
  isTTY?: boolean
  rows?: number
  write(text: string): unknown
}

export interface ProgressOptions {
  /** Colours (default: the stream is a terminal, NO_COLOR unset, TERM not dumb). */
  color?: boolean
  /** Redraw a live block (default: a terminal, not CI, TERM not dumb). */
  live?: boolean
  /** Print nothing at all (e.g. a single quick node and --quiet). */
  silent?: boolean
  /** Default process.stderr. */
  stream?: Stream
  /** Number of nodes; default: taken from the fan-out's events. */
  total?: number
}

/** What a summary needs of a node's outcome (NodeOutcome fits). */
export interface SummaryEntry {
  error?: string
  hints?: string[]
  node: string
  status: NodeStatus
}

/** Colours for a stream: a terminal, NO_COLOR unset, TERM not dumb. */
export function colorSupported(stream: {isTTY?: boolean} = process.stdout): boolean {
  return stream.isTTY === true && process.env.TERM !== 'dumb' && !('NO_COLOR' in process.env)
}

/** A chalk instance with colours on or off. */
export function makeChalk(color: boolean): ChalkInstance {
  return new Chalk({level: color ? 1 : 0})
}

interface InFlight {
  phase: 'connecting' | 'running'
  since: number
}

const REDRAW_MS = 100

export class Progress {
  readonly color: boolean
  /** Hand this to fanOut()/runOnNodes() as onEvent. */
  readonly onEvent = (event: FanOutEvent<unknown>): void => {
    if (this.silent) return
    switch (event.type) {
    case 'done': {
      this.total ??= event.total
      this.inFlight.delete(event.outcome.node)
      this.print(this.doneLine(event.outcome, event.done))
      break
    }

    case 'phase': {
      this.inFlight.set(event.node, {phase: event.phase, since: this.inFlight.get(event.node)?.since ?? Date.now()})
      this.schedule()
      break
    }

    case 'warning': {
      this.print(`${this.chalk.yellow('warning')} ${event.node}: ${event.message}`)
      break
    }
    }
  }
  private readonly chalk: ChalkInstance
  private drawn = 0
  private readonly inFlight = new Map<string, InFlight>()
  private readonly live: boolean
  private readonly silent: boolean
  private readonly stream: Stream
  private timer?: NodeJS.Timeout
  private total?: number

  constructor(options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr
    const {env} = process
    const terminal = this.stream.isTTY === true && env.TERM !== 'dumb'
    this.color = options.color ?? (terminal && !('NO_COLOR' in env))
    this.live = options.live ?? (terminal && !env.CI)
    this.silent = options.silent ?? false
    this.total = options.total
    this.chalk = new Chalk({level: this.color ? 1 : 0})
  }

  /** Clear the live block; call once the fan-out is over. */
  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
    this.erase()
  }

  /** Write the failure summary (nothing when every node succeeded). */
  summary(outcomes: readonly SummaryEntry[]): void {
    this.stop()
    const text = formatSummary(outcomes, {chalk: this.chalk})
    if (text) this.stream.write(`${text}\n`)
  }

  private doneLine(outcome: NodeOutcome<unknown>, done: number): string {
    const counter = this.chalk.dim(`[${done}/${this.total ?? '?'}]`)
    const status = styleStatus(this.chalk, outcome.status)
    const error = outcome.error && ownError(outcome.node, outcome.error)
    const cause = error ? `: ${error.split('\n').find(line => line.trim() && !/^@+$/.test(line)) ?? error}` : ''
    return `${counter} ${outcome.node} ${status} (${seconds(outcome.durationMs)})${cause}`
  }

  private draw(): void {
    if (!this.live) return
    this.erase()
    if (this.inFlight.size === 0) return
    const rows = Math.max(3, Math.min(10, (this.stream.rows ?? 24) - 4))
    const now = Date.now()
    const entries = [...this.inFlight.entries()]
    const shown = entries.slice(0, rows)
    const width = this.stream.columns ?? 80
    const lines = shown.map(([node, state]) => truncate(`  ${this.chalk.cyan('…')} ${node} ${this.chalk.dim(`${state.phase} ${seconds(now - state.since)}`)}`, width))
    if (entries.length > shown.length) lines.push(this.chalk.dim(`  … and ${entries.length - shown.length} more`))
    this.stream.write(`${lines.join('\n')}\n`)
    this.drawn = lines.length
  }

  private erase(): void {
    if (this.drawn === 0) return
    this.stream.write(`\u001B[${this.drawn}A\u001B[0J`)
    this.drawn = 0
  }

  private print(line: string): void {
    if (this.live) {
      this.erase()
      this.stream.write(`${line}\n`)
      this.draw()
      this.schedule()
    } else this.stream.write(`${line}\n`)
  }

  private schedule(): void {
    if (!this.live || this.timer) return
    this.timer = setInterval(() => {
      if (this.inFlight.size === 0) {
        clearInterval(this.timer)
        this.timer = undefined
        this.erase()
        return
      }

      this.draw()
    }, REDRAW_MS)
    this.timer.unref()
  }
}

/**
 * `2 of 10 nodes failed:` then, per failed node, its status and full error with hints. Empty when
 * every node succeeded.
 */
export function formatSummary(outcomes: readonly SummaryEntry[], options: {chalk?: ChalkInstance} = {}): string {
  const chalk = options.chalk ?? new Chalk({level: 0})
  const failed = outcomes.filter(outcome => outcome.status === 'failed' || outcome.status === 'unreachable')
  if (failed.length === 0) return ''
  const lines = [chalk.bold(`${failed.length} of ${outcomes.length} node${outcomes.length === 1 ? '' : 's'} failed:`)]
  for (const outcome of failed) {
    const [first = '', ...rest] = ownError(outcome.node, outcome.error ?? 'failed').split('\n')
    lines.push(`  ${outcome.node}: ${styleStatus(chalk, outcome.status)}: ${first}`, ...rest.map(line => `    ${line}`))
    for (const hint of outcome.hints ?? []) lines.push(...hint.split('\n').map((line, index) => `    ${index === 0 ? chalk.dim('hint: ') : '      '}${line}`))
  }

  return lines.join('\n')
}

/** An error as shown beside its node: without the node's name again when the message starts with it. */
function ownError(node: string, error: string): string {
  return error.startsWith(`${node}: `) ? error.slice(node.length + 2) : error
}

export function styleStatus(chalk: ChalkInstance, status: NodeStatus): string {
  switch (status) {
  case 'changed': {
    return chalk.yellow(status)
  }

  case 'failed':
  case 'unreachable': {
    return chalk.red(status)
  }

  case 'ok': {
    return chalk.green(status)
  }

  case 'unchanged': {
    return chalk.dim(status)
  }
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`
}

function truncate(text: string, width: number): string {
  // Colour codes make the string longer than it looks; only cut plain overflow.
  const plain = stripVTControlCharacters(text)
  return plain.length < width ? text : `${plain.slice(0, Math.max(1, width - 2))}…`
}
