// `ls`: rows and warnings from a node's state, and how they are written (table, JSON, diffs).
import {expect} from 'chai'
// A Chalk without colours: the default instance guesses from the environment.
// eslint-disable-next-line unicorn/import-style
import {Chalk} from 'chalk'

import {lsNode, type LsResult} from '../../../src/ops/ls.js'
import {renderDiffs} from '../../../src/output/diff.js'
import {addJson, lsJson} from '../../../src/output/manifests-json.js'
import {formatAge, lsWarnings, renderLsTable} from '../../../src/output/manifests.js'
import {manifest, nodeState, pod} from './node-state.js'

const chalk = new Chalk({level: 0})

async function listing(): Promise<LsResult> {
  const state = await nodeState({
    'broken.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: [\n',
    'etcd-backup.yaml': manifest('etcd-backup.yaml'),
    'invalid.yaml': manifest('invalid-static-web.yaml').replace('static-web', 'typo'),
    README: 'Static pods of this node. Do not keep backups here.\n',
    'static-web.yaml': manifest('static-web.yaml'),
    'static-web.yaml.bak': manifest('static-web.yaml'),
    subdir: null,
  }, {disabled: {'db.yaml': pod('db', 'data'), 'etcd-backup.yaml': manifest('etcd-backup.yaml')}})
  return {
    nodes: [{
      ...lsNode('node1', state), durationMs: 5, node: 'node1', status: 'ok',
    }, {
      durationMs: 3, entries: [], error: 'connection refused by 127.77.1.2', node: 'node2', status: 'unreachable', warnings: [],
    }],
  }
}

