import {expect} from 'chai'

import {formatTable, visibleWidth} from '../../../src/output/table.js'

describe('table', () => {
  const rows = [
    {name: 'node1', rtt: '3ms', status: 'ok'},
    {name: 'a-much-longer-node', rtt: '120ms', status: 'unreachable'},
  ]
  const columns = [
    {header: 'node', value: (row: (typeof rows)[number]) => row.name},
    {align: 'right' as const, header: 'rtt', value: (row: (typeof rows)[number]) => row.rtt},
    {header: 'status', style: (text: string) => `\u001B[31m${text}\u001B[39m`, value: (row: (typeof rows)[number]) => row.status},
  ]

  it('aligns columns two spaces apart with uppercase headers and no trailing spaces', () => {
    expect(formatTable(rows, columns, {color: false})).to.equal(['NODE                  RTT  STATUS', 'node1                 3ms  ok', 'a-much-longer-node  120ms  unreachable'].join('\n'))
  })

  it('does not count colour codes or wide characters wrongly', () => {
    const colored = formatTable(rows, columns, {color: true}).split('\n')
    expect(colored[1]).to.equal('node1                 3ms  \u001B[31mok\u001B[39m')
    expect(visibleWidth('\u001B[31mok\u001B[39m')).to.equal(2)
    expect(visibleWidth('名前')).to.equal(4)
    const wide = formatTable([{name: '名前', rtt: '', status: 'x'}, ...rows], columns, {color: false, header: false}).split('\n')
    // name column 18 wide (14 spaces after 4 columns of 名前), gap, empty right-aligned rtt (5), gap
    expect(wide[0]).to.equal(`名前${' '.repeat(14 + 2 + 5 + 2)}x`)
  })
})
