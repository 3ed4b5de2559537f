/**
 * The names users give `add`, `rm`, `disable` and `enable`, checked before anything reaches a node:
 * pods by name (as `ls` shows it, DNS-1123) or NAMESPACE/NAME, manifest files by plain base name.
 * A name that passes can never point outside the manifest directory: no "/", no "..", no NUL, no
 * newline, no shell metacharacters (they would be quoted anyway; they are refused so that no
 * surprise is possible).
 */
import {UserError} from '../errors.js'
import {isBackupName} from '../manifest/directory-rules.js'
import {dns1123Label, dns1123Subdomain} from '../manifest/names.js'
import {type ManifestFile, podKey} from './manifest-dir.js'

/** A file name staticpod may create or name: letters, digits and `._+~#@%,=-`, not starting with "." or "-". */
const FILE_NAME = /^[\w][\w#%+,.=@~-]*$/

/** Why `name` is not a plain base name staticpod accepts, or undefined. */
export function fileNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty'
  if (name.includes('/')) return 'must be a file name, not a path (no "/")'
  if (name.includes('..')) return 'must not contain ".."'
  if (name.startsWith('.')) return 'must not start with "." (the kubelet ignores such files)'
  if (Buffer.byteLength(name) > 255) return 'is longer than 255 bytes'
  if (!FILE_NAME.test(name)) return 'may only contain letters, digits and . _ - + ~ # @ % , = (and must start with a letter, digit or _)'
  return undefined
}

/** Why a local manifest's base name cannot be used on the node, or undefined. */
export function manifestFileNameProblem(name: string): string | undefined {
  const problem = fileNameProblem(name)
  if (problem) return problem
  if (!/\.(ya?ml|json)$/i.test(name)) return 'must end in .yaml, .yml or .json'
  if (isBackupName(name)) return 'looks like a backup'
  return undefined
}

/** What a POD argument selects. */
export type PodSelector = {arg: string; file: string; kind: 'file'} | {arg: string; kind: 'name-or-file'; name: string} | {arg: string; kind: 'pod'; name: string; namespace: string}

/** Parse a POD argument; a UserError (exit 2) when it is neither a pod name, NAMESPACE/NAME, nor a file name. */
export function parsePodArg(arg: string): PodSelector {
  const slash = arg.indexOf('/')
  if (slash !== -1) {
    const namespace = arg.slice(0, slash)
    const name = arg.slice(slash + 1)
    const problem = dns1123Label(namespace) ? `namespace "${namespace}" ${dns1123Label(namespace)}` : (dns1123Subdomain(name) ? `pod name "${name}" ${dns1123Subdomain(name)}` : undefined)
    if (problem || name.includes('/')) {
      throw new UserError(`invalid pod "${printable(arg)}": ${problem ?? 'one "/" at most (NAMESPACE/NAME)'}`, {
        hints: ['Name a pod as `staticpod ls` shows it (NAME or NAMESPACE/NAME), or a file of the manifest directory by its base name.'],
      })
    }

    return {
      arg, kind: 'pod', name, namespace,
    }
  }

  const podProblem = dns1123Subdomain(arg)
  const fileProblem = fileNameProblem(arg)
  if (!podProblem) return {arg, kind: 'name-or-file', name: arg}
  if (!fileProblem) return {arg, file: arg, kind: 'file'}
  throw new UserError(`invalid pod or file name "${printable(arg)}": as a pod name it ${podProblem}; as a file name it ${fileProblem}`, {
    hints: ['Name a pod as `staticpod ls` shows it (NAME or NAMESPACE/NAME), or a file of the manifest directory by its base name.'],
  })
}

/** A selector's matches among the files of a directory, or why it is ambiguous. */
export function selectFiles(files: readonly ManifestFile[], selector: PodSelector): {error?: string; files: ManifestFile[]} {
  if (selector.kind === 'pod') {
    return {files: files.filter(f => f.pod?.name === selector.name && f.pod.namespace === selector.namespace)}
  }

  if (selector.kind === 'name-or-file') {
    const byPod = files.filter(f => f.pod?.name === selector.name)
    const namespaces = [...new Set(byPod.map(f => f.pod!.namespace))].sort()
    if (namespaces.length > 1) {
      const choices = namespaces.map(ns => podKey({name: selector.name, namespace: ns})).join(', ')
      return {error: `pod ${selector.name} exists in namespaces ${namespaces.join(', ')}: name one as NAMESPACE/NAME (${choices})`, files: []}
    }

    if (byPod.length > 0) return {files: byPod}
  }

  const file = selector.kind === 'file' ? selector.file : selector.name
  return {files: files.filter(f => f.name === file)}
}

/** Control characters shown escaped, for messages. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replaceAll(/[\u0000-\u001F\u007F]/g, c => `\\x${c.codePointAt(0)!.toString(16).padStart(2, '0')}`)
}
