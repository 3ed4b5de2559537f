#!/usr/bin/env node
// A floor for the fleet bench, not a peer: the least any Node client built on ssh2 can do to run one
// command on every node. It reads the ssh config and the host file parallel-ssh reads, connects to
// every host at once (ssh2's Client; kex curve25519-sha256 and host key ssh-ed25519, what staticpod
// negotiates with these nodes), authenticates with the config's IdentityFile (read once per file),
// execs the command, reads its stdout into memory, and exits 1 if any host failed (connection,
// authentication or a non-zero exit status). With --stdin, its standard input (read once) is
// written to every host's command, as parallel-ssh -I does.
//
// What it leaves out, so its figures are below what a real tool can reach: it does NOT check host
// keys (the known_hosts the config names is not read: no hostVerifier), follows no Include,
// ProxyJump or Match, expands no tokens beyond a leading ~, tries no agent or other keys, has no
// timeouts beyond ssh2's defaults, no retries, no output parsing, no progress, no CLI framework.
//
//   node bench/ssh2-floor.js [--stdin] SSH_CONFIG HOSTS_FILE COMMAND
//
// Prints one line per host: `<host> exit <status> <bytes> bytes`.
import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import ssh2 from 'ssh2'
import SSHConfig from 'ssh-config'

const args = process.argv.slice(2)
const stdin = args[0] === '--stdin'
const [configFile, hostsFile, command] = stdin ? args.slice(1) : args
if (!configFile || !hostsFile || !command) {
  throw new Error('usage: node bench/ssh2-floor.js [--stdin] SSH_CONFIG HOSTS_FILE COMMAND')
}

const config = SSHConfig.parse(readFileSync(configFile, 'utf8'))
const hosts = readFileSync(hostsFile, 'utf8').split('\n').map(line => line.trim()).filter(line => line && !line.startsWith('#'))
const input = stdin ? readFileSync(0) : undefined
const keys = new Map()

/** The identity file's content, read once per file. */
function key(file) {
  const expanded = file.startsWith('~/') ? `${homedir()}${file.slice(1)}` : file
  if (!keys.has(expanded)) keys.set(expanded, readFileSync(expanded))
  return keys.get(expanded)
}

/** Runs the command on one host; resolves to its exit status and the bytes of its stdout. */
async function run(host) {
  const computed = config.compute(host)
  const identity = [computed.IdentityFile ?? []].flat()[0]
  const client = new ssh2.Client()
  try {
    return await new Promise((resolve, reject) => {
      client.once('error', reject)
      client.once('close', () => reject(new Error('connection closed before the command ended')))
      client.once('ready', () => {
        client.exec(command, (error, stream) => {
          if (error) {
            reject(error)
            return
          }

          const chunks = []
          let status = -1
          stream.on('data', chunk => chunks.push(chunk))
          stream.stderr.on('data', chunk => process.stderr.write(`${host}: ${chunk}`))
          stream.once('exit', code => {
            status = code ?? -1
          })
          stream.once('close', () => resolve({bytes: Buffer.concat(chunks).length, status}))
          stream.end(input)
        })
      })
      client.connect({
        algorithms: {kex: ['curve25519-sha256'], serverHostKey: ['ssh-ed25519']},
        host: computed.HostName ?? host,
        port: Number(computed.Port ?? 22),
        privateKey: identity ? key(identity) : undefined,
        username: computed.User ?? process.env.USER,
      })
    })
  } finally {
    client.end()
  }
}

const results = await Promise.allSettled(hosts.map(host => run(host)))
let failed = 0
for (const [i, result] of results.entries()) {
  if (result.status === 'fulfilled' && result.value.status === 0) {
    console.log(`${hosts[i]} exit 0 ${result.value.bytes} bytes`)
  } else {
    failed++
    console.log(`${hosts[i]} FAILED: ${result.status === 'fulfilled' ? `exit ${result.value.status}` : result.reason.message}`)
  }
}

if (failed > 0) console.error(`ssh2-floor: ${failed} of ${hosts.length} hosts failed`)
process.exitCode = failed > 0 ? 1 : 0
