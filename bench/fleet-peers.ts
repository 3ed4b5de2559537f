// staticpod against the tools operators use today, on the same sandbox nodes with the same ssh config,
// known_hosts and key, run after run in turn (the order rotates every run), median of the runs:
//
//   ls:  staticpod ls all --json
//        parallel-ssh -p N -h hosts -o DIR 'cat /etc/kubernetes/manifests/*'
//        ansible all -f N -m shell -a 'cat /etc/kubernetes/manifests/*'
//   add: staticpod add all web.yaml
//        parallel-ssh -p N -I 'sh -c "cat > .web.yaml.tmp && mv .web.yaml.tmp web.yaml"' < web.yaml
//        ansible all -f N -m copy -a 'src=web.yaml dest=/etc/kubernetes/manifests/web.yaml'
//
// and, as a reference (a floor, not a peer), bench/ssh2-floor.js: a bare Node ssh2 client that reads
// the same ssh config and host file as parallel-ssh, connects to every node at once, execs the same
// command (for add with web.yaml on its stdin), reads the output and does nothing else. It is the
// least any ssh2-based client can do, so "floor / parallel-ssh" shows how near 0.5× the wall-time
// target even a client with no work of its own gets.
//
// Every add writes a new revision of web.yaml, so that every tool really writes; after each run the
// bench checks that every node holds that revision. Printed per tool: median wall time, CPU (user +
// sys) of the tool's own process tree per node, CPU the nodes spent per node (sshd, shells, the
// commands), peak RSS; then the ratios staticpod / peer against the targets (≤ 0.5× parallel-ssh,
// ≤ 0.05× Ansible, ≤ 12 ms of staticpod CPU per node), and floor / parallel-ssh.
//
//   node --import tsx bench/fleet-peers.ts [--nodes 50] [--runs 5] [--no-ansible]
//
// Needs root (sandbox nodes) and the Debian packages pssh and ansible (installed by the script
// when they are missing: apt-get install pssh ansible). Ansible takes about a minute per run.
import {
  mkdirSync, readdirSync, readFileSync, writeFileSync,
} from 'node:fs'
import path from 'node:path'

import {
  failure, figures, type Fleet, header, kept, loadAverage, MANIFEST_DIR, measure, type Measured, median, openFleet, option, root, row,
  saveResult, staticpodArgv, type ToolFigures, verdict, webManifest,
} from './fleet-common.js'

const TARGET_PSSH = 0.5
const TARGET_ANSIBLE = 0.05
const TARGET_CPU_MS = 12

const nodes = option('nodes', 50)
const runs = option('runs', 5)
const withAnsible = !process.argv.includes('--no-ansible')
let revisions = 0
let ansibleRuns = 0

interface Tool {
  /** Checks what the run produced; throws when the tool did not do the job. */
  check(run: Measured, revision: string): void
  /** A reference measurement (the ssh2 floor), not a peer: no target ratio of staticpod against it. */
  floor?: true
  label: string
  run(revision: string): Promise<Measured>
}

/** argv of the ssh2 floor (bench/ssh2-floor.js). */
function floor(...args: string[]): string[] {
  return [process.execPath, path.join(root, 'bench', 'ssh2-floor.js'), ...args]
}

/** Processes still holding this ControlPath directory: Ansible's ControlPersist masters of one run. */
function stopMasters(controlDir: string): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(controlDir)) process.kill(Number(entry), 'SIGTERM')
    } catch {
      // gone
    }
  }
}

