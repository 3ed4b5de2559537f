/**
 * The optional inventory (docs/design.md "Inventory"): where it is, what it says, and every problem
 * in it at once, each with file:line:column.
 */
import {closest, distance} from 'fastest-levenshtein'
import {CORE_SCHEMA} from 'js-yaml'
import {readFileSync, statSync} from 'node:fs'
import os from 'node:os'
import {join, resolve} from 'node:path'

import {UserError} from '../errors.js'
import {
  parseWithPositions, type YamlDocument, type YamlFile, type YamlNode,
} from '../yaml/positions.js'
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

/**
 * Validation as data: the inventory (best effort) and every problem found. The inventory is
 * staticpod's own file, read as YAML 1.2 (the core schema, as editors with the JSON schema read it):
 * `sudo: yes` is the string "yes", not true.
 */
export function checkInventory(text: string, path: string, home = os.homedir()): {inventory: Inventory; problems: InventoryProblem[]} {
  // `json: true` lets duplicate keys through so that each is reported where it is.
  const file = parseWithPositions(text, {json: true, schema: CORE_SCHEMA})
  const problems: InventoryProblem[] = []
  const inventory: Inventory = {
    defaults: {}, groups: new Map(), nodes: new Map(), path,
  }
  const at: At = (node, fieldPath, message) => {
    const {column, line} = file.position(node ? file.contentStart(node) : 0)
    problems.push({
      column, line, message, path: fieldPath,
    })
  }

  for (const problem of yamlProblems(file)) problems.push(problem)
  if (problems.length > 0) return {inventory, problems}
  const doc = file.documents[0]
  if (!doc || doc.value === null) return {inventory, problems}
  const root = doc.resolve(doc.root)
  if (!isMapping(root)) {
    at(root, '', 'the inventory must be a mapping with defaults, nodes, groups and kubeconfig')
    return {inventory, problems}
  }

  const reader: Reader = {at, doc}
  const groupNodes = new Map<string, GroupNodes>()
  for (const {name: field, value} of entries(reader, root, '', TOP_KEYS)) {
    switch (field) {
    case 'defaults': {
      const settings = readSettings(reader, value, 'defaults', DEFAULT_KEYS)
      if (settings) inventory.defaults = settings.settings
      break
    }

    case 'groups': {
      if (value.value === null) break
      const groups = doc.resolve(value)
      if (!isMapping(groups)) {
        at(value, 'groups', 'must be a mapping of group name to a list of node names')
        break
      }

      for (const group of entries(reader, groups, 'groups')) {
        if (!checkName(group.name, group.key, `groups.${group.name}`, 'group', at)) continue
        const members = readMembers(reader, group.value, `groups.${group.name}`)
        if (members) {
          inventory.groups.set(group.name, members.map(member => member.name))
          groupNodes.set(group.name, {key: group.key, members: members.map(member => member.node)})
        }
      }

      break
    }

    case 'kubeconfig': {
      if (typeof value.value === 'string' && value.value !== '') {
        inventory.kubeconfig = resolve(expandTilde(value.value, home))
      } else at(value, 'kubeconfig', 'must be a path (a string)')
      break
    }

    case 'nodes': {
      if (value.value === null) break
      const nodes = doc.resolve(value)
      if (!isMapping(nodes)) {
        at(value, 'nodes', 'must be a mapping of node name to its settings, e.g. my-node1: {host: 10.0.0.11}')
        break
      }

      for (const node of entries(reader, nodes, 'nodes')) {
        if (!checkName(node.name, node.key, `nodes.${node.name}`, 'node', at)) continue
        const settings = node.value.value === null ? {settings: {}} : readSettings(reader, node.value, `nodes.${node.name}`, NODE_KEYS)
        if (!settings) continue
        const {line} = file.position(file.contentStart(node.key))
        inventory.nodes.set(node.name, {...settings.settings, line, name: node.name})
      }

      break
    }
    }
  }

  checkGroups(inventory, groupNodes, at)
  return {inventory, problems}
}

