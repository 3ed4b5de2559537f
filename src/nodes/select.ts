/**
 * NODES selection (docs/design.md): a comma-separated list of node names, group names, globs and
 * `all`. Pure: the caller says which nodes and groups are known.
 */
import {UserError} from '../errors.js'
import {suggest} from './inventory.js'

export interface NodeUniverse {
  /** Group name → members (node names or other groups). */
  groups: ReadonlyMap<string, readonly string[]>
  /** The known nodes, in a stable order (inventory order, else ssh config order). */
  known: readonly string[]
}

export interface Selection {
  /** Selected names, deduplicated, in the order they were asked for. */
  names: string[]
  /** Of those, the ones that are not known nodes: each must still resolve the way `ssh NAME` would. */
  unknown: string[]
}

const GLOB = /[*?[]/

/** Expand NODES; throws a usage error (exit 2) for an empty item or a glob/`all` that selects nothing. */
export function selectNodes(spec: string, universe: NodeUniverse): Selection {
  const names: string[] = []
  const unknown: string[] = []
  const add = (name: string, isKnown: boolean): void => {
    if (names.includes(name)) return
    names.push(name)
    if (!isKnown) unknown.push(name)
  }

  const items = spec.split(',').map(item => item.trim())
  if (items.includes('')) {
    throw new UserError(`invalid NODES "${spec}": empty name in the list`, {hints: ['NODES is a comma-separated list, e.g. node1,node2 or control-plane or node*.']})
  }

  for (const item of items) {
    if (item === 'all') {
      if (universe.known.length === 0) throw noKnownNodes()
      for (const name of universe.known) add(name, true)
    } else if (universe.groups.has(item)) {
      for (const name of groupMembers(item, universe.groups)) add(name, universe.known.includes(name))
    } else if (GLOB.test(item)) {
      const matcher = globToRegExp(item)
      const matched = universe.known.filter(name => matcher.test(name))
      if (matched.length === 0) {
        throw new UserError(`no known node matches "${item}"${suggestFor(item, universe)}`, {
          hints: [knownList(universe)],
        })
      }

      for (const name of matched) add(name, true)
    } else {
      add(item, universe.known.includes(item))
    }
  }

  return {names, unknown}
}

/** The nodes of a group, with nested groups expanded (cycles are rejected when the inventory loads). */
export function groupMembers(group: string, groups: ReadonlyMap<string, readonly string[]>, seen = new Set<string>()): string[] {
  if (seen.has(group)) return []
  seen.add(group)
  return (groups.get(group) ?? []).flatMap(member => (groups.has(member) ? groupMembers(member, groups, seen) : [member]))
}

/** A usage error for a name that is not known and does not resolve, with a "did you mean". */
export function unknownNodeError(name: string, universe: NodeUniverse, why: string): UserError {
  return new UserError(`unknown node or group "${name}"${suggestFor(name, universe)}: ${why}`, {hints: [knownList(universe)]})
}

function suggestFor(item: string, universe: NodeUniverse): string {
  return suggest(item.replaceAll(/[*?[\]]/g, ''), [...universe.known, ...universe.groups.keys()])
}

function knownList(universe: NodeUniverse): string {
  if (universe.known.length === 0 && universe.groups.size === 0) return 'No nodes are known: add them to the inventory (staticpod.yaml) or as Host entries in the ssh config.'
  const parts = [`Known nodes: ${show([...universe.known]) || 'none'}`]
  if (universe.groups.size > 0) parts.push(`groups: ${show([...universe.groups.keys()])}`)
  return `${parts.join('; ')}. Run \`staticpod nodes\` to list them.`
}

function show(list: string[]): string {
  return list.length > 12 ? `${list.slice(0, 12).join(', ')}, … (${list.length})` : list.join(', ')
}

function noKnownNodes(): UserError {
  return new UserError('"all" selects no node: no inventory lists nodes and the ssh config has no Host aliases', {
    hints: ['Create staticpod.yaml (see docs/design.md "Inventory"), or pass --config / --ssh-config.'],
  })
}

/** Shell-style glob over node names: `*`, `?` and `[...]`. */
export function globToRegExp(glob: string): RegExp {
  let source = ''
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!
    if (char === '*') source += '.*'
    else if (char === '?') source += '.'
    else if (char === '[' && glob.includes(']', i + 2)) {
      const end = glob.indexOf(']', i + 2)
      source += `[${glob.slice(i + 1, end).replace(/^!/, '^').replaceAll('\\', '\\\\')}]`
      i = end
    } else source += char.replaceAll(/[$()*+.?[\\\]^{|}]/g, String.raw`\$&`)
  }

  return new RegExp(`^${source}$`)
}
