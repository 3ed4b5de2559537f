/* eslint-disable n/no-process-exit, unicorn/no-process-exit -- a program's entry point */
// Entry point of the API server stand-in process: `node main.js CONFIG.json`. Prints `listening` once it serves.
import {readFileSync} from 'node:fs'

import {ApiServer, type ApiServerOptions} from './server.js'

interface FileOptions extends Omit<ApiServerOptions, 'cert' | 'key'> {
  certFile: string
  keyFile: string
}

async function main(): Promise<void> {
  const file = process.argv[2]
  if (!file) throw new Error('usage: main.js CONFIG.json')
  const options = JSON.parse(readFileSync(file, 'utf8')) as FileOptions
  const server = new ApiServer({...options, cert: readFileSync(options.certFile, 'utf8'), key: readFileSync(options.keyFile, 'utf8')})
  await server.start()
  process.stdout.write('listening\n')
  const shutdown = () => {
    server.stop().finally(() => process.exit(0)).catch(() => process.exit(1))
  }

  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
}

try {
  await main()
} catch (error) {
  process.stderr.write(`apiserver: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
}
