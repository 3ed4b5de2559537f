import {readFileSync} from 'node:fs'
import path from 'node:path'

import type {ProbedEntry} from '../../../src/ops/node-scripts.js'

import {checkEntries, type NodeManifests} from '../../../src/ops/manifest-dir.js'
import {DISABLED_DIR, fingerprint, sha256} from '../../../src/ops/node-scripts.js'
import {loadSchema} from '../../../src/ops/validate.js'
import {FIXTURES} from '../../helpers/fixtures.js'

/** A manifest of test/fixtures/manifests-on-nodes. */
export function manifest(name: string): string {
  return readFileSync(path.join(FIXTURES, 'manifests-on-nodes', name), 'utf8')
}

/** A pod manifest with the given name (and namespace). */
export function pod(name: string, namespace?: string, image = 'nginx'): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ''}spec:\n  containers:\n    - name: c\n      image: ${image}\n`
}

/** An entry as the probe would give it: text is a file, null a directory. */
function entries(files: Record<string, null | string>): ProbedEntry[] {
  return Object.entries(files).sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))).map(([name, text]) => {
    const raw = Buffer.from(name)
    if (text === null) return {kind: 'dir', name, raw}
    const content = Buffer.from(text)
    return {
      content, kind: 'file', mtime: 1_700_000_000, name, raw, sha256: sha256(content), size: content.length,
    }
  })
}

/** A node's state as readNodeManifests would make it, from file texts. */
export async function nodeState(files: Record<string, null | string>, options: {dir?: string; disabled?: Record<string, null | string>; nodeName?: string} = {}): Promise<NodeManifests> {
  const schema = await loadSchema()
  const dir = options.dir ?? '/etc/kubernetes/manifests'
  const inDir = entries(files)
  const parked = entries(options.disabled ?? {})
  const context = {nodeName: options.nodeName ?? 'node1', schema}
  return {
    dir: {
      kind: 'dir', path: dir, source: 'kubelet', warnings: [],
    },
    disabled: checkEntries(parked, DISABLED_DIR, context, false),
    disabledDir: DISABLED_DIR,
    files: checkEntries(inDir, dir, context, true),
    fingerprint: fingerprint(inDir, parked),
    hostname: 'node1',
    nodeName: context.nodeName,
    now: 1_700_000_100,
    rounds: 1,
  }
}
