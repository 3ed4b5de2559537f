/**
 * Kubernetes name syntax (k8s.io/apimachinery/pkg/util/validation). Each check returns the reason a
 * value is invalid, or undefined when it is fine.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/
const HAS_LETTER = /[a-z]/

export function dns1123Label(value: string): string | undefined {
  if (value.length > 63) return `must be no more than 63 characters (it has ${value.length})`
  if (!DNS1123_LABEL.test(value)) {
    return 'must consist of lower case alphanumeric characters or "-", and must start and end with an alphanumeric character'
  }

  return undefined
}

export function dns1123Subdomain(value: string): string | undefined {
  if (value.length > 253) return `must be no more than 253 characters (it has ${value.length})`
  if (!DNS1123_SUBDOMAIN.test(value)) {
    return 'must consist of lower case alphanumeric characters, "-" or ".", and must start and end with an alphanumeric character'
  }

  return undefined
}

/** Label and annotation keys: an optional DNS subdomain prefix and "/", then a name of at most 63 characters. */
export function qualifiedName(value: string): string | undefined {
  const slash = value.lastIndexOf('/')
  const prefix = slash === -1 ? undefined : value.slice(0, slash)
  const name = slash === -1 ? value : value.slice(slash + 1)
  if (prefix !== undefined) {
    if (prefix === '') return 'prefix part must be non-empty'
    const reason = dns1123Subdomain(prefix)
    if (reason) return `prefix part ${reason}`
  }

  if (name === '') return 'name part must be non-empty'
  if (name.length > 63) return `name part must be no more than 63 characters (it has ${name.length})`
  if (!QUALIFIED_NAME_PART.test(name)) {
    return 'name part must consist of alphanumeric characters, "-", "_" or ".", and must start and end with an alphanumeric character'
  }

  return undefined
}

export function labelValue(value: string): string | undefined {
  if (value.length > 63) return `must be no more than 63 characters (it has ${value.length})`
  if (!LABEL_VALUE.test(value)) {
    return 'must be empty or consist of alphanumeric characters, "-", "_" or ".", and must start and end with an alphanumeric character'
  }

  return undefined
}

/** Port names (IANA_SVC_NAME). */
export function portName(value: string): string | undefined {
  if (value.length > 15) return `must be no more than 15 characters (it has ${value.length})`
  if (!IANA_SVC_NAME.test(value)) {
    return 'must contain only lower case alphanumeric characters or "-", and start and end with an alphanumeric character'
  }

  if (value.includes('--')) return 'must not contain consecutive hyphens'
  if (!HAS_LETTER.test(value)) return 'must contain at least one letter'
  return undefined
}

/** The canonical Kubernetes quantity syntax (k8s.io/apimachinery/pkg/api/resource). */
const QUANTITY
  = /^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?(\d+(\.\d*)?|\.\d+)))?$/

export function quantity(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'must be a finite number'
  if (typeof value !== 'string') return undefined // the schema reports the type
  if (!QUANTITY.test(value)) return 'must be a quantity such as "100m", "0.5", "128Mi" or "1G"'
  return undefined
}
