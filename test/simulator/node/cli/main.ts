/* eslint-disable n/no-process-exit, unicorn/no-process-exit -- a program's entry point */
// Entry point of the command-line shims installed on every sandbox node: `node main.js TOOL ARGS...`, where TOOL
// is systemctl, crictl, docker or journalctl (the shim in /usr/local/bin passes its own name). Each tool's module is
// loaded only when called: these run on every crictl/systemctl call, so start-up time matters.
import {Exit, type Output, stdio} from './common.js'

type Tool = (argv: string[], io: Output) => Promise<number>

const TOOLS: Record<string, () => Promise<Tool>> = {
  crictl: async () => (await import('./crictl.js')).crictl,
  docker: async () => (await import('./docker.js')).docker,
  journalctl: async () => (await import('./journalctl.js')).journalctl,
  systemctl: async () => (await import('./systemctl.js')).systemctl,
}

async function main(): Promise<number> {
  const [tool, ...argv] = process.argv.slice(2)
  const load = TOOLS[tool ?? '']
  if (!load) {
    stdio.err(`unknown simulator tool ${tool ?? ''}\n`)
    return 2
  }

  try {
    return await (await load())(argv, stdio)
  } catch (error) {
    if (error instanceof Exit) {
      stdio.err(error.stderr)
      return error.code
    }

    stdio.err(`${tool}: ${(error as Error).message}\n`)
    return 1
  }
}

// Let stdout drain before exiting (output may be piped over SSH).
process.stdout.on('error', () => process.exit(process.exitCode ?? 0))
process.exitCode = await main()
