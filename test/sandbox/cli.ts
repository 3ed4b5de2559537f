// Starts a sandbox and keeps it up until SIGINT/SIGTERM, for the demo and for trying things by hand:
//   node --import tsx test/sandbox/cli.ts [NODES] [--bastion] [--agent]
// NODES is a count or comma-separated names (default 3). Prints one JSON line describing the sandbox on stdout,
// then a shell line to use it: `ssh -F <ssh_config> node1`, or HOME=<home> for the CLI.
import {startSandbox} from './index.js'

const args = process.argv.slice(2)
const spec = args.find(arg => !arg.startsWith('--')) ?? '3'
const sandbox = await startSandbox({
  bastion: args.includes('--bastion'),
  nodes: /^\d+$/.test(spec) ? Number(spec) : spec.split(','),
})
if (args.includes('--agent')) await sandbox.startAgent()

const all = sandbox.bastion ? [...sandbox.nodes, sandbox.bastion] : sandbox.nodes
process.stdout.write(JSON.stringify({
  agent: sandbox.agent,
  dir: sandbox.dir,
  home: sandbox.home,
  identityFile: sandbox.identityFile,
  knownHostsPath: sandbox.knownHostsPath,
  nodes: all.map(node => ({
    address: node.address,
    hostKeyFingerprint: node.hostKeyFingerprint,
    name: node.name,
    pid: node.pid,
    port: node.port,
    root: node.root,
  })),
  sshConfigPath: sandbox.sshConfigPath,
}) + '\n')
process.stderr.write(`ready: ssh -F ${sandbox.sshConfigPath} ${sandbox.nodes[0]?.name}  (Ctrl-C stops the sandbox)\n`)

// Keep running until a signal arrives.
const keepAlive = setInterval(() => {}, 60_000)
const stop = async () => {
  await sandbox.stop()
  clearInterval(keepAlive)
}

process.once('SIGINT', stop)
process.once('SIGTERM', stop)
