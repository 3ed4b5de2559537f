/**
 * The shell scripts staticpod runs on a node for the "manifests on nodes" commands, the argv that
 * carries them, and parsers for what they print. Pure: nothing here connects or runs anything.
 *
 * Both scripts are constants. Everything that varies (paths, file names, hashes) travels as
 * separate arguments after `sh -c SCRIPT NAME`, which NodeExec.run quotes (src/transport/shell-quote.ts),
 * so no value is ever parsed as shell code, and inside the scripts every expansion is double-quoted.
 * What the scripts print is ASCII lines (names and paths in base64), but for the probe's file
 * contents, which travel as they are and are read as bytes.
 *
 * - The probe reads, in one round trip, the files that feed the kubelet (src/kubelet/effective.ts
 *   KUBELET_FILES), the running kubelet's command line, `systemctl cat kubelet.service`, and lists
 *   manifest directories with each file's content. Read-only.
 * - The apply script changes a manifest directory: under a lock, after checking that the directory
 *   is still what the probe saw (a fingerprint), it writes (dot-prefixed temp file in the same
 *   directory, fsync, rename), removes, parks and unparks files, backing up what it replaces.
 */
import {createHash, randomBytes} from 'node:crypto'

/** The kubelet refuses bigger manifests (kubelet-facts §1.3); the probe does not send their content. */
export const MAX_CONTENT_BYTES = 10 * 1024 * 1024

/** Where staticpod keeps its state on a node: the lock, backups, disabled pods. Outside any manifest directory. */
export const STATE_DIR = '/var/lib/staticpod'
export const DISABLED_DIR = `${STATE_DIR}/disabled`
export const BACKUPS_DIR = `${STATE_DIR}/backups`

/** Exit status of the apply script when the directory changed since it was read: read again and retry. */
export const EXIT_CHANGED = 75

/**
 * `enc VALUE` sets eb to the base64 of VALUE, in the shell itself for printable ASCII (file names,
 * paths), so that naming an entry costs no process on the node; anything else goes through base64(1).
 */
const SHELL_ENC = `asc=' !"#$%&'"'"'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_\`abcdefghijklmnopqrstuvwxyz{|}~'
enc() {
  es=$1 eb=
  case $es in
  *[!\\ -~]*|'') eb=$(printf '%s' "$es" | base64 | tr -d '\\n'); return 0 ;;
  esac
  set -- A B C D E F G H I J K L M N O P Q R S T U V W X Y Z a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 6 7 8 9 + /
  while [ -n "$es" ]; do
    en=0 eg=0
    for ei in 1 2 3; do
      en=$((en << 8))
      [ -n "$es" ] || continue
      er=\${es#?} ec=\${es%"\${es#?}"}
      es=$er
      ep=\${asc%%"$ec"*}
      en=$((en + \${#ep} + 32)) eg=$((eg + 1))
    done
    eval "eb=\\$eb\\\${$((((en >> 18) & 63) + 1))}\\\${$((((en >> 12) & 63) + 1))}"
    if [ $eg -gt 1 ]; then eval "eb=\\$eb\\\${$((((en >> 6) & 63) + 1))}"; else eb=$eb=; fi
    if [ $eg -gt 2 ]; then eval "eb=\\$eb\\\${$(((en & 63) + 1))}"; else eb=$eb=; fi
  done
}`

// ---------------------------------------------------------------------------------------------
// Probe
// ---------------------------------------------------------------------------------------------

