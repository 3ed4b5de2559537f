// Label and field selectors, as the API server parses them (k8s.io/apimachinery labels.Parse, fields.ParseSelector).

export type Json = Record<string, unknown>

type Requirement = {key: string; op: '!=' | '='; value: string} | {key: string; op: 'exists' | 'notexists'} | {key: string; op: 'in' | 'notin'; values: string[]}

export class SelectorError extends Error {}

/** Splits at commas that are not inside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = []
  let depth = 0
  let current = ''
  for (const c of text) {
    if (c === '(') depth++
    if (c === ')') depth--
    if (c === ',' && depth === 0) {
      terms.push(current)
      current = ''
    } else current += c
  }

  if (current.trim() !== '') terms.push(current)
  return terms.map(term => term.trim()).filter(term => term !== '')
}

export function parseLabelSelector(text: string): Requirement[] {
  return splitTerms(text).map(term => {
    let match = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(term)
    if (match) {
      return {key: match[1]!, op: match[2] as 'in' | 'notin', values: match[3]!.split(',').map(v => v.trim())}
    }

    match = /^!\s*(\S+)$/.exec(term)
    if (match) return {key: match[1]!, op: 'notexists'}
    match = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term)
    if (match) return {key: match[1]!, op: match[2] === '!=' ? '!=' : '=', value: match[3]!}
    if (/^[\w./-]+$/.test(term)) return {key: term, op: 'exists'}
    throw new SelectorError(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`)
  })
}

export function matchesLabels(labels: Record<string, string> | undefined, requirements: Requirement[]): boolean {
  const have = labels ?? {}
  // eslint-disable-next-line array-callback-return -- the switch covers every operator
  return requirements.every(r => {
    const value = have[r.key]
    switch (r.op) {
    case '!=': {
      return value !== r.value
    }

    case '=': {
      return value === r.value
    }

    case 'exists': {
      return value !== undefined
    }

    case 'in': {
      return value !== undefined && r.values.includes(value)
    }

    case 'notexists': {
      return value === undefined
    }

    case 'notin': {
      return value === undefined || !r.values.includes(value)
    }
    }
  })
}

type FieldRequirement = {field: string; negate: boolean; value: string}

const FIELDS: Record<string, string[]> = {
  namespaces: ['metadata.name', 'status.phase'],
  nodes: ['metadata.name', 'spec.unschedulable'],
  pods: [
    'metadata.name',
    'metadata.namespace',
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
}

export function parseFieldSelector(text: string, resource: string): FieldRequirement[] {
  return splitTerms(text).map(term => {
    const match = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(term)
    if (!match) throw new SelectorError(`invalid selector: '${text}'; can't understand '${term}'`)
    const field = match[1]!
    const allowed = FIELDS[resource]
    // Events can be selected by most of their fields (involvedObject.*, reason, type, ...).
    if (allowed && !allowed.includes(field) && field !== 'metadata.namespace') {
      throw new SelectorError(`field label not supported: ${field}`)
    }

    return {field, negate: match[2] === '!=', value: match[3]!}
  })
}

function fieldValue(object: Json, field: string): string {
  let current: unknown = object
  for (const part of field.split('.')) current = current && typeof current === 'object' ? (current as Json)[part] : undefined
  if (current === undefined || current === null) return ''
  return String(current)
}

export function matchesFields(object: Json, requirements: FieldRequirement[]): boolean {
  return requirements.every(r => (fieldValue(object, r.field) === r.value) !== r.negate)
}
