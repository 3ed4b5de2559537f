import {Exit, stdio} from './common.js'
// Entry point of the command-line shims installed on every sandbox node: `node main.js TOOL ARGS...`, where TOOL
// is systemctl, crictl, docker or journalctl (the shim in /usr/local/bin passes its own name).
import {crictl} from './crictl.js'
import {docker} from './docker.js'
import {journalctl} from './journalctl.js'
import {systemctl} from './systemctl.js'

const TOOLS: Record<string, (argv: string[], io: typeof stdio) => Promise<number>> = {
  crictl, docker, journalctl, systemctl,
}

async function main(): Promise<number> {
  const [tool, ...argv] = process.argv.slice(2)
  const run = TOOLS[tool ?? '']
  if (!run) {
    stdio.err(`unknown simulator tool ${tool ?? ''}\n`)
    return 2
  }

  try {
    return await run(argv, stdio)
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
main().then(code => {
  process.exitCode = code
})
process.stdout.on('error', () => process.exit(process.exitCode ?? 0))