/**
 * Arguments: MAX TOKEN MODE ITEM...; MODE is `full` (also the host name, the clock, the kubelet's
 * command line, `systemctl cat`, and manifest directories named in the kubelet's files) or `more`.
 * Each ITEM is TAG:PATH with TAG f (read a file), c (a drop-in directory: read its *.conf files), p
 * (does it exist?), m (a manifest directory: every entry not starting with "."; a regular file is read).
 *
 * Output lines (B: base64 of the raw bytes, on one line; a body is base64 lines ended by "."):
 *   staticpod-probe 2 TOKEN
 *   host B | now EPOCH | systemctl + body | cmdline PID + body        (full mode)
 *   arg I KIND [MTIME SIZE [SHA256]]     for the I-th ITEM (1-based)
 *   cand B KIND [MTIME SIZE [SHA256]]    a manifest directory found in the kubelet's files (full mode)
 *   ent B KIND [MTIME SIZE [SHA256]]     an entry of the directory just announced; then `end`
 *   done
 * KIND: f regular file, F too big (its SHA256, no content), d directory (for arg and cand: its
 * entries follow, then `end`), o something else, - absent, p exists (p items).
 *
 * File contents travel as they are, not in base64: after an `arg`/`cand` line of kind f, and after
 * the `end` of a listing with any f entry, come the files' bytes back to back (SIZE each, in order;
 * one `cat` for a whole directory), then a newline and a line `.TOKEN`. A file that changed size
 * between its `stat` and its `cat` leaves that line elsewhere than the sizes say: the reader then
 * knows the answer is torn, and asks again. A file that cannot be read is announced with size 0.
 */
