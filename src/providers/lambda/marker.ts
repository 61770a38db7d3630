// The ownership marker on Lambda instances: the per-lease handle (../handle.ts) is the SSH key
// name and the instance name; tags carry the exact values. Tags win when decoding; the key name
// (the one field that surely persists, contracts/README.md) is the fallback.

import { deploymentSegment, HANDLE_PREFIX, LEASE_ID, leaseHandle, markerOfHandle, parseHandle } from "../handle";
import type { InventoryItem } from "../types";
import type { Instance } from "./wire";

export { HANDLE_PREFIX, leaseHandle };
/** RequestedTagEntry.value is limited to 128 characters. */
const MAX_TAG_VALUE_CHARS = 128;
export const DEPLOYMENT_TAG = "crabbox-deployment";
export const LEASE_TAG = "crabbox-lease";

export type Marker = NonNullable<InventoryItem["marker"]>;

/** The deployment tag's value: the exact id, or the handle segment when it is too long for a tag. */
function deploymentTagValue(deploymentId: string): string {
  return deploymentId.length <= MAX_TAG_VALUE_CHARS ? deploymentId : deploymentSegment(deploymentId, 20);
}

export function markerTags(deploymentId: string, leaseId: string): { key: string; value: string }[] {
  return [
    { key: DEPLOYMENT_TAG, value: deploymentTagValue(deploymentId) },
    { key: LEASE_TAG, value: leaseId },
  ];
}

/**
 * Reads the crabbox marker of an instance. Tags win (exact values); the key name is the
 * fallback. A decoded value that is this deployment's own encoding is reported as the exact
 * `ownDeploymentId`, so the sweep can compare ids; a foreign one is reported as found.
 */
export function decodeMarker(instance: Instance, ownDeploymentId: string): Marker | undefined {
  const tag = (key: string) => instance.tags?.find((t) => t.key === key)?.value;
  const tagDeployment = tag(DEPLOYMENT_TAG);
  const tagLease = tag(LEASE_TAG);
  if (tagDeployment !== undefined && tagLease !== undefined && LEASE_ID.test(tagLease)) {
    const own = tagDeployment === deploymentTagValue(ownDeploymentId);
    const deploymentId = own ? ownDeploymentId : tagDeployment;
    const fromKey = instance.ssh_key_names.find((name) => parseHandle(name)?.leaseId === tagLease);
    return { deploymentId, leaseId: tagLease, handle: fromKey ?? leaseHandle(deploymentId, tagLease) };
  }
  for (const name of instance.ssh_key_names) {
    const marker = markerOfHandle(name, ownDeploymentId);
    if (marker) return marker;
  }
  return undefined;
}

/** This deployment's marker in a key object's name (the handle), or undefined for anyone else's key. */
export function keyMarker(name: string, ownDeploymentId: string): Marker | undefined {
  const marker = markerOfHandle(name, ownDeploymentId);
  return marker?.deploymentId === ownDeploymentId ? marker : undefined;
}
