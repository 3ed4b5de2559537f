/**
 * A plain column formatter for human output: left/right aligned columns, two spaces apart, widths
 * from the visible text (colour codes do not count), no trailing spaces. No borders.
 */
import {stripVTControlCharacters} from 'node:util'

export interface Column<Row> {
  align?: 'left' | 'right'
  /** Shown uppercase, like kubectl. */
  header: string
  /** Optional styling (e.g. colour) applied after padding is computed. */
  style?: (text: string, row: Row) => string
  value: (row: Row) => string
}

export interface TableOptions {
  /** Apply the columns' styles (default true). */
  color?: boolean
  /** Spaces between columns (default 2). */
  gap?: number
  /** Print the header line (default true). */
  header?: boolean
}

/** Visible width: ANSI colour codes are zero-wide, wide East Asian characters and emoji count two. */
export function visibleWidth(text: string): number {
  let width = 0
  for (const char of stripVTControlCharacters(text)) {
    const code = char.codePointAt(0) ?? 0
    width += isWide(code) ? 2 : 1
  }

  return width
}

/** The table as text, one line per row, ending without a newline. */
export function formatTable<Row>(rows: readonly Row[], columns: ReadonlyArray<Column<Row>>, options: TableOptions = {}): string {
  const gap = ' '.repeat(options.gap ?? 2)
  const cells = rows.map(row => columns.map(column => column.value(row)))
  const showHeader = options.header ?? true
  const widths = columns.map((column, index) =>
    Math.max(showHeader ? visibleWidth(column.header) : 0, ...cells.map(line => visibleWidth(line[index] ?? ''))))
  const render = (texts: string[], row?: Row): string =>
    texts
    .map((text, index) => {
      const column = columns[index]!
      const padding = ' '.repeat(Math.max(0, widths[index]! - visibleWidth(text)))
      const styled = row !== undefined && column.style && options.color !== false ? column.style(text, row) : text
      if (column.align === 'right') return padding + styled
      return index === texts.length - 1 ? styled : styled + padding
    })
    .join(gap)
    .trimEnd()
  const lines = rows.map((row, index) => render(cells[index]!, row))
  if (showHeader) lines.unshift(render(columns.map(column => column.header.toUpperCase())))
  return lines.join('\n')
}

function isWide(code: number): boolean {
  return (
    (code >= 0x11_00 && code <= 0x11_5F)
    || (code >= 0x2E_80 && code <= 0xA4_CF && code !== 0x30_3F)
    || (code >= 0xAC_00 && code <= 0xD7_A3)
    || (code >= 0xF9_00 && code <= 0xFA_FF)
    || (code >= 0xFE_30 && code <= 0xFE_4F)
    || (code >= 0xFF_00 && code <= 0xFF_60)
    || (code >= 0xFF_E0 && code <= 0xFF_E6)
    || (code >= 0x1_F3_00 && code <= 0x1_F6_4F)
    || (code >= 0x1_F9_00 && code <= 0x1_F9_FF)
    || (code >= 0x2_00_00 && code <= 0x3_FF_FD)
  )
}