export const PROBE_SCRIPT = `set -u
LC_ALL=C
export LC_ALL
max=$1 tok=$2 mode=$3
shift 3
nl='
'
echo "staticpod-probe 2 $tok"
${SHELL_ENC}
# hdr PREFIX PATH [STAT]: prints PREFIX KIND [MTIME SIZE [SHA256]]; returns 0 when the content of
# PATH is to follow (a readable regular file), and sets hf=1 for any regular file announced.
hdr() {
  if [ -f "$2" ]; then
    st=\${3-}
    [ -n "$st" ] || st=$(stat -L -c '%Y %s' -- "$2" 2>/dev/null) || { echo "$1 -"; return 1; }
    if [ "\${st#* }" -gt "$max" ]; then
      s=$(sha256sum < "$2") || s=-
      echo "$1 F $st \${s%% *}"
      return 1
    fi
    hf=1
    if [ -r "$2" ]; then
      echo "$1 f $st"
      return 0
    fi
    echo "$1 f \${st% *} 0"
  elif [ -d "$2" ]; then echo "$1 d"
  elif [ -e "$2" ] || [ -L "$2" ]; then echo "$1 o"
  else echo "$1 -"
  fi
  return 1
}
# bodies [FILE...]: the files' bytes as they are, then the line that ends them.
bodies() {
  [ $# -eq 0 ] || cat -- "$@" 2>/dev/null
  echo
  echo ".$tok"
}
item() {
  hf=0
  if hdr "$1" "$2"; then bodies "$2"; elif [ $hf = 1 ]; then bodies; fi
}
list() {
  if [ -d "$2" ]; then
    # A manifest directory this user cannot read would list as empty: say so instead (no sudo, sudo: false).
    if [ "$3" = m ] && { [ ! -r "$2" ] || [ ! -x "$2" ]; }; then
      echo "staticpod: cannot list $2: permission denied (run as root or with sudo)" >&2
      exit 13
    fi
    echo "$1 d"
    lk=$3
    set -- "$2"/*
    k=$#
    # One stat for the whole directory; when any entry fails it (gone, a broken link), each is asked alone.
    sts=
    if [ -e "$1" ] || [ -L "$1" ]; then sts=$(stat -L -c '%Y %s' -- "$@" 2>/dev/null) || sts=; fi
    hf=0
    # The files whose content follows are added after the entries, and read by one cat at the end.
    for e; do
      st=
      case $sts in
      *"$nl"*) st=\${sts%%"$nl"*} sts=\${sts#*"$nl"} ;;
      *) st=$sts sts= ;;
      esac
      [ -e "$e" ] || [ -L "$e" ] || continue
      n=\${e##*/}
      if [ "$lk" = c ]; then case $n in *.conf) ;; *) continue ;; esac; fi
      enc "$n"
      if hdr "ent $eb" "$e" "$st"; then set -- "$@" "$e"; fi
      if [ "$mode" = full ] && [ "$lk" = c ] && [ -f "$e" ]; then scan < "$e"; fi
    done
    shift "$k"
    echo end
    [ $hf = 0 ] || bodies "$@"
  else
    item "$1" "$2"
  fi
}
cands=
scan() {
  found=$(sed -E -n \\
    -e 's|.*"?staticPodPath"?[[:space:]]*:[[:space:]]*["'"'"']?(/[^"'"'"'[:space:],#}]*).*|\\1|p' \\
    -e 's|.*--pod-manifest-path[= ]["'"'"']?(/[^"'"'"'[:space:]]*).*|\\1|p' 2>/dev/null) || found=
  [ -z "$found" ] || cands="$cands
$found"
}
# kubelet_cmdline: the running kubelet's command line. The shell reads /proc/PID/comm a byte at a time:
# on a node with many processes (kernel threads count), one pgrep is cheaper than reading them all.
kubelet_cmdline() {
  set -- /proc/[0-9]*
  if [ $# -gt 100 ] && command -v pgrep >/dev/null 2>&1; then set -- $(pgrep -x kubelet 2>/dev/null); fi
  for d; do
    d=/proc/\${d#/proc/}
    c=
    read -r c 2>/dev/null < "$d/comm" || continue
    [ "$c" = kubelet ] || continue
    echo "cmdline \${d#/proc/}"
    base64 < "$d/cmdline" 2>/dev/null || :
    echo .
    # Not piped into scan: a pipeline runs it in a subshell, and the candidates it finds would be lost.
    t=$(tr '\\0' '\\n' < "$d/cmdline" 2>/dev/null) || t=
    scan <<EOF
$t
EOF
    break
  done
}
listed='
'
i=0
if [ "$mode" = full ]; then
  h=
  read -r h 2>/dev/null < /proc/sys/kernel/hostname || h=$(uname -n)
  enc "$h"
  echo "host $eb"
  echo "now $(date +%s)"
  sc=$(command -v systemctl 2>/dev/null) || sc=
  # The distribution's systemctl answers nothing where systemd is not running (a container): not asked.
  case $sc in /bin/systemctl|/usr/bin/systemctl) [ -d /run/systemd/system ] || sc= ;; esac
  if [ -n "$sc" ]; then
    t=
    if command -v timeout >/dev/null 2>&1; then t='timeout 10'; fi
    s=$($t systemctl cat --no-pager kubelet.service 2>/dev/null; echo x)
    s=\${s%x}
    if [ -n "$s" ]; then
      echo systemctl
      printf '%s' "$s" | base64
      echo .
      scan <<EOF
$s
EOF
    fi
  fi
  kubelet_cmdline
fi
for a; do
  i=$((i+1))
  p=\${a#?:}
  case $a in
  f:*)
    item "arg $i" "$p"
    if [ "$mode" = full ] && [ -f "$p" ]; then scan < "$p"; fi
    ;;
  p:*) if [ -e "$p" ]; then echo "arg $i p"; else echo "arg $i -"; fi ;;
  c:*) list "arg $i" "$p" c ;;
  m:*)
    list "arg $i" "$p" m
    listed="$listed$p
"
    ;;
  esac
done
if [ "$mode" = full ] && [ -n "$cands" ]; then
  printf '%s\\n' "$cands" | sort -u | while IFS= read -r c; do
    [ -n "$c" ] || continue
    case $listed in *"
$c
"*) continue ;; esac
    enc "$c"
    list "cand $eb" "$c" m
  done
fi
echo done
`

export type ProbeItem = {path: string; tag: 'conf-dir'} | {path: string; tag: 'exists'} | {path: string; tag: 'file'} | {path: string; tag: 'manifest-dir'}

export interface ProbeRequest {
  items: ProbeItem[]
  /** Also the host name, clock, kubelet command line, systemctl cat and candidate directories. */
  mode: 'full' | 'more'
}

