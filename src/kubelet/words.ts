/**
 * Word splitting and quoting the way systemd does it (`extract_first_word` in src/basic/extract-word.c):
 * words are separated by whitespace; `'…'` and `"…"` quote (both may appear anywhere in a word and
 * are removed); a backslash escapes the next character, inside quotes too. With `cunescape` (unit
 * files: ExecStart=, Environment=) backslash sequences are C escapes (`\n`, `\x41`, `\s` …).
 *
 * Two places use it:
 * - `$VAR` standing alone in ExecStart= is split into words with quotes removed (no C escapes);
 * - the values of ExecStart=, Environment= in unit files are split with C escapes.
 */

export interface Word {
  /** Offset just past the word's last character in the input. */
  end: number
  /** Offset of the word's first character in the input. */
  start: number
  /** The word with quotes removed and escapes resolved. */
  text: string
}

export interface SplitResult {
  /** Set when quoting was unbalanced or an escape ran off the end (systemd then rejects the line, or relaxes). */
  error?: string
  words: Word[]
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r'])

export interface SplitOptions {
  /** Resolve C escapes (`\n`, `\t`, `\xHH`, `\NNN`, `\uXXXX`, `\s` …) as unit files do. */
  cunescape?: boolean
  /** Accept unbalanced quotes and a trailing backslash (systemd's EXTRACT_RELAX). */
  relax?: boolean
}

/** Split `input` into words. Never throws: problems are reported in `error`. */
export function splitWords(input: string, options: SplitOptions = {}): SplitResult {
  const words: Word[] = []
  let i = 0
  const n = input.length
  while (i < n) {
    while (i < n && WHITESPACE.has(input[i]!)) i++
    if (i >= n) break
    const start = i
    let text = ''
    let quote = ''
    for (;;) {
      if (i >= n) {
        if (quote && !options.relax) return {error: `unbalanced quoting in: ${input}`, words}
        break
      }

      const c = input[i]!
      if (c === '\\') {
        if (i + 1 >= n) {
          if (!options.relax) return {error: `trailing backslash in: ${input}`, words}
          i++
          break
        }

        if (options.cunescape) {
          const [decoded, length] = cunescapeOne(input, i + 1)
          text += decoded
          i += 1 + length
        } else {
          text += input[i + 1]
          i += 2
        }

        continue
      }

      if (quote) {
        if (c === quote) quote = ''
        else text += c
        i++
        continue
      }

      if (c === '"' || c === "'") {
        quote = c
        i++
        continue
      }

      if (WHITESPACE.has(c)) break
      text += c
      i++
    }

    words.push({end: i, start, text})
  }

  return {words}
}

/**
 * One C escape after a backslash at `at`: returns the decoded text and how many characters it used.
 * Unknown escapes are kept verbatim with their backslash (systemd's EXTRACT_CUNESCAPE_RELAX, which
 * it falls back to with a warning).
 */
function cunescapeOne(input: string, at: number): [string, number] {
  const c = input[at]!
  const simple: Record<string, string> = {
    '"': '"', "'": "'", '\\': '\\', a: '\u0007', b: '\b', f: '\f', n: '\n', r: '\r', s: ' ', t: '\t', v: '\v',
  }
  if (c in simple) return [simple[c]!, 1]
  const hex = (len: number, from: number): string | undefined => {
    const digits = input.slice(from, from + len)
    return digits.length === len && /^[\da-f]+$/i.test(digits) ? digits : undefined
  }

  if (c === 'x') {
    const h = hex(2, at + 1)
    if (h) return [String.fromCodePoint(Number.parseInt(h, 16)), 3]
  }

  if (c === 'u') {
    const h = hex(4, at + 1)
    if (h) return [String.fromCodePoint(Number.parseInt(h, 16)), 5]
  }

  if (c === 'U') {
    const h = hex(8, at + 1)
    if (h && Number.parseInt(h, 16) <= 0x10_FF_FF) return [String.fromCodePoint(Number.parseInt(h, 16)), 9]
  }

  if (/[0-7]/.test(c)) {
    const digits = input.slice(at, at + 3)
    if (/^[0-7]{3}$/.test(digits)) return [String.fromCodePoint(Number.parseInt(digits, 8)), 3]
  }

  return ['\\' + c, 1]
}

const SAFE = /^[\w%+,./:=@-]+$/

/**
 * Quote one word so that {@link splitWords} (without C escapes) gives it back unchanged: as is when it
 * needs nothing, else in single quotes (or double quotes when `prefer` says so), with `\` and the
 * quote character escaped by a backslash.
 */
export function quoteWord(word: string, prefer: "'" | '"' = "'"): string {
  if (word !== '' && SAFE.test(word)) return word
  const q = prefer
  return q + word.replaceAll(/[\\"']/g, ch => (ch === '\\' || ch === q ? '\\' + ch : ch)) + q
}

/** Quote `--name=value` as `--name=<quoted value>` (the flag name never needs quoting). */
export function quoteFlag(prefix: string, value: string, prefer: "'" | '"' = "'"): string {
  return prefix + (value === '' ? '' : quoteWord(value, prefer))
}
