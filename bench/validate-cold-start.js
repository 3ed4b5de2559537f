#!/usr/bin/env node
// Cold start: `node bin/run.js validate examples/static-web.yaml` against a bare `node -e 0`, each in
// a fresh process, alternating so that both see the same machine load. Prints both medians and the
// ratio; the target is at most 1.5x (pre-commit runs the CLI on every commit).
//
//   node bench/validate-cold-start.js [runs]      (default 21, at least 15)
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'

import {
  benchEnv, cpuMs, describeLoad, machineLoad, median, missingCli, root, runJs, saveResult,
} from './common.js'

const TARGET = 1.5
const runs = Math.max(15, Number(process.argv[2] ?? 21) || 21)
const example = path.join('examples', 'static-web.yaml')

function timed(args) {
  const start = process.hrtime.bigint()
  const child = spawnSync(process.execPath, args, {cwd: root, encoding: 'utf8', env: benchEnv()})
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  return {child, ms}
}

function main() {
  const missing = missingCli() ?? (existsSync(path.join(root, example)) ? undefined : `${example} does not exist.`)
  if (missing) {
    console.error(`validate-cold-start: cannot run: ${missing}`)
    return 2
  }

  const validateArgs = [runJs, 'validate', example]
  // One untimed run of each fills the file cache; validate must succeed (0) or find problems (1).
  const first = timed(validateArgs).child
  if (first.status !== 0 && first.status !== 1) {
    console.error(`validate-cold-start: \`node bin/run.js validate ${example}\` failed (exit ${first.status ?? first.signal}):\n${first.stderr}`)
    return 2
  }

  if (first.status === 1) console.error(`note: ${example} is reported invalid; timing it anyway:\n${first.stdout}`)
  timed(['-e', '0'])

  const loadAtStart = machineLoad()
  const bare = []
  const cli = []
  for (let i = 0; i < runs; i++) {
    bare.push(timed(['-e', '0']).ms)
    const run = timed(validateArgs)
    if (run.child.status !== first.status) {
      console.error(`validate-cold-start: exit status changed between runs (${first.status} then ${run.child.status}):\n${run.child.stderr}`)
      return 2
    }

    cli.push(run.ms)
  }

  // CPU time, in runs of its own (alternating too), where perf is there.
  const bareCpu = []
  const cliCpu = []
  for (let i = 0; i < runs; i++) {
    const bareMs = cpuMs(['-e', '0'])
    const cliMs = cpuMs(validateArgs)
    if (bareMs === undefined || cliMs === undefined) break
    bareCpu.push(bareMs)
    cliCpu.push(cliMs)
  }

  const load = describeLoad(loadAtStart, machineLoad())
  const bareMedian = median(bare)
  const cliMedian = median(cli)
  const ratio = cliMedian / bareMedian
  const verdict = ratio <= TARGET ? 'within' : 'OVER'
  console.log(`cold start, median of ${runs} alternating runs each (node ${process.version})`)
  console.log(`  ${load}`)
  const label = `node bin/run.js validate ${example}`
  const row = (name, values, middle) => `  ${name.padEnd(label.length)}  ${middle.toFixed(1).padStart(7)} ms  (min ${Math.min(...values).toFixed(1)})`
  console.log(row('node -e 0', bare, bareMedian))
  console.log(row(label, cli, cliMedian))
  console.log(`  ratio ${ratio.toFixed(2)}x: ${verdict} the ${TARGET}x target (+${(cliMedian - bareMedian).toFixed(1)} ms over bare node)`)
  let cpu
  if (cliCpu.length > 0) {
    cpu = {bareMedianMs: median(bareCpu), cliMedianMs: median(cliCpu), ratio: median(cliCpu) / median(bareCpu)}
    console.log(`  CPU time (perf task-clock, ${cliCpu.length} more runs each): ${cpu.bareMedianMs.toFixed(1)} ms vs ${cpu.cliMedianMs.toFixed(1)} ms, ratio ${cpu.ratio.toFixed(2)}x`)
  }

  const saved = saveResult('validate-cold-start', {
    bareMedianMs: bareMedian, bareMs: bare, cliMedianMs: cliMedian, cliMs: cli, cpu, load, ratio, runs, target: TARGET,
  })
  console.log(`  (all timings in ${saved})`)
  return 0
}

process.exitCode = main()