const TAGS: Record<ProbeItem['tag'], string> = {
  'conf-dir': 'c', exists: 'p', file: 'f', 'manifest-dir': 'm',
}

/** The argv that runs the probe (as root: the kubelet's files and manifests are root's). */
export function probeArgv(request: ProbeRequest): string[] {
  for (const item of request.items) assertAbsolute(item.path)
  // The token ends file contents; it is random so that no file can hold it by design.
  const token = randomBytes(8).toString('hex')
  return ['sh', '-c', PROBE_SCRIPT, 'staticpod-probe', String(MAX_CONTENT_BYTES), token, request.mode, ...request.items.map(item => `${TAGS[item.tag]}:${item.path}`)]
}

/** One file or directory entry as the probe saw it. */
export interface ProbedEntry {
  /** Regular files up to MAX_CONTENT_BYTES. */
  content?: Buffer
  kind: 'absent' | 'dir' | 'file' | 'other'
  /** Modification time, seconds since the epoch (regular files). */
  mtime?: number
  /** Decoded as UTF-8 for display; `raw` has the exact bytes. */
  name: string
  raw: Buffer
  /** sha256 hex of the content (regular files). */
  sha256?: string
  size?: number
  /** A regular file bigger than MAX_CONTENT_BYTES: no content. */
  tooLarge?: boolean
}

/** A path the probe looked at; a directory's entries when it is a directory that was listed. */
export interface ProbedPath {
  entries?: ProbedEntry[]
  entry: ProbedEntry
  path: string
}

export interface ProbeAnswer {
  /** manifest directories found in the kubelet's files by the probe itself (full mode). */
  candidates: ProbedPath[]
  /** The running kubelet's /proc/PID/cmdline (NUL-separated). */
  cmdline?: {pid: number; text: string}
  hostname?: string
  /** The node's clock, seconds since the epoch. */
  now?: number
  /** One per request item, in order. */
  results: Array<ProbedPath & {item: ProbeItem}>
  systemctlCat?: string
}

export class ProbeOutputError extends Error {
  constructor(message: string) {
    super(`unexpected output from the node's probe script: ${message}`)
    this.name = 'ProbeOutputError'
  }
}

/** A file changed size between the probe's stat and its read: the answer is torn; ask again. */
export class ProbeTornError extends ProbeOutputError {
  constructor() {
    super('a file changed while it was read')
    this.name = 'ProbeTornError'
  }
}

/**
 * Parse what PROBE_SCRIPT printed for `request` (the exact bytes: file contents are not encoded).
 * Throws ProbeTornError when a file changed while it was read, ProbeOutputError on anything else
 * malformed or cut short.
 */
