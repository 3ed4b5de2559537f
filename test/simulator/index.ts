// The node simulator: sandbox nodes that behave like Kubernetes nodes (kubelet, container runtime, systemd,
// journal) and an API server stand-in. See README.md next to this file.
export {
  type Cluster, type ClusterNode, type ClusterNodeSpec, type ClusterOptions, type Container, type JournalEntry, type Layout, type PodSandbox, type RuntimeState, startCluster,
} from './cluster.js'
