/**
 * The kubelet's files on a node: read them all (the probe of src/ops/node-scripts.ts, the same one
 * the manifest commands use, plus the rounds src/ops/manifest-dir.ts asks for when the files name
 * more), write changed ones atomically with a backup, and put the previous bytes back.
 *
 * The write script is a constant; paths and contents travel as arguments (contents base64), so no
 * value is ever parsed as shell code. Each file is written to a dot-prefixed temp file in its own
 * directory (a copy of the old file first, so owner and mode stay), fsynced, and renamed over the
 * old one; the old file is first copied to /var/lib/staticpod/backups/<UTC time>/<full path>. Before
 * anything is written, under the same lock as the manifest commands, every file must still have
 * the sha256 it had when it was read (else nothing is written: exit 75).
 */
import {randomBytes} from 'node:crypto'

import type {NodeExec} from '../transport/node.js'

import {RemoteCommandError} from '../errors.js'
import {KUBELET_FILES, type KubeletEffective} from '../kubelet/effective.js'
import {UNIT_DIRS} from '../kubelet/systemd.js'
import {
  absorbProbe, discover, effectiveFrom, emptyGathered, type Gathered, runProbe,
} from './manifest-dir.js'
import {
  BACKUPS_DIR, EXIT_CHANGED, type ProbeItem, type ProbeRequest, sha256, STATE_DIR,
} from './node-scripts.js'

/** What was read of a node's kubelet. */
export interface KubeletRead {
  eff: KubeletEffective
  gathered: Gathered
  hostname?: string
}

/** The first probe: every file and drop-in directory that may feed the kubelet (no manifest directories). */
export function kubeletProbeRequest(): ProbeRequest {
  const items: ProbeItem[] = [
    ...KUBELET_FILES.files.map(path => ({path, tag: 'file' as const})),
    ...KUBELET_FILES.dirs.map(path => ({path, tag: 'conf-dir' as const})),
    ...KUBELET_FILES.probe.map(path => ({path, tag: 'exists' as const})),
  ]
  return {items, mode: 'full'}
}

/** Read the kubelet's files from a node: one round trip, more only when the files name others. */
export async function readKubeletFiles(node: NodeExec, options: {timeoutMs?: number} = {}): Promise<KubeletRead> {
  const gathered = emptyGathered()
  let request: ProbeRequest | undefined = kubeletProbeRequest()
  for (let round = 0; request && round < 4; round++) {
    // eslint-disable-next-line no-await-in-loop
    absorbProbe(gathered, request, await runProbe(node, request, options.timeoutMs))
    const items: ProbeItem[] = discover(gathered).next?.items.filter(item => item.tag !== 'manifest-dir') ?? []
    request = items.length > 0 ? {items, mode: 'more'} : undefined
  }

  return {eff: effectiveFrom(gathered), gathered, hostname: gathered.hostname}
}

/**
 * The effective settings the kubelet will have once `files` (path → new content) are written and
 * it is restarted: the running command line is left out when the unit says how it starts.
 */
export function effectiveAfter(gathered: Gathered, files: ReadonlyMap<string, string>): KubeletEffective {
  const merged = new Map(gathered.files)
  const existing = new Set(gathered.existing)
  for (const [path, text] of files) {
    merged.set(path, text)
    existing.add(path)
  }

  const next: Gathered = {...gathered, existing, files: merged}
  if (effectiveFrom({...next, cmdline: undefined}).unit) delete next.cmdline
  return effectiveFrom(next)
}

/** A file path that systemd reads as a unit or drop-in: changing it needs `systemctl daemon-reload`. */
export function isUnitPath(path: string): boolean {
  return UNIT_DIRS.some(dir => path.startsWith(`${dir}/`))
}

// ---------------------------------------------------------------------------------------------
// Write and restore
// ---------------------------------------------------------------------------------------------

/**
 * Arguments: STATE RANDOM N, then N checks `PATH OLD_SHA256|-` (the file must still have that
 * content, or be absent for -; else exit 75 before anything is written), then steps:
 *   put PATH NEW_SHA256 BASE64                write PATH
 *   restore PATH BACKUP                       put BACKUP's bytes back at PATH (atomically)
 *   rm PATH                                   remove PATH (a file staticpod created)
 * Output: `backup B(PATH) B(BACKUP)` per file backed up, `ok I` per step, `done`.
 */