export function parseProbeOutput(out: Buffer, request: ProbeRequest): ProbeAnswer {
  let at = 0
  const next = (): string => {
    if (at >= out.length) throw new ProbeOutputError('output ends early')
    const end = out.indexOf(0x0A, at)
    const line = out.toString('utf8', at, end === -1 ? out.length : end)
    at = end === -1 ? out.length : end + 1
    return line
  }

  const body = (): Buffer => {
    const parts: string[] = []
    for (let line = next(); line !== '.'; line = next()) parts.push(line)
    return Buffer.from(parts.join(''), 'base64')
  }

  const first = next()
  const token = /^staticpod-probe 2 ([\da-f]{16})$/.exec(first)?.[1]
  if (!token) throw new ProbeOutputError(`first line is not "staticpod-probe 2 TOKEN": ${JSON.stringify(first.slice(0, 80))}`)
  const end = Buffer.from(`\n.${token}\n`)

  /** The contents of the announced files: their sizes' worth of bytes each, then the end line. */
  const contents = (files: ProbedEntry[]): void => {
    const total = files.reduce((sum, file) => sum + file.size!, 0)
    if (at + total + end.length > out.length) throw new ProbeOutputError('output ends early')
    if (!out.subarray(at + total, at + total + end.length).equals(end)) {
      if (out.includes(end, at)) throw new ProbeTornError()
      throw new ProbeOutputError('file contents are not followed by their end line')
    }

    for (const file of files) {
      file.content = Buffer.from(out.subarray(at, at + file.size!))
      file.sha256 = sha256(file.content)
      at += file.size!
    }

    at += end.length
  }

  const answer: ProbeAnswer = {candidates: [], results: []}
  const entry = (fields: string[], name: Buffer): ProbedEntry => {
    const [kind, mtime, size, sha] = fields
    const base = {name: name.toString('utf8'), raw: name}
    switch (kind) {
    case '-': {
      return {...base, kind: 'absent'}
    }

    case 'd': {
      return {...base, kind: 'dir'}
    }

    case 'f': {
      const bytes = Number(size)
      if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_CONTENT_BYTES) throw new ProbeOutputError(`bad size ${JSON.stringify(size)}`)
      return {
        ...base, kind: 'file', mtime: Number(mtime), size: bytes,
      }
    }

    case 'F': {
      return {
        ...base, kind: 'file', mtime: Number(mtime), sha256: sha, size: Number(size), tooLarge: true,
      }
    }

    case 'o':
    case 'p': {
      // p: an `exists` item that exists, whatever it is.
      return {...base, kind: 'other'}
    }

    default: {
      throw new ProbeOutputError(`unknown kind ${JSON.stringify(kind)}`)
    }
    }
  }

  /** A file whose content follows its line (not in a listing). */
  const withContent = (probed: ProbedEntry): ProbedEntry => {
    if (probed.kind === 'file' && !probed.tooLarge) contents([probed])
    return probed
  }

  const entries = (): ProbedEntry[] => {
    const listed: ProbedEntry[] = []
    for (let line = next(); line !== 'end'; line = next()) {
      const [tag, name, ...fields] = line.split(' ')
      if (tag !== 'ent' || name === undefined) throw new ProbeOutputError(`expected an entry, got ${JSON.stringify(line.slice(0, 80))}`)
      listed.push(entry(fields, Buffer.from(name, 'base64')))
    }

    const files = listed.filter(e => e.kind === 'file' && !e.tooLarge)
    if (files.length > 0) contents(files)
    return listed
  }

  for (;;) {
    const line = next()
    if (line === 'done') break
    const [tag, first, ...rest] = line.split(' ')
    switch (tag) {
    case 'arg': {
      const item = request.items[Number(first) - 1]
      if (!item) throw new ProbeOutputError(`no item ${first}`)
      const probed = entry(rest, Buffer.from(item.path))
      const listed = probed.kind === 'dir' && (item.tag === 'conf-dir' || item.tag === 'manifest-dir')
      answer.results.push({
        entry: withContent(probed), item, path: item.path, ...(listed ? {entries: entries()} : {}),
      })
      break
    }

    case 'cand': {
      const path = Buffer.from(first ?? '', 'base64').toString('utf8')
      const probed = withContent(entry(rest, Buffer.from(path)))
      answer.candidates.push({entry: probed, path, ...(probed.kind === 'dir' ? {entries: entries()} : {})})
      break
    }

    case 'cmdline': {
      answer.cmdline = {pid: Number(first), text: body().toString('utf8')}
      break
    }

    case 'host': {
      answer.hostname = Buffer.from(first ?? '', 'base64').toString('utf8')
      break
    }

    case 'now': {
      answer.now = Number(first)
      break
    }

    case 'systemctl': {
      answer.systemctlCat = body().toString('utf8')
      break
    }

    default: {
      throw new ProbeOutputError(`unexpected line ${JSON.stringify(line.slice(0, 80))}`)
    }
    }
  }

  if (answer.results.length !== request.items.length) {
    throw new ProbeOutputError(`${answer.results.length} of ${request.items.length} items answered`)
  }

  return answer
}

// ---------------------------------------------------------------------------------------------
// Apply
// ---------------------------------------------------------------------------------------------

