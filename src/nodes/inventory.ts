/**
 * The optional inventory (docs/design.md "Inventory"): where it is, what it says, and every problem
 * in it at once, each with file:line:column.
 */
import {closest, distance} from 'fastest-levenshtein'
import {readFileSync, statSync} from 'node:fs'
import os from 'node:os'
import {join, resolve} from 'node:path'
import {
  isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type Scalar, type YAMLMap,
} from 'yaml'

import {UserError} from '../errors.js'
import {expandTilde} from './ssh-config.js'

/** Per-node settings; every field is optional and falls back to `defaults`, then to the ssh config. */
export interface NodeSettings {
  /** Address to connect to (ssh's HostName). */
  host?: string
  manifestDir?: string
  port?: number
  /** Use `sudo -n` for root work; default: when the user is not root. */
  sudo?: boolean
  user?: string
}

export interface InventoryNode extends NodeSettings {
  /** 1-based line of the node's key in the file. */
  line: number
  name: string
}

export interface Inventory {
  defaults: Omit<NodeSettings, 'host'>
  /** Group name → member names (nodes or other groups), as written. */
  groups: Map<string, string[]>
  /** Path of kubeconfig with `~` expanded. */
  kubeconfig?: string
  /** Declared nodes, in file order. Empty when the file has no `nodes` (the ssh config's hosts are then the nodes). */
  nodes: Map<string, InventoryNode>
  path: string
}

export interface InventoryProblem {
  column: number
  line: number
  message: string
  /** Dotted path of the offending field, '' for the document. */
  path: string
}

export interface FindInventoryOptions {
  cwd?: string
  /** --config, or STATICPOD_CONFIG (oclif passes the env var as the flag's value). */
  explicit?: string
  home?: string
}

/** `--config`, else `./staticpod.yaml`, else `~/.config/staticpod/config.yaml`; undefined when none exists. */
export function findInventory(options: FindInventoryOptions = {}): string | undefined {
  const cwd = options.cwd ?? process.cwd()
  const home = options.home ?? os.homedir()
  if (options.explicit) return resolve(cwd, expandTilde(options.explicit, home))
  for (const candidate of [join(cwd, 'staticpod.yaml'), join(home, '.config', 'staticpod', 'config.yaml')]) {
    if (isFile(candidate)) return candidate
  }

  return undefined
}

