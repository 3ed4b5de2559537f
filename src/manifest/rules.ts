import type {Severity} from './types.js'

/**
 * Every rule staticpod reports, with its default severity and one line on why it exists. The README's
 * rule list and SARIF's rule descriptions come from here.
 */
export interface RuleInfo {
  severity: Severity
  summary: string
}

export const RULES = {
  'api/container-name': {severity: 'error', summary: 'Container names are DNS-1123 labels (lowercase, digits, "-", at most 63 characters).'},
  'api/duplicate-name': {severity: 'error', summary: 'Container, volume and port names must be unique where the API requires it.'},
  'api/enum': {severity: 'error', summary: 'Fields with a fixed set of values (restartPolicy, imagePullPolicy, protocol, dnsPolicy, …) hold one of them.'},
  'api/env-name': {severity: 'error', summary: 'Environment variable names are set, printable ASCII without "=" (Kubernetes ≥ 1.34; older API servers also refuse a leading digit and most punctuation).'},
  'api/host-port': {severity: 'error', summary: 'Host ports do not collide, and equal the container port when hostNetwork is true.'},
  'api/image-required': {severity: 'error', summary: 'Every container names an image (the schema does not require it; the API server and kubelet do).'},
  'api/label': {severity: 'error', summary: 'Label and annotation keys are qualified names; label values are at most 63 characters of [A-Za-z0-9-_.].'},
  'api/name': {severity: 'error', summary: 'metadata.name is a DNS-1123 subdomain.'},
  'api/namespace': {severity: 'error', summary: 'metadata.namespace is a DNS-1123 label.'},
  'api/port-name': {severity: 'error', summary: 'Port names are IANA service names (at most 15 characters, a letter, no "--").'},
  'api/port-range': {severity: 'error', summary: 'Ports are between 1 and 65535.'},
  'api/probe-handler': {severity: 'error', summary: 'A probe or lifecycle hook has exactly one handler (exec, httpGet, tcpSocket, grpc, sleep).'},
  'api/quantity': {severity: 'error', summary: 'Resource quantities parse as Kubernetes quantities ("100m", "1Gi", "0.5").'},
  'api/volume-mount': {severity: 'error', summary: 'Volume mounts and devices name a volume of the pod, with distinct mount paths.'},
  'api/volume-name': {severity: 'error', summary: 'Volume names are DNS-1123 labels.'},
  'api/volume-source': {severity: 'error', summary: 'A volume has exactly one source (hostPath, emptyDir, …).'},
  'dir/duplicate-pod': {severity: 'error', summary: 'Two files in one manifest directory define the same pod; the kubelet runs only one of them.'},
  'dir/empty': {severity: 'error', summary: 'The directory holds no manifests.'},
  'dir/stray-file': {severity: 'error', summary: 'A file the kubelet would load by accident: every non-dot file in the manifest directory is read, whatever its name (*.bak, *~, README).'},
  'dir/subdirectory': {severity: 'warning', summary: 'The kubelet does not read subdirectories and logs an error for each on every rescan.'},
  'file/binary': {severity: 'error', summary: 'The file is binary, not a manifest.'},
  'file/too-large': {severity: 'error', summary: 'The kubelet refuses manifests over 10 MiB.'},
  'file/unreadable': {severity: 'error', summary: 'The file could not be read.'},
  'schema/enum': {severity: 'error', summary: 'A value is not one the Pod schema allows.'},
  'schema/format': {severity: 'error', summary: 'A value does not have the format the Pod schema requires.'},
  'schema/invalid': {severity: 'error', summary: 'The document does not match the Pod schema.'},
  'schema/required': {severity: 'error', summary: 'A field the Kubernetes API requires is missing.'},
  'schema/type': {severity: 'error', summary: 'A field has the wrong type.'},
  'schema/unknown-field': {severity: 'error', summary: 'A field the Pod schema does not know (typos such as imagePullPolcy), with a suggestion.'},
  'static-pod/api-reference': {severity: 'error', summary: 'Static pods may not reference API objects: ServiceAccounts, Secrets, ConfigMaps, PVCs, projected tokens, CSI and ephemeral volumes, imagePullSecrets, resourceClaims.'},
  'static-pod/api-version': {severity: 'error', summary: 'apiVersion is v1.'},
  'static-pod/ephemeral-containers': {severity: 'error', summary: 'Static pods do not support ephemeral containers.'},
  'static-pod/generate-name': {severity: 'error', summary: 'The kubelet does not use generateName; set metadata.name.'},
  'static-pod/kind': {severity: 'error', summary: 'kind is Pod: the kubelet\'s file source loads a single Pod per file (no PodList, no other kinds).'},
  'static-pod/mirror-name-length': {severity: 'error', summary: 'The mirror pod is named <name>-<node>, which must be a DNS-1123 subdomain of at most 253 characters.'},
  'static-pod/multiple-documents': {severity: 'error', summary: 'One document per file: the kubelet reads the first YAML document and silently ignores the rest.'},
  'static-pod/name-required': {severity: 'error', summary: 'metadata.name is set.'},
  'static-pod/overwritten-field': {severity: 'warning', summary: 'A field the kubelet overwrites or ignores for static pods (spec.nodeName, metadata.uid, ownerReferences).'},
  'static-pod/priority-class': {severity: 'error', summary: 'system-node-critical and system-cluster-critical priority classes are allowed only in kube-system.'},
  'yaml/alias-limit': {severity: 'error', summary: 'The document expands too many YAML aliases (an alias bomb).'},
  'yaml/duplicate-key': {severity: 'error', summary: 'A mapping has the same key twice.'},
  'yaml/empty': {severity: 'error', summary: 'The file is empty.'},
  'yaml/empty-document': {severity: 'warning', summary: 'A YAML document is empty.'},
  'yaml/syntax': {severity: 'error', summary: 'The file is not valid YAML or JSON.'},
} as const satisfies Record<string, RuleInfo>

export type RuleId = keyof typeof RULES

export function isRuleId(id: string): id is RuleId {
  return Object.hasOwn(RULES, id)
}

/** Rule ids and categories (`api`, `dir`, …) that `--ignore` accepts. */
export function ruleMatcher(ignore: string[]): (rule: string) => boolean {
  const set = new Set(ignore)
  return rule => set.has(rule) || set.has(rule.slice(0, rule.indexOf('/')))
}

export function ruleDescriptions(): Record<string, string> {
  return Object.fromEntries(Object.entries(RULES).map(([id, info]) => [id, info.summary]))
}