/**
 * Arguments: STATE MANIFEST_DIR DISABLED_DIR FINGERPRINT BACKUP(1|0) RANDOM, then steps:
 *   put NAME SHA256   standard input → MANIFEST_DIR/.staticpod-NAME.RANDOM.tmp (mode 0600), check
 *                     its sha256 (a cut connection gives a short file: nothing is changed), fsync,
 *                     back up MANIFEST_DIR/NAME, rename onto it, fsync the directory
 *   rm NAME           back up and remove MANIFEST_DIR/NAME
 *   park NAME         MANIFEST_DIR/NAME → DISABLED_DIR/NAME (copy to a temp file there, fsync,
 *                     rename, then remove the original: never a partial file in either directory)
 *   unpark NAME       DISABLED_DIR/NAME → MANIFEST_DIR/NAME the same way
 *   rmp NAME          back up and remove DISABLED_DIR/NAME
 * Before any step, under an flock on STATE/lock, the listing of both directories must equal
 * FINGERPRINT (see fingerprint(); else exit 75: read again). Output: `ok I` per step, `backup I B(PATH)` per backup,
 * then `done`. Any failure exits non-zero with a message on stderr; the temp file is removed on any
 * exit, also when the session is gone (TERM from the watchdog, HUP; SIGPIPE is ignored so that a
 * message to a closed stderr is an error that exits through the trap, not a silent death). Under the
 * lock no other staticpod is writing, so dot-prefixed temp files left by a run that was killed
 * (SIGKILL) are removed.
 */
