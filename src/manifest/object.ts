/** Small, typed accessors for walking decoded manifests, whose shape is not trusted. */

import {splitPointer} from './pointer.js'

export type Obj = Record<string, unknown>

export function asObject(value: unknown): Obj | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : undefined
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** Each object of an array field, with its JSON pointer. Non-objects are left to the schema check. */
export function * eachObject(parent: Obj | undefined, key: string, base: string): Generator<[Obj, string]> {
  if (!parent) return
  for (const [i, item] of asArray(parent[key]).entries()) {
    const obj = asObject(item)
    if (obj) yield [obj, `${base}/${key}/${i}`]
  }
}

export interface ContainerRef {
  container: Obj
  /** 'containers' | 'initContainers' | 'ephemeralContainers' */
  list: string
  path: string
}

/** All containers of a pod spec: init containers, containers and ephemeral containers. */
export function * eachContainer(spec: Obj | undefined): Generator<ContainerRef> {
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const [container, path] of eachObject(spec, list, '/spec')) yield {container, list, path}
  }
}

/**
 * The value without null-valued object fields: the API decodes `field: null` (and `field:` with
 * nothing after it in YAML) as unset, so neither the schema nor the rules should see them. Copies
 * only what changes; a manifest without nulls comes back as it is.
 */
export function withoutNulls(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || PRUNED.has(value)) return value
  const pruned = prune(value)
  PRUNED.add(pruned as object)
  return pruned
}

/** Values withoutNulls() returned: a document is pruned for the rules, then again by the schema check. */
const PRUNED = new WeakSet<object>()

function prune(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    let out: undefined | unknown[]
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      const pruned = prune(item)
      if (pruned !== item) (out ??= [...value])[i] = pruned
    }

    return out ?? value
  }

  // Every document goes through here: a for-in loop allocates nothing, Object.entries() an array per field.
  let out: Obj | undefined
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue
    const field = (value as Obj)[key]
    if (field === null) {
      out ??= {...value}
      delete out[key]
      continue
    }

    const pruned = prune(field)
    if (pruned !== field) (out ??= {...value})[key] = pruned
  }

  return out ?? value
}

/** The value a JSON pointer names, or undefined. */
export function valueAt(root: unknown, pointer: string): unknown {
  let node: unknown = root
  for (const segment of splitPointer(pointer)) {
    if (Array.isArray(node)) node = node[Number(segment)]
    else if (node !== null && typeof node === 'object') node = (node as Obj)[segment]
    else return undefined
  }

  return node
}
