// The walkthrough of the Kubernetes "Static Pods" guide (shared/docs/static-pods-guide.zh.md), done
// with staticpod on a simulated node named my-node1, as one command: `npm run demo` (needs root: the
// node runs in its own namespaces). Every step prints the command line it runs and what it sees, and
// checks it: the demo exits 1 at the first step that does not see what the guide says.
//
//   node --import tsx scripts/demo.ts          (npm run demo builds first, then runs this)
//
// The node is test/simulator's: a real sshd, a kubelet, a container runtime (crictl) and an API server
// that the real kubectl talks to. staticpod is the built CLI (bin/run.js), run as a user would, with
// HOME holding ~/.ssh/config (so `ssh my-node1` works) and ~/.kube/config.
import {copyFileSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {BIN, type CliResult, spawnCapture} from '../test/helpers/cli.js'
import {ROOT} from '../test/helpers/fixtures.js'
import {startCluster} from '../test/simulator/index.js'

const NODE = 'my-node1'
const MIRROR = `static-web-${NODE}`

/** The guide's manifest (examples/static-web.yaml). */
const STATIC_WEB = path.join(ROOT, 'examples', 'static-web.yaml')

type Ran = CliResult

class StepFailed extends Error {}

const out = process.stdout
const colour = out.isTTY === true && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb'
const paint = (code: string, text: string): string => (colour ? `\u001B[${code}m${text}\u001B[0m` : text)
const bold = (text: string): string => paint('1', text)
const dim = (text: string): string => paint('2', text)

let step = 0
let env: Record<string, string> = {}
let workDir = ''

function title(text: string, guide: string): void {
  step++
  out.write(`\n${bold(`${step}. ${text}`)}\n${dim(`   guide: ${guide}`)}\n`)
}

function seen(text: string): void {
  out.write(`   ${paint('32', '✓')} ${text}\n`)
}

function expectThat(condition: boolean, what: string, ran?: Ran): void {
  if (condition) {
    seen(what)
    return
  }

  const detail = ran ? `\n   exit ${ran.code}\n${indent(ran.stdout)}${indent(ran.stderr)}` : ''
  throw new StepFailed(`expected: ${what}${detail}`)
}

function indent(text: string): string {
  const trimmed = text.trimEnd()
  return trimmed ? `${trimmed.split('\n').map(line => `     ${line}`).join('\n')}\n` : ''
}

/** Runs a command in the demo's directory and environment; prints `$ shown` and, unless quiet, its output. */
async function sh(shown: string, command: string, args: string[], options: {quiet?: boolean} = {}): Promise<Ran> {
  if (!options.quiet) out.write(`   ${paint('36', '$')} ${shown}\n`)
  const ran = await spawnCapture(command, args, {cwd: workDir, env, timeoutMs: 120_000})
  if (!options.quiet) out.write(indent(ran.stdout) + dim(indent(ran.stderr)))
  return ran
}

const staticpod = async (args: string[], options: {quiet?: boolean} = {}): Promise<Ran> => sh(`staticpod ${args.join(' ')}`, process.execPath, [BIN, ...args], options)
const kubectl = async (args: string[], options: {quiet?: boolean} = {}): Promise<Ran> => sh(`kubectl ${args.join(' ')}`, 'kubectl', args, options)
// ssh reads the config of the user's home from the password database, not $HOME: name it.
async function ssh(command: string, options: {quiet?: boolean} = {}): Promise<Ran> {
  return sh(`ssh -F $HOME/.ssh/config ${NODE} '${command}'`, 'ssh', ['-F', path.join(env.HOME ?? '', '.ssh', 'config'), NODE, command], options)
}

/** Repeats `look` (quietly) until `ok` holds or the time is up; then shows the last look. */
async function until(shown: string, look: () => Promise<Ran>, ok: (ran: Ran) => boolean, timeoutMs = 30_000): Promise<Ran> {
  out.write(`   ${paint('36', '$')} ${shown}  ${dim('(repeated until it shows the change)')}\n`)
  const deadline = Date.now() + timeoutMs
  let ran = await look()
  while (!ok(ran) && Date.now() < deadline) {
    // eslint-disable-next-line no-await-in-loop -- polling
    await sleep(500)
    // eslint-disable-next-line no-await-in-loop -- polling
    ran = await look()
  }

  out.write(indent(ran.stdout) + dim(indent(ran.stderr)))
  return ran
}

/** The rows of a table printed by kubectl or staticpod, cut at the header's column starts. */
function tableRows(text: string): Array<Record<string, string>> {
  const [header, ...lines] = text.split('\n').filter(line => line.trim() !== '')
  if (!header) return []
  const starts = [...header.matchAll(/\S+/g)].map(m => ({index: m.index, name: m[0].toLowerCase()}))
  return lines.map(line => Object.fromEntries(starts.map((col, i) => [col.name, line.slice(col.index, starts[i + 1]?.index ?? line.length).trim()])))
}

/** The mirror pod's row of `kubectl get pods`, if listed. */
function podRow(ran: Ran): Record<string, string> | undefined {
  return tableRows(ran.stdout).find(row => row.name === MIRROR)
}

/** static-web's row of `staticpod status`. */
function statusRow(ran: Ran): Record<string, string> | undefined {
  return tableRows(ran.stdout).find(row => row.node === NODE && row.pod === 'static-web')
}

/** `kubectl get pods` shows the mirror pod restarted once (RESTARTS `1 (5s ago)`) and ready. */
function restartedOnce(ran: Ran): boolean {
  return /^1\b/.test(podRow(ran)?.restarts ?? '') && podRow(ran)?.ready === '1/1'
}

async function mirrorUid(): Promise<string> {
  const ran = await kubectl(['get', 'pod', MIRROR, '-o', 'jsonpath={.metadata.uid}'], {quiet: true})
  return ran.code === 0 ? ran.stdout : ''
}

/** The guide's walkthrough, one function per step. */
const STEPS: Array<() => Promise<void>> = [
  async () => {
    title(`Put the guide's static-web.yaml on ${NODE} and wait until the kubelet runs it`, 'steps 1-4: ssh my-node1, write /etc/kubelet.d/static-web.yaml, point the kubelet at the directory, restart it')
    out.write(dim(`   (the kubelet on ${NODE} already reads --pod-manifest-path=/etc/kubelet.d/, as after the guide's steps 3 and 4; staticpod finds it there)\n`))
    const add = await staticpod(['add', NODE, 'static-web.yaml', '--wait'])
    expectThat(add.code === 0 && /\/etc\/kubelet\.d\/static-web\.yaml\s+created\b.*running after/.test(add.stdout), 'static-web.yaml was created in /etc/kubelet.d/ and its pod runs', add)
  },
  async () => {
    title('Is it really running? The file, the container and the mirror pod side by side', 'docker ps on the node; kubectl get pods on the master')
    const status = await staticpod(['status', NODE])
    const row = statusRow(status)
    const what = `container web running, mirror pod ${MIRROR} Running 1/1, verdict running`
    expectThat(status.code === 0 && row?.containers === 'web running' && /^Running 1\/1/.test(row.mirror ?? '') && row.verdict === 'running', what, status)
    const pods = await kubectl(['get', 'pods'])
    expectThat(podRow(pods)?.status === 'Running', `kubectl lists the mirror pod ${MIRROR}, Running`, pods)
  },
  async () => {
    title('Delete the mirror pod through the API: the kubelet creates it again', 'kubectl delete pod static-web-my-node1; kubectl get pods')
    const uid = await mirrorUid()
    const deleted = await kubectl(['delete', 'pod', MIRROR])
    expectThat(deleted.code === 0, `kubectl deleted ${MIRROR}`, deleted)
    const back = await until('kubectl get pods', async () => kubectl(['get', 'pods'], {quiet: true}), ran => podRow(ran)?.status === 'Running')
    const newUid = await mirrorUid()
    expectThat(podRow(back)?.status === 'Running' && newUid !== '' && newUid !== uid, `${MIRROR} is back (a new API object: uid ${newUid.slice(0, 8)}…, was ${uid.slice(0, 8)}…), Running`, back)
  },
  async () => {
    title('Stop the container on the node: the kubelet restarts it', 'docker stop <id> on my-node1; docker ps')
    const stopped = await ssh('crictl stop $(crictl ps -q --name web)')
    expectThat(stopped.code === 0, 'the container was stopped', stopped)
    const restarted = await until('kubectl get pods', async () => kubectl(['get', 'pods'], {quiet: true}), restartedOnce)
    expectThat(restartedOnce(restarted), 'the kubelet restarted it: RESTARTS 1, READY 1/1', restarted)
    const status = await staticpod(['status', NODE])
    expectThat(statusRow(status)?.restarts === '1' && statusRow(status)?.containers === 'web running', 'on the node too: web running, restarts 1', status)
  },
  async () => {
    title('Take the manifest out of the directory: the pod goes away', 'mv /etc/kubelet.d/static-web.yaml /tmp; docker ps shows no nginx')
    const disable = await staticpod(['disable', NODE, 'static-web'])
    expectThat(disable.code === 0 && disable.stdout.includes('disabled'), 'static-web.yaml was moved out of /etc/kubelet.d/', disable)
    const gone = await until('kubectl get pods', async () => kubectl(['get', 'pods'], {quiet: true}), ran => podRow(ran) === undefined)
    expectThat(podRow(gone) === undefined, `${MIRROR} is gone from the API server`, gone)
    const list = 'crictl ps --name web'
    const none = await until(`ssh -F $HOME/.ssh/config ${NODE} '${list}'`, async () => ssh(list, {quiet: true}), ran => tableRows(ran.stdout).length === 0)
    expectThat(none.code === 0 && tableRows(none.stdout).length === 0, 'no web container runs on the node', none)
  },
  async () => {
    title('Put it back: the pod comes back', 'mv /tmp/static-web.yaml /etc/kubelet.d/; docker ps')
    const enable = await staticpod(['enable', NODE, 'static-web'])
    expectThat(enable.code === 0 && enable.stdout.includes('enabled'), 'static-web.yaml is back in /etc/kubelet.d/', enable)
    const again = await until('kubectl get pods', async () => kubectl(['get', 'pods'], {quiet: true}), ran => podRow(ran)?.status === 'Running')
    expectThat(podRow(again)?.status === 'Running', `the mirror pod ${MIRROR} is back, Running`, again)
    const status = await staticpod(['status', NODE])
    expectThat(statusRow(status)?.verdict === 'running' && statusRow(status)?.containers === 'web running', 'static-web runs again on the node', status)
  },
]

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('The demo starts a simulated node in its own Linux namespaces, which needs root: run it as root (e.g. sudo npm run demo).\n')
    return 2
  }

  out.write(bold('staticpod demo: the Kubernetes "Static Pods" guide, on a simulated node\n'))
  out.write(dim(`Starting ${NODE}: sshd, a kubelet (--pod-manifest-path=/etc/kubelet.d/, as in the guide), a container runtime, and an API server...\n`))
  const cluster = await startCluster({
    // The kubelet rescans its directory every second here (20 s on a real node).
    fileCheckFrequency: '1s',
    nodes: [{controlPlane: true, layout: 'fedora', name: NODE}],
  })
  workDir = mkdtempSync(path.join(tmpdir(), 'staticpod-demo-'))
  try {
    env = cluster.env()
    copyFileSync(STATIC_WEB, path.join(workDir, 'static-web.yaml'))
    out.write(dim(`Ready. staticpod, ssh and kubectl run with HOME=${env.HOME} (its .ssh/config knows ${NODE}, its .kube/config the API server), in ${workDir}, which holds the guide's static-web.yaml.\n`))
    // eslint-disable-next-line no-await-in-loop -- one step after the other
    for (const run of STEPS) await run()
    out.write(`\n${bold(paint('32', 'Every step of the guide did what it says.'))}\n`)
    return 0
  } catch (error) {
    if (!(error instanceof StepFailed)) throw error
    out.write(`   ${paint('31', '✗')} step ${step} failed: ${error.message}\n`)
    return 1
  } finally {
    out.write(dim('Tearing down the simulated node...\n'))
    await cluster.stop()
    rmSync(workDir, {force: true, recursive: true})
  }
}

process.exitCode = await main()