export const APPLY_SCRIPT = `set -eu
LC_ALL=C
export LC_ALL
umask 077
st=$1 d=$2 p=$3 want=$4 keep=$5 r=$6
shift 6
t=
bk=
trap '[ -z "$t" ] || rm -f -- "$t"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
trap '' PIPE
fail() { echo "staticpod: $*" >&2; exit 1; }
${SHELL_ENC}
nl='
'
# fp DIR appends to got a line "B MARK" for each entry of DIR not starting with ".", in the shell's (byte)
# order: B the base64 of its name, MARK the sha256 of a regular file, d for a directory, o for anything
# else. One sha256sum covers the directory's regular files; when it fails (a file went away), each file
# is hashed alone. A directory that changes meanwhile gives another listing, and so exit 75: read again.
fp() {
  fd=$1
  set -- "$fd"/*
  k=$#
  for e; do
    if [ -f "$e" ]; then set -- "$@" "$e"; fi
  done
  shift "$k"
  sums=
  [ $# -eq 0 ] || sums=$(sha256sum -- "$@" 2>/dev/null) || sums=
  for e in "$fd"/*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    if [ -f "$e" ]; then
      case $sums in
      *"$nl"*) s=\${sums%%"$nl"*} sums=\${sums#*"$nl"} ;;
      *) s=$sums sums= ;;
      esac
      s=\${s#\\\\}
      s=\${s%% *}
      [ -n "$s" ] || { s=$(sha256sum < "$e"); s=\${s%% *}; }
    elif [ -d "$e" ]; then s=d
    else s=o
    fi
    enc "\${e##*/}"
    got="$got$eb $s$nl"
  done
}
backup() {
  [ "$keep" = 1 ] || return 0
  if [ -z "$bk" ]; then
    bk=$st/backups/$(date -u +%Y%m%dT%H%M%SZ)
    mkdir -p -m 0700 -- "$bk"
  fi
  b=$bk/$2
  j=0
  while [ -e "$b" ] || [ -L "$b" ]; do j=$((j+1)); b=$bk/$2.$j; done
  cp -p -- "$1" "$b"
  enc "$b"
  echo "backup $i $eb"
}
isdir() { [ -d "$1" ] && fail "$1 is a directory"; return 0; }
# relocate FROM TO: move $n from one directory to the other (parking and unparking) without either ever
# holding a partial file: copy into a dot-prefixed temp file in TO, fsync, back up what TO holds, rename,
# and only then remove it from FROM.
relocate() {
  isdir "$1/$n"
  [ -d "$2" ] || mkdir -p -m 0700 -- "$2"
  isdir "$2/$n"
  u=$2/.staticpod-$n.$r.tmp
  set -C
  : > "$u"
  set +C
  t=$u
  cp -p -- "$1/$n" "$t"
  sync -- "$t" 2>/dev/null || sync
  if [ -e "$2/$n" ] || [ -L "$2/$n" ]; then backup "$2/$n" "$n"; fi
  mv -f -- "$t" "$2/$n"
  t=
  sync -- "$2" 2>/dev/null || :
  rm -f -- "$1/$n"
  sync -- "$1" 2>/dev/null || :
}
[ -d "$st" ] || mkdir -p -m 0700 -- "$st"
if command -v flock >/dev/null 2>&1; then
  exec 9>>"$st/lock"
  flock -w 60 9 || fail "another staticpod has held $st/lock for 60s"
  for e in "$d"/.staticpod-*.tmp "$p"/.staticpod-*.tmp; do
    if [ -e "$e" ] || [ -L "$e" ]; then rm -f -- "$d"/.staticpod-*.tmp "$p"/.staticpod-*.tmp; break; fi
  done
fi
got=
fp "$d"
got=$got-$nl
fp "$p"
if [ "$got" != "$want" ]; then
  echo "staticpod: $d changed since it was read" >&2
  exit 75
fi
i=0
while [ $# -gt 0 ]; do
  i=$((i+1))
  op=$1 n=$2
  shift 2
  case $n in ''|.|..|*/*) fail "bad file name" ;; esac
  case $op in
  put)
    sha=$1
    shift
    [ -d "$d" ] || mkdir -p -m 0700 -- "$d"
    isdir "$d/$n"
    u=$d/.staticpod-$n.$r.tmp
    set -C
    : > "$u"
    set +C
    t=$u
    cat > "$t"
    s=$(sha256sum < "$t")
    [ "\${s%% *}" = "$sha" ] || fail "received $(wc -c < "$t") bytes with sha256 \${s%% *}, expected $sha: the upload was cut short, nothing was changed"
    sync -- "$t" 2>/dev/null || sync
    if [ -e "$d/$n" ] || [ -L "$d/$n" ]; then backup "$d/$n" "$n"; fi
    mv -f -- "$t" "$d/$n"
    t=
    sync -- "$d" 2>/dev/null || :
    ;;
  rm)
    isdir "$d/$n"
    backup "$d/$n" "$n"
    rm -f -- "$d/$n"
    sync -- "$d" 2>/dev/null || :
    ;;
  park)
    relocate "$d" "$p"
    ;;
  unpark)
    relocate "$p" "$d"
    ;;
  rmp)
    isdir "$p/$n"
    backup "$p/$n" "$n"
    rm -f -- "$p/$n"
    sync -- "$p" 2>/dev/null || :
    ;;
  *) fail "unknown step $op" ;;
  esac
  echo "ok $i"
done
echo done
`

export type ApplyStep = {content: Buffer; name: string; op: 'put'} | {name: string; op: 'park' | 'rm' | 'rmp' | 'unpark'}

export interface ApplyContext {
  /** Back up what is replaced or removed (--no-backup: false). */
  backup: boolean
  disabledDir: string
  /** fingerprint() of the directories as the plan saw them. */
  fingerprint: string
  manifestDir: string
  /** Hex; makes the temp file name unique. */
  random: string
  stateDir: string
}

/**
 * The argv and standard input that run `steps` (at most one `put`: its content is the standard
 * input). Every name must be a single path component; anything else is a bug and throws.
 */