/** Find and load the inventory; an explicitly named one must exist. */
export function loadInventory(options: FindInventoryOptions = {}): Inventory | undefined {
  const path = findInventory(options)
  if (!path) return undefined
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new UserError(`cannot read inventory ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, {
      hints: options.explicit ? ['Check --config / STATICPOD_CONFIG.'] : [],
    })
  }

  return parseInventory(text, path, options.home ?? os.homedir())
}

/** Parse and validate; throws a UserError listing every problem (file:line:column: path: message). */
export function parseInventory(text: string, path: string, home = os.homedir()): Inventory {
  const {inventory, problems} = checkInventory(text, path, home)
  if (problems.length > 0) {
    const lines = problems.map(problem => `  ${path}:${problem.line}:${problem.column}: ${problem.path ? `${problem.path}: ` : ''}${problem.message}`)
    throw new UserError(`invalid inventory ${path} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`, {
      hints: ['The inventory format is in docs/design.md ("Inventory") and schemas/inventory.schema.json.'],
    })
  }

  return inventory
}

const TOP_KEYS = ['defaults', 'groups', 'kubeconfig', 'nodes']
const DEFAULT_KEYS = ['manifestDir', 'port', 'sudo', 'user']
const NODE_KEYS = ['host', 'manifestDir', 'port', 'sudo', 'user']
/** Names usable in NODES: no commas, wildcards, spaces or leading dash. */
const NAME = /^[\w.@-]+$/
export const RESERVED_NAMES = new Set(['all'])

/** Validation as data: the inventory (best effort) and every problem found. */
export function checkInventory(text: string, path: string, home = os.homedir()): {inventory: Inventory; problems: InventoryProblem[]} {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true})
  const problems: InventoryProblem[] = []
  const inventory: Inventory = {
    defaults: {}, groups: new Map(), nodes: new Map(), path,
  }
  const at = (node: Node | null | undefined, fieldPath: string, message: string): void => {
    const offset = node?.range?.[0] ?? 0
    const {col, line} = lineCounter.linePos(offset)
    problems.push({
      column: col, line, message, path: fieldPath,
    })
  }

  for (const error of doc.errors) {
    const {col, line} = lineCounter.linePos(error.pos[0])
    problems.push({
      column: col, line, message: error.message.split('\n')[0] ?? error.message, path: '',
    })
  }

  if (problems.length > 0) return {inventory, problems}
  const root = doc.contents
  if (root === null || (isScalar(root) && (root.value === null || root.value === undefined))) return {inventory, problems}
  if (!isMap(root)) {
    at(root, '', 'the inventory must be a mapping with defaults, nodes, groups and kubeconfig')
    return {inventory, problems}
  }

  const groupNodes = new Map<string, GroupNodes>()
  for (const {key, value} of entries(root, '', at, TOP_KEYS)) {
    switch (key.value) {
    case 'defaults': {
      const settings = readSettings(value, 'defaults', DEFAULT_KEYS, at)
      if (settings) inventory.defaults = settings.settings
      break
    }

    case 'groups': {
      if (value === null || isEmpty(value)) break
      if (!isMap(value)) {
        at(value, 'groups', 'must be a mapping of group name to a list of node names')
        break
      }

      for (const group of entries(value, 'groups', at)) {
        const name = String(group.key.value)
        if (!checkName(name, group.key, `groups.${name}`, 'group', at)) continue
        const members = readMembers(group.value, `groups.${name}`, at)
        if (members) {
          inventory.groups.set(name, members.map(member => member.name))
          groupNodes.set(name, {key: group.key, members: members.map(member => member.node)})
        }
      }

      break
    }

    case 'kubeconfig': {
      if (isScalar(value) && typeof value.value === 'string' && value.value !== '') {
        inventory.kubeconfig = resolve(expandTilde(value.value, home))
      } else at(value ?? key, 'kubeconfig', 'must be a path (a string)')
      break
    }

    case 'nodes': {
      if (value === null || isEmpty(value)) break
      if (!isMap(value)) {
        at(value, 'nodes', 'must be a mapping of node name to its settings, e.g. my-node1: {host: 10.0.0.11}')
        break
      }

      for (const node of entries(value, 'nodes', at)) {
        const name = String(node.key.value)
        if (!checkName(name, node.key, `nodes.${name}`, 'node', at)) continue
        const settings = node.value === null || isEmpty(node.value) ? {settings: {}} : readSettings(node.value, `nodes.${name}`, NODE_KEYS, at)
        if (!settings) continue
        const {line} = lineCounter.linePos(node.key.range?.[0] ?? 0)
        inventory.nodes.set(name, {...settings.settings, line, name})
      }

      break
    }
    }
  }

  checkGroups(inventory, groupNodes, at)
  return {inventory, problems}
}

/** Where a group and each of its members are in the file. */
interface GroupNodes {
  key: Node
  members: Node[]
}

type At = (node: Node | null | undefined, path: string, message: string) => void

function * entries(map: YAMLMap, path: string, at: At, allowed?: string[]): Generator<{key: Scalar; value: Node | null}> {
  for (const pair of map.items) {
    const key = pair.key as Node | null
    if (!isScalar(key) || (typeof key.value !== 'string' && typeof key.value !== 'number')) {
      at(key, path, 'keys must be plain names')
      continue
    }

    const name = String(key.value)
    if (allowed && !allowed.includes(name)) {
      at(key, path ? `${path}.${name}` : name, `unknown field "${name}"${suggest(name, allowed)}`)
      continue
    }

    yield {key, value: (pair.value as Node | null) ?? null}
  }
}

function readSettings(value: Node | null, path: string, allowed: string[], at: At): undefined | {settings: NodeSettings} {
  if (!isMap(value)) {
    at(value, path, `must be a mapping with ${allowed.join(', ')}`)
    return undefined
  }

  const settings: NodeSettings = {}
  for (const {key, value: field} of entries(value, path, at, allowed)) {
    const name = String(key.value)
    const fieldPath = `${path}.${name}`
    const scalar = isScalar(field) ? field.value : undefined
    switch (name) {
    case 'host': {
      if (typeof scalar === 'string' && /^[^\s,/@]+$/.test(scalar)) settings.host = scalar
      else at(field ?? key, fieldPath, 'must be a host name or IP address')
      break
    }

    case 'manifestDir': {
      if (typeof scalar === 'string' && scalar.startsWith('/')) settings.manifestDir = scalar
      else at(field ?? key, fieldPath, 'must be an absolute path on the node')
      break
    }

    case 'port': {
      if (typeof scalar === 'number' && Number.isInteger(scalar) && scalar >= 1 && scalar <= 65_535) settings.port = scalar
      else at(field ?? key, fieldPath, 'must be a port number from 1 to 65535')
      break
    }

    case 'sudo': {
      if (typeof scalar === 'boolean') settings.sudo = scalar
      else at(field ?? key, fieldPath, 'must be true or false')
      break
    }

    case 'user': {
      if (typeof scalar === 'string' && /^[\w.-][\w.$-]*$/.test(scalar)) settings.user = scalar
      else at(field ?? key, fieldPath, 'must be a user name')
      break
    }
    }
  }

  return {settings}
}

function readMembers(value: Node | null, path: string, at: At): Array<{name: string; node: Node}> | undefined {
  if (!isSeq(value)) {
    at(value, path, 'must be a list of node or group names, e.g. [my-node1, my-node2]')
    return undefined
  }

  const members: Array<{name: string; node: Node}> = []
  for (const item of value.items as Array<Node | null>) {
    if (isScalar(item) && (typeof item.value === 'string' || typeof item.value === 'number')) members.push({name: String(item.value), node: item})
    else at(item ?? value, path, 'members must be node or group names')
  }

  return members
}

function checkName(name: string, key: Node, path: string, what: string, at: At): boolean {
  if (RESERVED_NAMES.has(name)) {
    at(key, path, `"${name}" is reserved: it selects every node`)
    return false
  }

  if (!NAME.test(name)) {
    at(key, path, `invalid ${what} name "${name}": use letters, digits, '.', '_', '-' (no commas, spaces or wildcards)`)
    return false
  }

  return true
}

function checkGroups(inventory: Inventory, groupNodes: Map<string, GroupNodes>, at: At): void {
  for (const [name, members] of inventory.groups) {
    const nodes = groupNodes.get(name)
    if (inventory.nodes.has(name)) at(nodes?.key, `groups.${name}`, `"${name}" is both a node and a group`)
    for (const [index, member] of members.entries()) {
      if (inventory.nodes.has(member) || inventory.groups.has(member)) continue
      // Without a `nodes` section, groups name ssh config hosts; with one, members must be declared.
      if (inventory.nodes.size > 0) {
        const candidates = [...inventory.nodes.keys(), ...inventory.groups.keys()]
        at(nodes?.members[index], `groups.${name}`, `"${member}" is neither a node nor a group${suggest(member, candidates)}`)
      }
    }

    const cycle = findCycle(name, inventory.groups, [])
    if (cycle) at(nodes?.key, `groups.${name}`, `groups include each other: ${cycle.join(' → ')}`)
  }
}

function findCycle(name: string, groups: Map<string, string[]>, stack: string[]): string[] | undefined {
  if (stack.includes(name)) return stack[0] === name ? [...stack, name] : undefined
  for (const member of groups.get(name) ?? []) {
    if (!groups.has(member)) continue
    const cycle = findCycle(member, groups, [...stack, name])
    if (cycle) return cycle
  }

  return undefined
}

/** ` (did you mean "x"?)` when a candidate is close enough, else ''. */
export function suggest(word: string, candidates: Iterable<string>): string {
  const list = [...candidates]
  if (list.length === 0) return ''
  const best = closest(word, list)
  return distance(word, best) <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean "${best}"?)` : ''
}

function isEmpty(node: Node): boolean {
  return isScalar(node) && (node.value === null || node.value === undefined)
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}
