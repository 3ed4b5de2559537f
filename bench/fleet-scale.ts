// How `staticpod ls` scales: on one sandbox of 500 nodes (3 to 5 manifests each), `staticpod ls all
// --json` against `staticpod ls <the first 50 nodes> --json`, run after run in turn, median of the
// runs. Prints wall time, CPU per node and peak RSS of the staticpod process for both, and the ratio
// against the targets: 500 nodes in at most 11× the time of 50, peak RSS at most 250 MB.
//
//   node --import tsx bench/fleet-scale.ts [--nodes 500] [--base 50] [--runs 5]
//
// Needs root (sandbox nodes). Starting 500 nodes takes a few minutes on a small machine.
import {readFileSync} from 'node:fs'

import {
  failure, figures, header, kept, loadAverage, measure, type Measured, median, openFleet, option, row, saveResult, staticpodArgv, verdict,
} from './fleet-common.js'

const TARGET_RATIO = 11
const TARGET_RSS_MB = 250

const nodes = option('nodes', 500)
const base = Math.min(nodes, option('base', 50))
const runs = option('runs', 5)

async function main(): Promise<number> {
  const fleet = await openFleet('fleet-scale', {nodes, peers: false, runs})
  if (!fleet) return 2
  try {
    const some = fleet.sandbox.nodes.slice(0, base).map(node => node.name).join(',')
    const kinds = [
      {count: nodes, label: `staticpod ls all --json (${nodes})`, spec: 'all'},
      {count: base, label: `staticpod ls <${base} nodes> --json`, spec: some},
    ]
    const check = (run: Measured, count: number): void => {
      if (run.exit !== 0) throw failure('staticpod ls', run)
      const listed = new Set((JSON.parse(readFileSync(run.stdoutFile, 'utf8')) as Array<{node: string}>).map(entry => entry.node)).size
      if (listed !== count) throw failure(`staticpod ls (${listed} of ${count} nodes listed)`, run)
    }

    // One untimed run of each.
    for (const kind of kinds) {
      // eslint-disable-next-line no-await-in-loop -- one at a time
      check(await measure(fleet, 'warm-up', staticpodArgv('ls', kind.spec, '--json'), {env: fleet.env}), kind.count)
    }

    const results = kinds.map(() => [] as Measured[])
    const loadBefore = loadAverage()
    for (let i = 0; i < runs; i++) {
      for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const kind = kinds[k]!
        // eslint-disable-next-line no-await-in-loop -- alternating runs, one at a time
        const run = await measure(fleet, `ls-${kind.count}`, staticpodArgv('ls', kind.spec, '--json'), {env: fleet.env})
        check(run, kind.count)
        results[k]!.push(run)
        process.stderr.write(`  run ${i + 1}/${runs} ${kind.label}: ${(run.wallMs / 1000).toFixed(2)} s, ${(run.peakRssKiB / 1024).toFixed(0)} MiB\n`)
      }
    }

    const [all, some50] = kinds.map((kind, k) => figures(results[k]!, kind.count, median)) as [ReturnType<typeof figures>, ReturnType<typeof figures>]
    const width = Math.max(...kinds.map(kind => kind.label.length))
    console.log(`\nls on ${nodes} nodes (${fleet.manifests} manifests) and on ${base} of them, median of ${runs} alternating runs; load average ${loadBefore} before, ${loadAverage()} after`)
    console.log(header(width))
    console.log(row(kinds[0]!.label, all, width))
    console.log(row(kinds[1]!.label, some50, width))
    const ratio = all.wallMs / some50.wallMs
    console.log(`  ${nodes} / ${base} nodes: ${ratio.toFixed(2)}× wall (target ≤ ${TARGET_RATIO}×: ${verdict(ratio <= TARGET_RATIO)})`)
    const rssMB = (all.peakRssMiB * 1024 * 1024) / 1e6
    console.log(`  peak RSS at ${nodes} nodes: ${rssMB.toFixed(0)} MB (target ≤ ${TARGET_RSS_MB} MB: ${verdict(rssMB <= TARGET_RSS_MB)})`)
    const saved = saveResult('fleet-scale', {
      all: kept(all), base, load: loadAverage(), nodes, ratio, runs, some: kept(some50),
    })
    console.log(`\n(all timings in ${saved})`)
    return 0
  } finally {
    await fleet.stop()
  }
}

process.exitCode = await main()
