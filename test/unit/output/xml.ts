/**
 * A small, strict XML 1.0 reader for tests: enough to read JUnit reports back the way a CI server
 * would, and to fail on anything that is not well-formed (mismatched tags, raw `<` or `&`, characters
 * XML 1.0 forbids, unknown entities). No DTDs, no CDATA, no namespaces: the writers use none.
 */

export interface XmlElement {
  attributes: Record<string, string>
  children: XmlElement[]
  name: string
  /** Character data directly inside this element, references decoded. */
  text: string
}

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const NAME = /^[A-Za-z_:][\w.:-]*/
const ENTITIES: Record<string, string> = {
  amp: '&', apos: "'", gt: '>', lt: '<', quot: '"',
}

export function parseXml(source: string): XmlElement {
  const bad = FORBIDDEN.exec(source)
  if (bad) throw new Error(`character U+${(bad[0].codePointAt(0) ?? 0).toString(16)} is not allowed in XML 1.0 (offset ${bad.index})`)
  // XML 1.0 §2.11: line ends are normalised before parsing.
  const xml = source.replaceAll(/\r\n?/g, '\n')
  let pos = 0

  const fail = (why: string): never => {
    throw new Error(`${why} at offset ${pos}: ${JSON.stringify(xml.slice(pos, pos + 40))}`)
  }

  const skipSpace = () => {
    while (pos < xml.length && ' \t\n'.includes(xml[pos] ?? '')) pos++
  }

  const name = (): string => {
    const match = NAME.exec(xml.slice(pos))
    if (!match) fail('expected a name')
    pos += match?.[0].length ?? 0
    return match?.[0] ?? ''
  }

  const decode = (raw: string): string => {
    if (raw.includes('<')) fail('raw < in character data')
    return raw.replaceAll(/&([^;]*);?/g, (whole, ref: string) => {
      if (!whole.endsWith(';')) fail('& that starts no reference')
      if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16))
      if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10))
      const entity = ENTITIES[ref]
      if (entity === undefined) fail(`unknown entity &${ref};`)
      return entity ?? ''
    })
  }

  const element = (): XmlElement => {
    if (xml[pos] !== '<') fail('expected <')
    pos++
    const node: XmlElement = {
      attributes: {}, children: [], name: name(), text: '',
    }
    for (;;) {
      skipSpace()
      if (xml.startsWith('/>', pos)) {
        pos += 2
        return node
      }

      if (xml[pos] === '>') {
        pos++
        break
      }

      const attribute = name()
      skipSpace()
      if (xml[pos] !== '=') fail('expected =')
      pos++
      skipSpace()
      const quote = xml[pos]
      if (quote !== '"' && quote !== "'") fail('expected a quoted value')
      const end = xml.indexOf(quote ?? '"', pos + 1)
      if (end === -1) fail('unterminated attribute value')
      if (Object.hasOwn(node.attributes, attribute)) fail(`duplicate attribute ${attribute}`)
      // §3.3.3: literal whitespace in a value becomes a space; character references survive.
      node.attributes[attribute] = decode(xml.slice(pos + 1, end).replaceAll(/[\t\n]/g, ' '))
      pos = end + 1
    }

    for (;;) {
      const next = xml.indexOf('<', pos)
      if (next === -1) fail(`unclosed <${node.name}>`)
      node.text += decode(xml.slice(pos, next))
      pos = next
      if (xml.startsWith('</', pos)) {
        pos += 2
        const closing = name()
        if (closing !== node.name) fail(`</${closing}> closes <${node.name}>`)
        skipSpace()
        if (xml[pos] !== '>') fail('expected >')
        pos++
        return node
      }

      node.children.push(element())
    }
  }

  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>')
    if (end === -1) fail('unterminated XML declaration')
    pos = end + 2
  }

  skipSpace()
  const root = element()
  skipSpace()
  if (pos !== xml.length) fail('content after the root element')
  return root
}

export function childrenNamed(node: XmlElement, name: string): XmlElement[] {
  return node.children.filter(child => child.name === name)
}