/** Syntax errors, duplicate keys, more than one document: each makes the rest of the file moot. */
function yamlProblems(file: YamlFile): InventoryProblem[] {
  if (file.error) {
    const {column, line, message} = file.error
    return [{
      column, line, message, path: '',
    }]
  }

  const problems: InventoryProblem[] = []
  const [first, second] = file.documents
  if (first && second) {
    // Where the second document begins: its `---` (or the first's `...`) marker.
    const marker = /^(?:---|\.\.\.)(?=[\t\n\r ]|$)/gm
    marker.lastIndex = file.contentEnd(first.root)
    const {column, line} = file.position(marker.exec(file.text)?.index ?? file.contentStart(second.root))
    problems.push({
      column, line, message: 'the inventory must be a single YAML document (it has a second one here)', path: '',
    })
  }

  for (const key of first?.duplicateKeys() ?? []) {
    const {column, line} = file.position(file.contentStart(key))
    problems.push({
      column, line, message: `Map keys must be unique ("${String(key.value)}" is a key of this mapping already)`, path: '',
    })
  }

  return problems.sort((a, b) => a.line - b.line || a.column - b.column)
}

/** Where a group and each of its members are in the file. */
interface GroupNodes {
  key: YamlNode
  members: YamlNode[]
}

type At = (node: undefined | YamlNode, path: string, message: string) => void

interface Reader {
  at: At
  doc: YamlDocument
}

function isMapping(node: YamlNode): boolean {
  return node.kind === 'mapping' || (node.value !== null && typeof node.value === 'object' && !Array.isArray(node.value))
}

/**
 * A mapping's entries with plain keys (others are reported); with `allowed`, unknown keys are reported too.
 * @yields each entry with its key's name
 */
function * entries({at, doc}: Reader, map: YamlNode, path: string, allowed?: string[]): Generator<{key: YamlNode; name: string; value: YamlNode}> {
  for (const [key, value] of doc.pairs(map) ?? []) {
    if (key.kind !== 'scalar' || (typeof key.value !== 'string' && typeof key.value !== 'number')) {
      at(key, path, 'keys must be plain names')
      continue
    }

    const name = String(key.value)
    if (allowed && !allowed.includes(name)) {
      at(key, path ? `${path}.${name}` : name, `unknown field "${name}"${suggest(name, allowed)}`)
      continue
    }

    yield {key, name, value}
  }
}

function readSettings(reader: Reader, value: YamlNode, path: string, allowed: string[]): undefined | {settings: NodeSettings} {
  const map = reader.doc.resolve(value)
  if (!isMapping(map)) {
    reader.at(value, path, `must be a mapping with ${allowed.join(', ')}`)
    return undefined
  }

  const {at} = reader
  const settings: NodeSettings = {}
  for (const {name, value: field} of entries(reader, map, path, allowed)) {
    const fieldPath = `${path}.${name}`
    const scalar = field.value
    switch (name) {
    case 'host': {
      if (typeof scalar === 'string' && /^[^\s,/@]+$/.test(scalar)) settings.host = scalar
      else at(field, fieldPath, 'must be a host name or IP address')
      break
    }

    case 'manifestDir': {
      if (typeof scalar === 'string' && scalar.startsWith('/')) settings.manifestDir = scalar
      else at(field, fieldPath, 'must be an absolute path on the node')
      break
    }

    case 'port': {
      if (typeof scalar === 'number' && Number.isInteger(scalar) && scalar >= 1 && scalar <= 65_535) settings.port = scalar
      else at(field, fieldPath, 'must be a port number from 1 to 65535')
      break
    }

    case 'sudo': {
      if (typeof scalar === 'boolean') settings.sudo = scalar
      else at(field, fieldPath, 'must be true or false')
      break
    }

    case 'user': {
      if (typeof scalar === 'string' && /^[\w.-][\w.$-]*$/.test(scalar)) settings.user = scalar
      else at(field, fieldPath, 'must be a user name')
      break
    }
    }
  }

  return {settings}
}

function readMembers({at, doc}: Reader, value: YamlNode, path: string): Array<{name: string; node: YamlNode}> | undefined {
  const list = doc.resolve(value)
  if (!Array.isArray(list.value)) {
    at(value, path, 'must be a list of node or group names, e.g. [my-node1, my-node2]')
    return undefined
  }

  // Without a node for every item (an empty `-` has none), problems are placed at the list.
  const items = doc.items(list)
  const members: Array<{name: string; node: YamlNode}> = []
  for (const [index, item] of (list.value as unknown[]).entries()) {
    const node = items?.[index] ?? value
    if (typeof item === 'string' || typeof item === 'number') members.push({name: String(item), node})
    else at(node, path, 'members must be node or group names')
  }

  return members
}

function checkName(name: string, key: YamlNode, path: string, what: string, at: At): boolean {
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

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}