export const WRITE_SCRIPT = `set -eu
LC_ALL=C
export LC_ALL
umask 022
st=$1 r=$2 n=$3
shift 3
t=
bk=
trap '[ -z "$t" ] || rm -f -- "$t"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
fail() { echo "staticpod: $*" >&2; exit 1; }
enc() { printf '%s' "$1" | base64 | tr -d '\\n'; }
sum() { if [ -f "$1" ]; then s=$(sha256sum < "$1"); echo "\${s%% *}"; elif [ -e "$1" ] || [ -L "$1" ]; then echo o; else echo -; fi; }
backup() {
  if [ -z "$bk" ]; then
    bk=$st/backups/$(date -u +%Y%m%dT%H%M%SZ)
    j=0
    while [ -e "$bk" ]; do j=$((j+1)); bk=$st/backups/$(date -u +%Y%m%dT%H%M%SZ).$j; done
    mkdir -p -m 0700 -- "$bk"
  fi
  b=$bk$1
  mkdir -p -m 0700 -- "\${b%/*}"
  cp -p -- "$1" "$b"
  echo "backup $(enc "$1") $(enc "$b")"
}
# atomic PATH: the temp file $t (complete, fsynced) replaces PATH
atomic() {
  sync -- "$t" 2>/dev/null || sync
  mv -f -- "$t" "$1"
  t=
  sync -- "\${1%/*}" 2>/dev/null || :
}
temp() {
  d=\${1%/*}
  [ -d "$d" ] || mkdir -p -m 0755 -- "$d"
  n=\${1##*/}
  t=$d/.staticpod-$n.$r.tmp
  if [ -f "$1" ]; then cp -p -- "$1" "$t"; else (set -C; : > "$t"); fi
}
mkdir -p -m 0700 -- "$st"
if command -v flock >/dev/null 2>&1; then
  exec 9>>"$st/lock"
  flock -w 60 9 || fail "another staticpod has held $st/lock for 60s"
fi
# Check every file first: nothing is written when any changed since it was read.
while [ "$n" -gt 0 ]; do
  p=$1 old=$2
  shift 2
  n=$((n-1))
  case $p in /*) ;; *) fail "not an absolute path: $p" ;; esac
  if [ "$(sum "$p")" != "$old" ]; then echo "staticpod: $p changed since it was read" >&2; exit 75; fi
done
i=0
while [ $# -gt 0 ]; do
  i=$((i+1))
  op=$1
  case $op in
  put)
    p=$2 new=$3 data=$4
    shift 4
    [ ! -d "$p" ] || fail "$p is a directory"
    temp "$p"
    printf '%s' "$data" | base64 -d > "$t"
    s=$(sha256sum < "$t")
    [ "\${s%% *}" = "$new" ] || fail "$p: wrote sha256 \${s%% *}, expected $new; nothing was changed"
    if [ -e "$p" ]; then backup "$p"; fi
    atomic "$p"
    ;;
  restore)
    p=$2 b=$3
    shift 3
    [ -f "$b" ] || fail "backup $b is missing"
    temp "$p"
    cat -- "$b" > "$t"
    chmod --reference="$b" -- "$t" 2>/dev/null || :
    atomic "$p"
    ;;
  rm)
    p=$2
    shift 2
    rm -f -- "$p"
    sync -- "\${p%/*}" 2>/dev/null || :
    ;;
  esac
  echo "ok $i"
done
echo done
`

export type WriteStep = {backup: string; op: 'restore'; path: string} | {content: string; old?: string; op: 'put'; path: string} | {op: 'rm'; path: string}

