// What the command-line shims share: output, exit codes and a small getopt.

export class Exit extends Error {
  constructor(
    readonly code: number,
    readonly stderr = '',
  ) {
    super(stderr || `exit ${code}`)
  }
}

export interface Output {
  err(text: string): void
  out(text: string): void
}

export const stdio: Output = {
  err: text => process.stderr.write(text),
  out: text => process.stdout.write(text),
}

export interface OptionSpec {
  /** Options taking a value: long names and one-letter short names. */
  values: string[]
}

export interface ParsedArgs {
  /** Option → values (flags without a value get 'true'). */
  options: Map<string, string[]>
  positional: string[]
}

/** GNU-style getopt: `--opt=v`, `--opt v`, `-o v`, `-ov`, bundled short flags, `--`. Options may follow operands. */
export function getopt(argv: string[], spec: OptionSpec, aliases: Record<string, string> = {}): ParsedArgs {
  const options = new Map<string, string[]>()
  const positional: string[] = []
  const add = (name: string, value: string) => {
    const key = aliases[name] ?? name
    options.set(key, [...(options.get(key) ?? []), value])
  }

  const takesValue = (name: string) => spec.values.includes(name) || spec.values.includes(aliases[name] ?? '')
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      positional.push(...argv.slice(i + 1))
      break
    }

    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
      if (eq !== -1) add(name, arg.slice(eq + 1))
      else if (takesValue(name)) {
        if (i + 1 >= argv.length) throw new Exit(1, `option '--${name}' requires an argument\n`)
        add(name, argv[++i]!)
      } else add(name, 'true')
    } else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      for (let j = 1; j < arg.length; j++) {
        const name = arg[j]!
        if (takesValue(name)) {
          const rest = arg.slice(j + 1).replace(/^=/, '')
          if (rest !== '') add(name, rest)
          else if (i + 1 < argv.length) add(name, argv[++i]!)
          else throw new Exit(1, `option requires an argument -- '${name}'\n`)
          break
        }

        add(name, 'true')
      }
    } else positional.push(arg)
  }

  return {options, positional}
}

export const has = (args: ParsedArgs, ...names: string[]) => names.some(name => args.options.has(name))
export const last = (args: ParsedArgs, ...names: string[]) => {
  for (const name of names) {
    const values = args.options.get(name)
    if (values) return values.at(-1)
  }
}

export const all = (args: ParsedArgs, ...names: string[]) => names.flatMap(name => args.options.get(name) ?? [])

export function isRoot(): boolean {
  return process.getuid?.() === 0
}
