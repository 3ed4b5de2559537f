/** JSON pointers (RFC 6901), the way findings name fields. */

export function escapeSegment(segment: number | string): string {
  return String(segment).replaceAll('~', '~0').replaceAll('/', '~1')
}

export function splitPointer(pointer: string): string[] {
  if (pointer === '') return []
  return pointer
  .slice(1)
  .split('/')
  .map(s => s.replaceAll('~1', '/').replaceAll('~0', '~'))
}

export function joinPointer(segments: Array<number | string>): string {
  return segments.map(s => '/' + escapeSegment(s)).join('')
}