/** The argv that runs `steps` (as root). `old` of a put is the content read before (undefined: the file was absent). */
export function writeArgv(steps: readonly WriteStep[], options: {random?: string; stateDir?: string} = {}): string[] {
  const puts = steps.filter(step => step.op === 'put')
  const stateDir = options.stateDir ?? STATE_DIR
  assertPath(stateDir)
  const random = options.random ?? randomBytes(6).toString('hex')
  if (!/^[\da-f]{8,64}$/.test(random)) throw new Error(`writeArgv: bad random part ${JSON.stringify(random)}`)
  const argv = ['sh', '-c', WRITE_SCRIPT, 'staticpod-write', stateDir, random, String(puts.length)]
  for (const step of puts) argv.push(step.path, step.old === undefined ? '-' : sha256(step.old))
  for (const step of steps) {
    assertPath(step.path)
    switch (step.op) {
    case 'put': {
      argv.push('put', step.path, sha256(step.content), Buffer.from(step.content).toString('base64'))
      break
    }

    case 'restore': {
      assertPath(step.backup)
      argv.push('restore', step.path, step.backup)
      break
    }

    case 'rm': {
      argv.push('rm', step.path)
      break
    }
    }
  }

  return argv
}

export interface WriteOutput {
  /** path → backup path, for files that existed. */
  backups: Map<string, string>
  done: number
  finished: boolean
}

export function parseWriteOutput(stdout: string): WriteOutput {
  const out: WriteOutput = {backups: new Map(), done: 0, finished: false}
  for (const line of stdout.split('\n')) {
    const [tag, a, b] = line.split(' ')
    if (tag === 'ok') out.done++
    else if (tag === 'backup' && a !== undefined && b !== undefined) {
      out.backups.set(Buffer.from(a, 'base64').toString('utf8'), Buffer.from(b, 'base64').toString('utf8'))
    } else if (tag === 'done') out.finished = true
  }

  return out
}

/** A file changed since it was read (exit 75 of the write script). */
export class ChangedSinceReadError extends Error {
  constructor(node: string, message: string) {
    super(`${node}: ${message.trim() || 'a kubelet file changed since it was read'}; nothing was written, run again`)
    this.name = 'ChangedSinceReadError'
  }
}

/** One file written: where its previous bytes are (undefined: it did not exist, and undo removes it). */
export interface WrittenFile {
  backup?: string
  path: string
}

/** Write the planned files (path → new content; `before` path → content read). Returns the backups. */
export async function writeKubeletFiles(
  node: NodeExec,
  files: ReadonlyMap<string, string>,
  before: ReadonlyMap<string, string | undefined>,
  options: {timeoutMs?: number} = {},
): Promise<WrittenFile[]> {
  const steps: WriteStep[] = [...files].map(([path, content]) => ({
    content, old: before.get(path), op: 'put' as const, path,
  }))
  const result = await node.run(writeArgv(steps), {root: true, timeoutMs: options.timeoutMs})
  if (result.code === EXIT_CHANGED) throw new ChangedSinceReadError(node.name, result.stderr)
  const out = parseWriteOutput(result.stdout)
  if (result.code !== 0 || !out.finished) {
    const why = result.stderr.trim() || `exit ${result.code}`
    throw new RemoteCommandError(node.name, 'sh -c <staticpod write>', result, `${node.name}: writing the kubelet's files failed after ${out.done} of ${steps.length}: ${why}`)
  }

  return [...files.keys()].map(path => ({backup: out.backups.get(path), path}))
}

/** Put back the previous bytes of written files (remove those that did not exist). */
export async function restoreKubeletFiles(node: NodeExec, written: readonly WrittenFile[], options: {timeoutMs?: number} = {}): Promise<void> {
  const steps: WriteStep[] = written.map(file => (file.backup === undefined ? {op: 'rm', path: file.path} : {backup: file.backup, op: 'restore', path: file.path}))
  const result = await node.run(writeArgv(steps), {root: true, timeoutMs: options.timeoutMs})
  if (result.code !== 0 || !parseWriteOutput(result.stdout).finished) {
    const why = result.stderr.trim() || `exit ${result.code}`
    throw new RemoteCommandError(node.name, 'sh -c <staticpod restore>', result, `${node.name}: restoring the kubelet's files from ${BACKUPS_DIR} failed: ${why}`)
  }
}

function assertPath(path: string): void {
  if (!path.startsWith('/') || path.includes('\0') || path.includes('\n') || path.split('/').includes('..')) {
    throw new Error(`kubelet-files: not a usable absolute path: ${JSON.stringify(path)}`)
  }
}
