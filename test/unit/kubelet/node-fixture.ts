import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {KUBELET_FILES, type KubeletNodeFiles} from '../../../src/kubelet/effective.js'
import {FIXTURES} from '../../helpers/fixtures.js'

export const KUBELET_FIXTURES = path.join(FIXTURES, 'kubelet')

/** Read a fixture file by its path on the node (`fedora`, `/etc/kubernetes/kubelet`). */
export function nodeFile(layout: string, file: string): string {
  return readFileSync(path.join(KUBELET_FIXTURES, layout, file), 'utf8')
}

export function capture(name: string): string {
  return readFileSync(path.join(KUBELET_FIXTURES, '_captures', name), 'utf8')
}

/**
 * A node as the I/O layer would hand it over after one round trip: every file of the fixture's root
 * (as if the drop-in and config directories had been listed and read), every KUBELET_FILES path that
 * is not there as undefined, and the directories that exist.
 */
export function loadNode(layout: string, overrides: Record<string, string | undefined> = {}): KubeletNodeFiles & {
  files: Record<string, string | undefined>
} {
  const root = path.join(KUBELET_FIXTURES, layout)
  const files: Record<string, string | undefined> = {}
  for (const f of KUBELET_FILES.files) files[f] = undefined
  const existing: string[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name)
      const onNode = '/' + path.relative(root, full).split(path.sep).join('/')
      if (statSync(full).isDirectory()) {
        existing.push(onNode)
        walk(full)
      } else files[onNode] = readFileSync(full, 'utf8')
    }
  }

  walk(root)
  Object.assign(files, overrides)
  return {existing, files}
}