export function applyArgv(context: ApplyContext, steps: readonly ApplyStep[]): {argv: string[]; stdin?: Buffer} {
  for (const path of [context.stateDir, context.manifestDir, context.disabledDir]) assertAbsolute(path)
  if (!/^[\da-f]{8,64}$/.test(context.random)) throw new Error(`applyArgv: bad random part ${JSON.stringify(context.random)}`)
  if (!FINGERPRINT.test(context.fingerprint)) throw new Error('applyArgv: bad fingerprint')
  const puts = steps.filter(step => step.op === 'put')
  if (puts.length > 1) throw new Error('applyArgv: one put per run (its content is the standard input)')
  const argv = [
    'sh',
    '-c',
    APPLY_SCRIPT,
    'staticpod-apply',
    context.stateDir,
    context.manifestDir,
    context.disabledDir,
    context.fingerprint,
    context.backup ? '1' : '0',
    context.random,
  ]
  for (const step of steps) {
    assertComponent(step.name)
    argv.push(step.op, step.name)
    if (step.op === 'put') argv.push(sha256(step.content))
  }

  return {argv, stdin: puts[0]?.content}
}

export interface ApplyOutput {
  /** Backup file per step index (0-based). */
  backups: Map<number, string>
  /** Steps that were done, in order (0-based indexes). */
  done: number[]
  /** The script ran to its end. */
  finished: boolean
}

/** Parse what APPLY_SCRIPT printed (also when it failed half-way: the steps done so far). */
export function parseApplyOutput(stdout: string): ApplyOutput {
  const out: ApplyOutput = {backups: new Map(), done: [], finished: false}
  for (const line of stdout.split('\n')) {
    const [tag, index, value] = line.split(' ')
    if (tag === 'ok') out.done.push(Number(index) - 1)
    else if (tag === 'backup' && value !== undefined) out.backups.set(Number(index) - 1, Buffer.from(value, 'base64').toString('utf8'))
    else if (tag === 'done') out.finished = true
  }

  return out
}

// ---------------------------------------------------------------------------------------------
// Fingerprint
// ---------------------------------------------------------------------------------------------

/** What the fingerprint covers of one entry. */
export interface FingerprintEntry {
  kind: ProbedEntry['kind']
  raw: Buffer
  sha256?: string
}

/**
 * The fingerprint of the manifest directory and the disabled directory, as the apply script builds it
 * on the node: for each entry not starting with "." in byte order, the base64 of its name, a space,
 * and the sha256 of a regular file (d for a directory, o for anything else), then a newline; the two
 * lists separated by a line "-". The listing itself, not a hash of it: the script compares it as it
 * is, which spares the node a pipeline and a second sha256sum per run.
 */
export function fingerprint(manifestEntries: readonly FingerprintEntry[], disabledEntries: readonly FingerprintEntry[]): string {
  const list = (entries: readonly FingerprintEntry[]): string => entries
  .filter(e => e.kind !== 'absent' && e.raw[0] !== 0x2E)
  .sort((a, b) => Buffer.compare(a.raw, b.raw))
  .map(entry => `${entry.raw.toString('base64')} ${entry.kind === 'file' ? entry.sha256 ?? '-' : (entry.kind === 'dir' ? 'd' : 'o')}\n`)
  .join('')
  return `${list(manifestEntries)}-\n${list(disabledEntries)}`
}

/** What fingerprint() returns: lines "BASE64 MARK", a line "-", lines "BASE64 MARK". */
const FINGERPRINT = /^(?:[\d+/=A-Za-z]+ (?:[\da-f]{64}|[do-])\n)*-\n(?:[\d+/=A-Za-z]+ (?:[\da-f]{64}|[do-])\n)*$/

/** What a script said about why it stopped: its last `staticpod: ` line on stderr, without the prefix. */
export function scriptSaid(stderr: string): string | undefined {
  return stderr.split('\n').findLast(line => line.startsWith('staticpod: '))?.slice('staticpod: '.length)
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

function assertAbsolute(path: string): void {
  if (!path.startsWith('/') || path.includes('\0') || path.includes('\n')) throw new Error(`node-scripts: not a usable absolute path: ${JSON.stringify(path)}`)
}

function assertComponent(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new Error(`node-scripts: not a single file name: ${JSON.stringify(name)}`)
  }
}
