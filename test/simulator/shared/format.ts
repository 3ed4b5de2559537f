// Output helpers that mimic Go tools: text/tabwriter columns and docker/go-units durations and sizes.

/**
 * Go's text/tabwriter with (minwidth, tabwidth=1, padding, ' ', 0): every cell but the last of a row is padded
 * to its column's width (widest cell + padding, at least minwidth).
 */
export function tabwrite(rows: string[][], minwidth: number, padding: number): string {
  const widths: number[] = []
  for (const row of rows) {
    for (const [i, cell] of row.entries()) {
      if (i === row.length - 1) continue
      widths[i] = Math.max(widths[i] ?? 0, minwidth, [...cell].length + padding)
    }
  }

  return rows.map(row => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! - ([...cell].length - cell.length)))).join('') + '\n').join('')
}

/** github.com/docker/go-units HumanDuration: "Less than a second", "5 seconds", "About a minute", "3 hours". */
export function unitsHumanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < 1) return 'Less than a second'
  if (seconds === 1) return '1 second'
  if (seconds < 60) return `${seconds} seconds`
  const minutes = Math.floor(ms / 60_000)
  if (minutes === 1) return 'About a minute'
  if (minutes < 60) return `${minutes} minutes`
  const hours = Math.floor((ms / 3_600_000) + 0.5)
  if (hours === 1) return 'About an hour'
  if (hours < 48) return `${hours} hours`
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`
}

/** systemd's relative time: "5s", "1min 3s", "2h 3min", "3 days 1h". */
export function systemdTimespan(ms: number): string {
  let seconds = Math.max(0, Math.floor(ms / 1000))
  if (seconds === 0) return `${Math.max(0, Math.floor(ms))}ms`
  const parts: string[] = []
  const units: [number, string][] = [
    [86_400 * 365, 'y'],
    [86_400 * 30, 'month'],
    [86_400 * 7, 'w'],
    [86_400, 'd'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's'],
  ]
  for (const [size, name] of units) {
    if (seconds >= size && parts.length < 2) {
      const n = Math.floor(seconds / size)
      parts.push(name === 'd' ? `${n} day${n === 1 ? '' : 's'}` : `${n}${name}`)
      seconds -= n * size
    }
  }

  return parts.join(' ')
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const pad = (n: number) => String(n).padStart(2, '0')

function tzName(d: Date): string {
  const offset = -d.getTimezoneOffset()
  if (offset === 0) return 'UTC'
  const sign = offset > 0 ? '+' : '-'
  return `${sign}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`
}

/** systemd's timestamp: "Sun 2026-11-29 22:01:33 UTC". */
export function systemdTimestamp(ms: number): string {
  const d = new Date(ms)
  return `${DAYS[d.getDay()]} ${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${tzName(d)}`
}

/** Go's time.Time.String() for a whole-second time: "2024-01-02 15:04:05 +0000 UTC". */
export function goTimeString(ms: number): string {
  const d = new Date(ms)
  const offset = -d.getTimezoneOffset()
  const sign = offset >= 0 ? '+' : '-'
  const numeric = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${numeric} ${offset === 0 ? 'UTC' : numeric}`
}