function tools(fleet: Fleet, command: 'add' | 'ls'): Tool[] {
  const p = String(nodes)
  const pssh = ['parallel-ssh', '-p', p, '-t', '0', '-h', fleet.hostsFile, '-x', `-F ${fleet.sshConfig}`]
  const floorCheck = (label: string) => (run: Measured): void => {
    const done = readFileSync(run.stdoutFile, 'utf8').split('\n').filter(line => / exit 0 \d+ bytes$/.test(line)).length
    if (run.exit !== 0 || done !== nodes) throw failure(`${label} (${done} of ${nodes} nodes done)`, run)
  }

  const ansible = async (label: string, args: string[]): Promise<Measured> => {
    // A fresh ControlPath directory per run: every tool starts without connections; Ansible keeps
    // its defaults otherwise (ControlMaster=auto, ControlPersist=60s, no pipelining).
    const controlDir = path.join(fleet.work, `ansible-cp-${ansibleRuns++}`)
    mkdirSync(controlDir)
    return measure(fleet, label, ['ansible', 'all', '-i', fleet.ansibleInventory, '-f', p, ...args], {
      // Before the nodes' CPU is read: their sessions are accounted when they end.
      afterExit: () => stopMasters(controlDir),
      env: {
        ...fleet.env,
        ANSIBLE_HOME: path.join(fleet.work, 'ansible-home'),
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
      },
    })
  }

  const ansibleCheck = (label: string) => (run: Measured): void => {
    const done = readFileSync(run.stdoutFile, 'utf8').split('\n').filter(line => / \| (?:CHANGED|SUCCESS)\b/.test(line)).length
    if (run.exit !== 0 || done !== nodes) throw failure(`${label} (${done} of ${nodes} nodes done)`, run)
  }

  if (command === 'ls') {
    const cat = `cat ${MANIFEST_DIR}/*`
    let out = 0
    return [
      {
        check(run) {
          if (run.exit !== 0) throw failure('staticpod ls', run)
          const rows = JSON.parse(readFileSync(run.stdoutFile, 'utf8')) as Array<{node: string}>
          const answered = new Set(rows.map(entry => entry.node)).size
          if (answered !== nodes) throw failure(`staticpod ls (${answered} of ${nodes} nodes listed)`, run)
        },
        label: 'staticpod ls all --json',
        run: async () => measure(fleet, 'staticpod-ls', staticpodArgv('ls', 'all', '--json'), {env: fleet.env}),
      },
      {
        check(run) {
          if (run.exit !== 0) throw failure('parallel-ssh cat', run)
        },
        label: `parallel-ssh -p ${p} cat`,
        run: async () => measure(fleet, 'pssh-ls', [...pssh, '-o', path.join(fleet.work, `pssh-out-${out++}`), cat], {env: fleet.env}),
      },
      {
        check: floorCheck('ssh2 floor cat'),
        floor: true,
        label: 'ssh2 floor: exec cat',
        run: async () => measure(fleet, 'floor-ls', floor(fleet.sshConfig, fleet.hostsFile, cat), {env: fleet.env}),
      },
      ...(withAnsible
        ? [{check: ansibleCheck('ansible shell'), label: `ansible -f ${p} -m shell`, run: async () => ansible('ansible-ls', ['-m', 'shell', '-a', cat])}]
        : []),
    ]
  }

  const file = (revision: string): string => path.join(fleet.work, revision, 'web.yaml')
  const target = `${MANIFEST_DIR}/web.yaml`
  const checkNodes = (label: string) => (run: Measured, revision: string): void => {
    if (run.exit !== 0) throw failure(label, run)
    const want = webManifest(revision)
    const wrong = fleet.sandbox.nodes.filter(node => {
      try {
        return readFileSync(path.join(node.root, target), 'utf8') !== want
      } catch {
        return true
      }
    })
    if (wrong.length > 0) throw failure(`${label}: ${wrong.length} nodes do not hold revision ${revision} (${wrong[0]!.name}, ...)`, run)
  }

  const write = `sh -c 'cat > ${MANIFEST_DIR}/.web.yaml.tmp && mv ${MANIFEST_DIR}/.web.yaml.tmp ${target}'`
  return [
    {
      check: checkNodes('staticpod add'),
      label: 'staticpod add all web.yaml',
      run: async revision => measure(fleet, 'staticpod-add', staticpodArgv('add', 'all', file(revision)), {env: fleet.env}),
    },
    {
      check: checkNodes('parallel-ssh cat > tmp && mv'),
      label: `parallel-ssh -p ${p} cat>tmp+mv`,
      run: async revision => measure(fleet, 'pssh-add', [...pssh, '-I', write], {env: fleet.env, input: file(revision)}),
    },
    {
      check(run: Measured, revision: string) {
        floorCheck('ssh2 floor cat > tmp && mv')(run)
        checkNodes('ssh2 floor cat > tmp && mv')(run, revision)
      },
      floor: true,
      label: 'ssh2 floor: exec cat>tmp+mv',
      run: async revision => measure(fleet, 'floor-add', floor('--stdin', fleet.sshConfig, fleet.hostsFile, write), {env: fleet.env, input: file(revision)}),
    },
    ...(withAnsible
      ? [{
        check(run: Measured, revision: string) {
          ansibleCheck('ansible copy')(run)
          checkNodes('ansible copy')(run, revision)
        },
        label: `ansible -f ${p} -m copy`,
        run: async (revision: string) => ansible('ansible-add', ['-m', 'copy', '-a', `src=${file(revision)} dest=${target} mode=0600`]),
      }]
      : []),
  ]
}

