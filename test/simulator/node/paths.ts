// Where the simulator keeps its state on a node. /var/lib/sim is a private directory of each sandbox node
// (visible on the host under node.root); /run is the node's own and emptied when the node boots.

export const SIM_DIR = '/var/lib/sim'
/** The shims (systemctl, crictl, docker, journalctl, kubelet), bind-mounted over /usr/local/bin and /usr/local/sbin. */
export const SIM_BIN = `${SIM_DIR}/bin`
/** The node's journal: one JSON object per line (see journal.ts). */
export const JOURNAL_FILE = `${SIM_DIR}/journal/journal.jsonl`
/** How the node was set up: {runtime: 'containerd' | 'docker', hostname, ...} (written by the cluster starter). */
export const NODE_CONFIG = `${SIM_DIR}/node.json`
/** The node daemon's own log (its stderr): useful when debugging the simulator itself. */
export const DAEMON_LOG = `${SIM_DIR}/simd.log`

export const RUN_DIR = '/run/sim'
/** systemctl ↔ the systemd stand-in. */
export const SYSTEMD_SOCKET = `${RUN_DIR}/systemd.sock`
export const DAEMON_PID = `${RUN_DIR}/simd.pid`

export const CONTAINERD_SOCKET = '/run/containerd/containerd.sock'
export const DOCKER_SOCKET = '/run/docker.sock'
export const CRI_DOCKERD_SOCKET = '/run/cri-dockerd.sock'

/** Container logs, as the kubelet lays them out: /var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log. */
export const POD_LOGS_DIR = '/var/log/pods'
export const CONTAINER_LOGS_DIR = '/var/log/containers'

export interface NodeConfig {
  /** The node's hostname (its UTS namespace's), which the kubelet uses as node name. */
  hostname: string
  /** The kubelet's node IP (the sandbox node's loopback address). */
  nodeIp: string
  runtime: 'containerd' | 'docker'
}
