import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures')
export const ROOT = path.resolve(FIXTURES, '../..')

/** What a fixture says it expects, from its `# expect: RULE PATH LINE:COL [SEVERITY]` lines. */
export interface Expectation {
  column: number
  line: number
  path: string
  rule: string
  severity: 'error' | 'warning'
}

const EXPECT = /^# expect: (\S+) (.*) (\d+):(\d+)(?: (error|warning))?$/

export function expectations(text: string): Expectation[] {
  const out: Expectation[] = []
  for (const line of text.split('\n')) {
    const m = EXPECT.exec(line)
    if (m) out.push({
      column: Number(m[4]), line: Number(m[3]), path: m[2]!, rule: m[1]!, severity: (m[5] ?? 'error') as 'error' | 'warning',
    })
  }

  return out
}

/** Rules a valid fixture says it exercises without tripping them (`# passes: RULE RULE …`). */
export function passes(text: string): string[] {
  return text
  .split('\n')
  .filter(l => l.startsWith('# passes: '))
  .flatMap(l => l.slice('# passes: '.length).trim().split(/\s+/))
}

export function fixtureFiles(dir: string): Array<{file: string; name: string; text: string}> {
  const full = path.join(FIXTURES, dir)
  return readdirSync(full)
  .filter(name => !name.startsWith('.'))
  .sort()
  .map(name => ({file: path.join(full, name), name, text: readFileSync(path.join(full, name), 'utf8')}))
}
