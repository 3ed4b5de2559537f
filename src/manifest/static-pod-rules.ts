import type {RawFinding} from './parse.js'

import * as names from './names.js'
import {
  asArray, asObject, asString, eachContainer, eachObject, type Obj,
} from './object.js'

/**
 * What the kubelet's file source demands of a static pod beyond ordinary pod validation
 * (research/kubelet-facts.md §1.3–1.5 and §4.2).
 */

export interface StaticPodContext {
  /** The node the pod will run on, when known: the mirror pod is named <name>-<node>. */
  nodeName?: string
}

/** Checks that decide whether the document is a Pod at all; when they fail, nothing else is checked. */
export function checkKind(doc: Obj): RawFinding[] {
  const out: RawFinding[] = []
  const {kind} = doc
  if (kind !== 'Pod') {
    const list = kind === 'PodList' || kind === 'List'
    const message
      = kind === undefined
        ? 'kind is missing; a static pod manifest is a single object of kind Pod'
        : `kind is ${JSON.stringify(kind)}, not Pod: the kubelet loads only a single Pod from each file${
          list ? ' (a PodList is accepted only from --manifest-url)' : ''
        }`
    out.push({message, path: kind === undefined ? '' : '/kind', rule: 'static-pod/kind'})
  }

  if (doc.apiVersion !== 'v1') {
    const message
      = doc.apiVersion === undefined
        ? 'apiVersion is missing; a Pod is apiVersion v1'
        : `apiVersion is ${JSON.stringify(doc.apiVersion)}; a Pod is apiVersion v1`
    out.push({message, path: doc.apiVersion === undefined ? '' : '/apiVersion', rule: 'static-pod/api-version'})
  }

  return out
}

export function checkStaticPod(pod: Obj, context: StaticPodContext): RawFinding[] {
  const out: RawFinding[] = []
  const report = (rule: string, path: string, message: string) => out.push({message, path, rule})
  const metadata = asObject(pod.metadata)
  const spec = asObject(pod.spec)

  checkName(metadata, context, report)
  checkOverwritten(metadata, spec, report)
  if (!spec) return out

  const namespace = asString(metadata?.namespace) ?? 'default'
  const priorityClass = asString(spec.priorityClassName)
  if (priorityClass && CRITICAL_PRIORITY_CLASSES.has(priorityClass) && namespace !== 'kube-system') {
    report(
      'static-pod/priority-class',
      '/spec/priorityClassName',
      `priority class ${priorityClass} is allowed only in namespace kube-system (this pod is in ${namespace}); the API server will refuse its mirror pod`,
    )
  }

  for (const [, path] of eachObject(spec, 'ephemeralContainers', '/spec')) {
    report('static-pod/ephemeral-containers', path, 'static pods do not support ephemeral containers')
  }

  checkApiReferences(spec, report)
  return out
}

const CRITICAL_PRIORITY_CLASSES = new Set(['system-cluster-critical', 'system-node-critical'])

type Report = (rule: string, path: string, message: string) => void

function checkName(metadata: Obj | undefined, context: StaticPodContext, report: Report): void {
  const name = asString(metadata?.name)
  if (metadata?.generateName !== undefined) {
    report(
      'static-pod/generate-name',
      '/metadata/generateName',
      name ? 'generateName is ignored for static pods; remove it' : 'the kubelet does not use generateName; set metadata.name instead',
    )
  }

  if (!name) {
    report('static-pod/name-required', '/metadata/name', 'metadata.name is required: the kubelet refuses a pod without a name')
    return
  }

  if (names.dns1123Subdomain(name)) return // api/name reports it
  if (context.nodeName) {
    const mirror = `${name}-${context.nodeName.toLowerCase()}`
    const reason = names.dns1123Subdomain(mirror)
    if (reason) report('static-pod/mirror-name-length', '/metadata/name', `the mirror pod name "${mirror}" ${reason}`)
  } else if (name.length + 2 > 253) {
    report('static-pod/mirror-name-length', '/metadata/name', `name is ${name.length} characters; with "-<node>" appended it exceeds 253`)
  }
}