describe('ops/ls', () => {
  it('a row per file the kubelet loads and per parked manifest; directories are warnings, not rows', async () => {
    const result = await listing()
    const rows = result.nodes[0]!.entries.map(e => [e.file, e.name, e.namespace, e.disabled, e.status])
    expect(rows).to.deep.equal([
      ['README', null, null, false, 'invalid'],
      ['broken.yaml', null, null, false, 'error'],
      ['etcd-backup.yaml', 'etcd-backup', 'kube-system', false, 'valid'],
      ['invalid.yaml', 'typo', 'default', false, 'invalid'],
      ['static-web.yaml', 'static-web', 'default', false, 'invalid'],
      ['static-web.yaml.bak', 'static-web', 'default', false, 'invalid'],
      ['db.yaml', 'db', 'data', true, 'valid'],
      ['etcd-backup.yaml', 'etcd-backup', 'kube-system', true, 'valid'],
    ])
    expect(result.nodes[0]!.entries[2]).to.deep.include({
      ageSeconds: 100, modified: '2023-11-14T22:13:20.000Z', path: '/etc/kubernetes/manifests/etcd-backup.yaml', size: manifest('etcd-backup.yaml').length,
    })
  })

  it('warnings: stray files, duplicates, unparseable and invalid files, disabled pods, subdirectories', async () => {
    const lines = lsWarnings(await listing(), {chalk})
    expect(lines).to.deep.equal([
      'warning node1: /etc/kubernetes/manifests/subdir: the kubelet does not read subdirectories of the manifest directory and logs an error for "subdir" on every rescan',
      'warning node1: /etc/kubernetes/manifests/README: the kubelet loads "README" as a manifest too (it reads every file whose name does not start with "."); move it out of the manifest directory',
      'warning node1: /etc/kubernetes/manifests/README: the kubelet would refuse it: a manifest is a mapping (a Pod object), not string',
      'warning node1: /etc/kubernetes/manifests/broken.yaml: cannot be parsed, the kubelet skips it: YAML syntax error: unexpected end of the stream within a flow collection',
      'warning node1: /etc/kubernetes/manifests/invalid.yaml: the kubelet would refuse it: unknown field "imagePullPolcy" (did you mean "imagePullPolicy"?)',
      'warning node1: /etc/kubernetes/manifests/static-web.yaml: pod default/static-web is also defined in static-web.yaml.bak: the kubelet runs only one of them, and which one is undefined',
      'warning node1: /etc/kubernetes/manifests/static-web.yaml.bak: "static-web.yaml.bak" looks like a backup: the kubelet loads every file whose name does not start with "." as a pod, so a copy here runs (or fights the original). Move it out of the manifest directory',
      'warning node1: /etc/kubernetes/manifests/static-web.yaml.bak: pod default/static-web is also defined in static-web.yaml: the kubelet runs only one of them, and which one is undefined',
      'warning node1: /var/lib/staticpod/disabled/db.yaml: disabled: the kubelet does not run it; `staticpod enable node1 data/db` brings it back',
      'warning node1: /var/lib/staticpod/disabled/etcd-backup.yaml: pod kube-system/etcd-backup is disabled (parked copy /var/lib/staticpod/disabled/etcd-backup.yaml) but also defined in /etc/kubernetes/manifests/etcd-backup.yaml, which the kubelet runs',
    ])
  })

  it('the table: NODE NAME NAMESPACE FILE AGE SHA, disabled ones marked; -o wide', async () => {
    const result = await listing()
    const table = renderLsTable(result, {chalk}).split('\n')
    expect(table[0]).to.match(/^NODE +NAME +NAMESPACE +FILE +AGE +SHA$/)
    expect(table).to.have.length(9)
    expect(table[3]).to.match(/^node1 +etcd-backup +kube-system +etcd-backup\.yaml +100s +[\da-f]{12}$/)
    expect(table[1]).to.match(/^node1 +- +- +README +100s +[\da-f]{12}$/)
    expect(table[7]).to.match(/^node1 +db +data +db\.yaml \(disabled\) +100s +[\da-f]{12}$/)
    const wide = renderLsTable(result, {chalk, wide: true}).split('\n')
    expect(wide[0]).to.match(/^NODE +NAME +NAMESPACE +FILE +AGE +SIZE +MODIFIED +SHA256 +DIR$/)
    expect(wide[3]).to.match(/^node1 +etcd-backup +kube-system +etcd-backup\.yaml +100s +\d+ +2023-11-14T22:13:20Z +[\da-f]{64} +\/etc\/kubernetes\/manifests$/)
    expect(wide[7]).to.match(/ \/var\/lib\/staticpod\/disabled$/)
    expect(renderLsTable({nodes: []}, {chalk})).to.equal('')
  })

  it('--json: one object per pod per node, the contract\'s keys first; a failed node is {node, error}', async () => {
    const json = lsJson(await listing()) as Array<Record<string, unknown>>
    expect(json).to.have.length(9)
    expect(Object.keys(json[2]!)).to.deep.equal(['node', 'name', 'namespace', 'file', 'sha256', 'size', 'modified', 'disabled', 'status', 'path', 'manifestDir', 'warnings'])
    expect(json[2]).to.deep.include({
      disabled: false, file: 'etcd-backup.yaml', manifestDir: '/etc/kubernetes/manifests', modified: '2023-11-14T22:13:20.000Z', name: 'etcd-backup', namespace: 'kube-system', node: 'node1', warnings: [],
    })
    expect(json[6]).to.deep.include({disabled: true, name: 'db', namespace: 'data'})
    expect(json[8]).to.deep.equal({error: 'connection refused by 127.77.1.2', node: 'node2'})
  })

  it('add --json: per node, per manifest; with --dry-run the unified diff of each file', () => {
    const file = {
      action: 'replaced' as const, backups: [], diffs: [{after: 'b\n', before: 'a\n', path: '/m/web.yaml'}], file: 'web.yaml', path: '/m/web.yaml', pod: 'default/web', removed: [], retired: [], sha256: 'f'.repeat(64),
    }
    const json = addJson({
      dryRun: true, manifests: [], nodes: [{
        durationMs: 1, files: [file], manifestDir: '/m', manifestDirSource: 'kubelet', node: 'n1', status: 'changed', warnings: [],
      }], validation: {
        results: [], summary: {
          documents: 0, errors: 0, files: 0, invalid: 0, valid: 0,
        },
      },
    }) as Array<{files: Array<Record<string, unknown>>}>
    expect(Object.keys(json[0]!)).to.deep.equal(['node', 'status', 'manifestDir', 'manifestDirSource', 'dryRun', 'files', 'warnings'])
    expect(json[0]!.files[0]).to.deep.include({action: 'replaced', diff: '--- n1:/m/web.yaml\n+++ n1:/m/web.yaml\n@@ -1,1 +1,1 @@\n-a\n+b', previousSha256: null})
  })

  it('AGE as kubectl writes it', () => {
    const cases: Array<[number, string]> = [[0, '0s'], [-5, '0s'], [59, '59s'], [119, '119s'], [120, '2m'], [190, '3m10s'], [600, '10m'], [179 * 60, '179m'], [3 * 3600, '3h'], [(5 * 3600) + 180, '5h3m'], [20 * 3600, '20h'], [(3 * 86_400) + 3600, '3d1h'], [14 * 86_400, '14d'], [800 * 86_400, '2y70d']]
    for (const [seconds, text] of cases) expect(formatAge(seconds), String(seconds)).to.equal(text)
  })

  it('--dry-run diffs: unified, labelled NODE:PATH, /dev/null for created and removed files', () => {
    const text = renderDiffs([
      {diffs: [{after: 'a\nb\n', before: 'a\nc\n', path: '/etc/kubelet.d/web.yaml'}, {before: 'x\n', path: '/etc/kubelet.d/old.yaml'}], node: 'n1'},
      {diffs: [{after: 'a\n', path: '/etc/kubernetes/manifests/web.yaml'}], node: 'n2'},
      {diffs: [{after: 'same\n', before: 'same\n', path: '/m/web.yaml'}], node: 'n3'},
    ], {chalk})
    expect(text.split('\n')).to.deep.equal([
      '--- n1:/etc/kubelet.d/web.yaml',
      '+++ n1:/etc/kubelet.d/web.yaml',
      '@@ -1,2 +1,2 @@',
      ' a',
      '-c',
      '+b',
      '--- n1:/etc/kubelet.d/old.yaml',
      '+++ /dev/null',
      '@@ -1,1 +0,0 @@',
      '-x',
      '--- /dev/null',
      '+++ n2:/etc/kubernetes/manifests/web.yaml',
      '@@ -0,0 +1,1 @@',
      '+a',
      '# n3: no changes',
    ])
  })
})
