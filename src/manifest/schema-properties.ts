import {splitPointer} from './pointer.js'

/**
 * The property names a JSON schema allows at an instance path, for "did you mean" suggestions. Works
 * on our generated schema and on user schemas (definitions or OpenAPI components, $ref, allOf/anyOf/
 * oneOf, items, additionalProperties).
 */
type SchemaNode = Record<string, unknown>

export function propertiesAt(root: SchemaNode, instancePath: string): string[] {
  let nodes = [root]
  for (const segment of splitPointer(instancePath)) {
    nodes = nodes.flatMap(n => expand(root, n)).flatMap(n => child(n, segment))
    if (nodes.length === 0) return []
  }

  const names = new Set<string>()
  for (const node of nodes.flatMap(n => expand(root, n))) {
    const props = object(node.properties)
    if (props) for (const name of Object.keys(props)) names.add(name)
  }

  return [...names]
}

/** The node itself, with $ref followed and allOf/anyOf/oneOf branches flattened. */
function expand(root: SchemaNode, node: SchemaNode, depth = 0): SchemaNode[] {
  if (depth > 32) return []
  const out: SchemaNode[] = []
  const ref = typeof node.$ref === 'string' ? resolveRef(root, node.$ref) : undefined
  if (ref) out.push(...expand(root, ref, depth + 1))
  else out.push(node)
  for (const key of ['allOf', 'anyOf', 'oneOf']) {
    const branches = node[key]
    if (!Array.isArray(branches)) continue
    for (const branch of branches) {
      const b = object(branch)
      if (b) out.push(...expand(root, b, depth + 1))
    }
  }

  return out
}

function child(node: SchemaNode, segment: string): SchemaNode[] {
  const props = object(node.properties)
  const prop = props ? object(props[segment]) : undefined
  if (prop) return [prop]
  if (/^\d+$/.test(segment)) {
    const items = object(node.items)
    if (items) return [items]
  }

  const additional = object(node.additionalProperties)
  return additional ? [additional] : []
}

function resolveRef(root: SchemaNode, ref: string): SchemaNode | undefined {
  if (!ref.startsWith('#')) return undefined
  let node: unknown = root
  for (const segment of splitPointer(ref.slice(1))) {
    node = object(node)?.[segment]
  }

  return object(node)
}

function object(value: unknown): SchemaNode | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as SchemaNode) : undefined
}
