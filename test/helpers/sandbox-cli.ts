/**
 * Running the built CLI against sandbox nodes, as a user would, and looking at the nodes' files
 * from inside them (not over SSH).
 */
import {existsSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {
  BIN, type CliResult, spawnCapture, type SpawnOptions,
} from './cli.js'

export type Run = CliResult
export type StaticpodOptions = Omit<SpawnOptions, 'env'>

/**
 * Run the built CLI with exactly `env`. It runs in a private mount namespace whose resolv.conf
 * points at loopback, so that a name lookup (an unknown node name) never leaves 127.0.0.0/8.
 */
export async function staticpod(args: string[], env: Record<string, string>, options: StaticpodOptions = {}): Promise<Run> {
  const resolv = path.join(tmpdir(), 'staticpod-e2e-resolv.conf')
  if (!existsSync(resolv)) writeFileSync(resolv, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n')
  const script = 'mount --bind "$0" /etc/resolv.conf && exec "$@"'
  return spawnCapture('unshare', ['--mount', 'sh', '-c', script, resolv, process.execPath, BIN, ...args], {...options, env})
}

/** oclif wraps error messages at 80 columns behind ' ›   ': put them back on one line. */
export function flat(text: string): string {
  return text.replaceAll(/\s*\n ›\s+/g, ' ')
}

/** What these helpers need of a node: a sandbox node, or a simulator cluster node. Commands run inside it as root. */
export interface ExecNode {
  exec(argv: string[], options?: {input?: string}): Promise<{code: null | number; stderr: string; stdout: string}>
  readonly name: string
}

async function execChecked(node: ExecNode, argv: string[], input?: string): Promise<string> {
  const result = await node.exec(argv, input === undefined ? {} : {input})
  if (result.code !== 0) throw new Error(`${node.name}: ${argv.join(' ')} exited with ${result.code}: ${result.stderr}`)
  return result.stdout
}

/** Write a file inside a node (parents created), as root. */
export async function writeNodeFile(node: ExecNode, file: string, content: string, mode = '0644'): Promise<void> {
  await execChecked(node, ['sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"', 'sh', file, mode], content)
}

/** One entry of a directory inside a node. */
export interface NodeDirEntry {
  mode: string
  name: string
  sha256: string
  size: number
  type: string
}

/** Every entry of a directory inside a node, dot files included; [] when it does not exist. */
export async function nodeDir(node: ExecNode, dir: string): Promise<NodeDirEntry[]> {
  const script = [
    '[ -d "$1" ] || exit 0',
    'cd "$1"',
    'for f in .* *; do',
    '  case $f in .|..) continue ;; esac',
    '  [ -e "$f" ] || [ -L "$f" ] || continue',
    // eslint-disable-next-line no-template-curly-in-string -- shell parameter expansion
    '  if [ -f "$f" ]; then s=$(sha256sum < "$f"); s=${s%% *}; else s=-; fi',
    String.raw`  printf '%s\t%s\t%s\t%s\t%s\n' "$(stat -c '%a' "$f")" "$(stat -c '%s' "$f")" "$(stat -c '%F' "$f")" "$s" "$f"`,
    'done',
  ].join('\n')
  const stdout = await execChecked(node, ['sh', '-c', script, 'sh', dir])
  return stdout.split('\n').filter(Boolean).map(line => {
    const [mode, size, type, sha256, ...name] = line.split('\t')
    return {
      mode: mode!, name: name.join('\t'), sha256: sha256!, size: Number(size), type: type!,
    }
  })
}

/** A file's content inside a node, or undefined when it does not exist. */
export async function nodeFile(node: ExecNode, file: string): Promise<string | undefined> {
  const result = await node.exec(['sh', '-c', '[ -f "$1" ] && cat "$1"', 'sh', file])
  return result.code === 0 ? result.stdout : undefined
}