async function compare(fleet: Fleet, command: 'add' | 'ls'): Promise<Record<string, ToolFigures>> {
  const list = tools(fleet, command)
  const nextRevision = (): string => {
    const revision = `${command}-${++revisions}`
    mkdirSync(path.join(fleet.work, revision))
    writeFileSync(path.join(fleet.work, revision, 'web.yaml'), webManifest(revision))
    return revision
  }

  // One untimed run of each: caches, Python bytecode, and for add the first copy of web.yaml.
  for (const tool of list) {
    const revision = nextRevision()
    // eslint-disable-next-line no-await-in-loop -- one tool at a time, never two on the nodes at once
    tool.check(await tool.run(revision), revision)
  }

  const results = new Map<Tool, Measured[]>(list.map(tool => [tool, []]))
  const loadBefore = loadAverage()
  for (let i = 0; i < runs; i++) {
    const order = [...list.slice(i % list.length), ...list.slice(0, i % list.length)]
    for (const tool of order) {
      const revision = nextRevision()
      // eslint-disable-next-line no-await-in-loop -- alternating runs, one tool at a time
      const run = await tool.run(revision)
      tool.check(run, revision)
      results.get(tool)!.push(run)
      process.stderr.write(`  ${command} run ${i + 1}/${runs} ${tool.label}: ${(run.wallMs / 1000).toFixed(2)} s\n`)
    }
  }

  const byLabel: Record<string, ToolFigures> = {}
  for (const [tool, measured] of results) byLabel[tool.label] = figures(measured, nodes, median)
  const width = Math.max(...list.map(tool => tool.label.length))
  console.log(`\n${command} on ${nodes} nodes (${fleet.manifests} manifests), median of ${runs} alternating runs; load average ${loadBefore} before, ${loadAverage()} after`)
  console.log(header(width))
  for (const tool of list) console.log(row(tool.label, byLabel[tool.label]!, width))
  const [ours, pssh, ansible] = list.filter(tool => !tool.floor).map(tool => byLabel[tool.label]!)
  for (const [peer, name, target] of [[pssh, 'parallel-ssh', TARGET_PSSH], [ansible, 'ansible', TARGET_ANSIBLE]] as const) {
    if (!peer) continue
    const ratio = ours!.wallMs / peer.wallMs
    console.log(`  staticpod / ${name}: ${ratio.toFixed(3)}× wall (target ≤ ${target}×: ${verdict(ratio <= target)})`)
  }

  console.log(`  staticpod CPU: ${ours!.cpuMsPerNode.toFixed(1)} ms per node (target ≤ ${TARGET_CPU_MS} ms: ${verdict(ours!.cpuMsPerNode <= TARGET_CPU_MS)})`)
  const floorFigures = byLabel[list.find(tool => tool.floor)!.label]!
  const floorRatio = `${(floorFigures.wallMs / pssh!.wallMs).toFixed(3)}× wall, ${floorFigures.cpuMsPerNode.toFixed(1)} ms CPU per node`
  console.log(`  floor / parallel-ssh: ${floorRatio} (reference: bare ssh2 connect + exec + read, no host key check, nothing else)`)
  return byLabel
}

async function main(): Promise<number> {
  const fleet = await openFleet('fleet-peers', {nodes, peers: true, runs})
  if (!fleet) return 2
  try {
    const ls = await compare(fleet, 'ls')
    const add = await compare(fleet, 'add')
    const strip = (byLabel: Record<string, ToolFigures>) => Object.fromEntries(Object.entries(byLabel).map(([label, tool]) => [label, kept(tool)]))
    const saved = saveResult('fleet-peers', {
      add: strip(add), load: loadAverage(), ls: strip(ls), nodes, runs,
    })
    console.log(`\n(all timings in ${saved})`)
    return 0
  } finally {
    await fleet.stop()
  }
}

process.exitCode = await main()