function checkOverwritten(metadata: Obj | undefined, spec: Obj | undefined, report: Report): void {
  if (spec?.nodeName !== undefined) {
    report('static-pod/overwritten-field', '/spec/nodeName', 'spec.nodeName is ignored: the kubelet sets it to the node the manifest is on')
  }

  if (metadata?.uid !== undefined) {
    report(
      'static-pod/overwritten-field',
      '/metadata/uid',
      'metadata.uid fixes the pod UID and config.hash, so later edits of this manifest will not be seen as changes; remove it',
    )
  }

  if (metadata?.ownerReferences !== undefined) {
    report('static-pod/overwritten-field', '/metadata/ownerReferences', 'ownerReferences are replaced: the mirror pod is owned by its Node')
  }
}

/** Volume sources that reference API objects (pkg/api/pod/util.go HasAPIObjectReference). */
const FORBIDDEN_VOLUMES: Record<string, string> = {
  azureFile: 'secrets',
  configMap: 'configmaps',
  csi: 'csidrivers',
  ephemeral: 'persistentvolumeclaims',
  glusterfs: 'endpoints',
  persistentVolumeClaim: 'persistentvolumeclaims',
  secret: 'secrets',
}
/** Allowed volume sources that can still name a Secret. */
const SECRET_REF_VOLUMES = ['cephfs', 'cinder', 'flexVolume', 'iscsi', 'rbd', 'scaleIO', 'storageos']
const FORBIDDEN_PROJECTIONS: Record<string, string> = {
  clusterTrustBundle: 'clustertrustbundles',
  configMap: 'configmaps',
  podCertificate: 'podcertificaterequests',
  secret: 'secrets',
  serviceAccountToken: 'serviceaccounts (projected tokens)',
}

function checkApiReferences(spec: Obj, report: Report): void {
  const forbid = (path: string, what: string) =>
    report(
      'static-pod/api-reference',
      path,
      `static pods may not reference ${what}: the kubelet refuses the pod (v1.34+), older API servers refuse its mirror pod`,
    )

  if (asString(spec.serviceAccountName)) forbid('/spec/serviceAccountName', 'serviceaccounts')
  if (asString(spec.serviceAccount)) forbid('/spec/serviceAccount', 'serviceaccounts')
  if (asArray(spec.imagePullSecrets).length > 0) forbid('/spec/imagePullSecrets', 'secrets (imagePullSecrets)')
  if (asArray(spec.resourceClaims).length > 0) forbid('/spec/resourceClaims', 'resourceclaims')

  for (const [volume, path] of eachObject(spec, 'volumes', '/spec')) {
    for (const [source, what] of Object.entries(FORBIDDEN_VOLUMES)) {
      if (volume[source] !== undefined) forbid(`${path}/${source}`, `${what} (${source} volume "${asString(volume.name) ?? '?'}")`)
    }

    for (const source of SECRET_REF_VOLUMES) {
      if (asObject(volume[source])?.secretRef !== undefined) forbid(`${path}/${source}/secretRef`, `secrets (${source}.secretRef)`)
    }

    for (const [projection, projectionPath] of eachObject(asObject(volume.projected), 'sources', `${path}/projected`)) {
      for (const [source, what] of Object.entries(FORBIDDEN_PROJECTIONS)) {
        if (projection[source] !== undefined) forbid(`${projectionPath}/${source}`, `${what} (projected ${source})`)
      }
    }
  }

  for (const {container, path} of eachContainer(spec)) {
    for (const [env, envPath] of eachObject(container, 'env', path)) {
      const from = asObject(env.valueFrom)
      if (from?.secretKeyRef !== undefined) forbid(`${envPath}/valueFrom/secretKeyRef`, 'secrets (secretKeyRef)')
      if (from?.configMapKeyRef !== undefined) forbid(`${envPath}/valueFrom/configMapKeyRef`, 'configmaps (configMapKeyRef)')
    }

    for (const [envFrom, envFromPath] of eachObject(container, 'envFrom', path)) {
      if (envFrom.secretRef !== undefined) forbid(`${envFromPath}/secretRef`, 'secrets (envFrom.secretRef)')
      if (envFrom.configMapRef !== undefined) forbid(`${envFromPath}/configMapRef`, 'configmaps (envFrom.configMapRef)')
    }
  }
}
