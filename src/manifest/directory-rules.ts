import path from 'node:path'

import type {CheckedDocument} from './check.js'
import type {Finding} from './types.js'

import {fileFinding} from './parse.js'
import {type RuleId, RULES} from './rules.js'

/**
 * Rules about a manifest directory as the kubelet sees it (kubelet-facts §1.1, §1.6): it reads every
 * entry whose name does not start with ".", whatever the extension; it does not recurse; two files
 * defining the same pod make it run one of them, which one is undefined.
 */

/** File names that manifests have: what `validate` collects when walking directories. */
export function hasManifestExtension(name: string): boolean {
  return /\.(ya?ml|json)$/i.test(name)
}

/** Names editors, package managers and people give to copies. */
const BACKUP_NAME = /(\.(bak|backup|orig|rej|old|save|swp|swo|tmp|dpkg-[a-z]+|rpmnew|rpmsave|ucf-[a-z]+)|~|[-_.]bak)$/i

export function isBackupName(name: string): boolean {
  return BACKUP_NAME.test(name) || /^#.*#$/.test(name)
}

/**
 * A finding for a file the kubelet would load by accident: a backup-like name anywhere, or any file in
 * a manifest directory that does not look like a manifest.
 */
export function strayFileFinding(file: string, inManifestDir: boolean): Finding | undefined {
  const name = path.basename(file)
  if (isBackupName(name)) {
    return dirFinding(
      'dir/stray-file',
      `"${name}" looks like a backup: the kubelet loads every file whose name does not start with "." as a pod, so a copy here runs (or fights the original). Move it out of the manifest directory`,
    )
  }

  if (inManifestDir && !hasManifestExtension(name)) {
    return dirFinding(
      'dir/stray-file',
      `the kubelet loads "${name}" as a manifest too (it reads every file whose name does not start with "."); move it out of the manifest directory`,
    )
  }

  return undefined
}

export function subdirectoryFinding(dir: string): Finding {
  return dirFinding(
    'dir/subdirectory',
    `the kubelet does not read subdirectories of the manifest directory and logs an error for "${path.basename(dir)}" on every rescan`,
  )
}

export function emptyDirectoryFinding(dir: string): Finding {
  return dirFinding('dir/empty', `no manifests in ${dir}`)
}

/**
 * Marks documents that define the same pod (namespace/name) as another file in the same directory.
 * Only a file's first document counts: it is the only one the kubelet reads.
 */
export function markDuplicatePods(documents: CheckedDocument[]): void {
  const byPod = new Map<string, CheckedDocument[]>()
  for (const doc of documents) {
    const {result} = doc
    if (result.document !== 0 || result.kind !== 'Pod' || !result.name || result.file === '-') continue
    const key = `${path.dirname(result.file)}\0${result.namespace ?? 'default'}/${result.name}`
    byPod.set(key, [...(byPod.get(key) ?? []), doc])
  }

  for (const group of byPod.values()) {
    if (group.length < 2) continue
    for (const {locate, result} of group) {
      const others = group.filter(d => d.result !== result).map(d => path.basename(d.result.file))
      result.findings.push({
        ...locate('/metadata/name'),
        message: `pod ${result.namespace ?? 'default'}/${result.name} is also defined in ${others.join(', ')}: the kubelet runs only one of them, and which one is undefined`,
        path: '/metadata/name',
        rule: 'dir/duplicate-pod',
        severity: 'error',
      })
    }
  }
}

function dirFinding(rule: RuleId, message: string): Finding {
  return {...fileFinding(rule, message), severity: RULES[rule].severity}
}
