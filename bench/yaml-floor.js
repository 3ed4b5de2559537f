#!/usr/bin/env node
// A floor for bench/validate-throughput.js, not part of staticpod: a bare Node process that reads
// every file of a directory (readFileSync) and decodes each with a YAML library's default load
// (js-yaml's load with its default schema, staticpod's one YAML library; or the `yaml` package's
// parse), and does nothing else: no staticpod code, no schema, no checks, no output but its timings.
// What validate does per document can only cost more than this.
//
//   node bench/yaml-floor.js js-yaml|yaml DIR
//
// Prints one JSON line: {documents, importMs, readMs, decodeMs}, timed inside the process (the
// library's import, reading all files, decoding all of them; the process's start-up is not in them).
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

const [library, dir] = process.argv.slice(2)
if ((library !== 'js-yaml' && library !== 'yaml') || !dir) throw new Error('usage: node bench/yaml-floor.js js-yaml|yaml DIR')

const ms = (from, to) => Number(to - from) / 1e6
const t0 = process.hrtime.bigint()
const decode = library === 'yaml' ? (await import('yaml')).parse : (await import('js-yaml')).load
const t1 = process.hrtime.bigint()
const texts = readdirSync(dir).sort().map(name => readFileSync(path.join(dir, name), 'utf8'))
const t2 = process.hrtime.bigint()
let documents = 0
for (const text of texts) {
  if (typeof decode(text) === 'object') documents++
}

const t3 = process.hrtime.bigint()
console.log(JSON.stringify({
  decodeMs: ms(t2, t3), documents, importMs: ms(t0, t1), readMs: ms(t1, t2),
}))
