/**
 * The name the kubelet registers its Node under, which is also the suffix of its mirror pods
 * (`<pod>-<node name>`, kubelet-facts §1.5): `--hostname-override` when set, else the machine's
 * hostname, trimmed and lowercased (the kubelet's nodeutil.GetHostname). Not the name the user gave
 * staticpod for the node, which is an ssh alias.
 */
import {type KubeletEffective, setting} from './effective.js'

export function kubeletNodeName(eff: KubeletEffective, hostname?: string): string | undefined {
  const override = String(setting(eff, 'hostname-override').value ?? '').trim()
  const name = (override || hostname)?.trim().toLowerCase()
  return name || undefined
}

/** The mirror pod of static pod `pod` on that node. */
export function mirrorPodName(pod: string, nodeName: string): string {
  return `${pod}-${nodeName.toLowerCase()}`
}
