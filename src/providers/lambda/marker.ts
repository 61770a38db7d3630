// The per-lease handle (SSH key name = instance name) and the ownership marker on Lambda
// instances: encoding at launch, decoding for inventory. Tags carry the exact values; the key
// name (the one field that surely persists, contracts/README.md) is the fallback.

import type { InventoryItem } from "../types";
import type { Instance } from "./wire";

export const HANDLE_PREFIX = "crabbox-";
/** SSHKey.name and InstanceLaunchRequest.name are both limited to 64 characters. */
export const MAX_HANDLE_CHARS = 64;
/** RequestedTagEntry.value is limited to 128 characters. */
const MAX_TAG_VALUE_CHARS = 128;
export const DEPLOYMENT_TAG = "crabbox-deployment";
export const LEASE_TAG = "crabbox-lease";
const LEASE_ID = /^[a-z0-9]{12,20}$/;
const HASH_CHARS = 8;

export type Marker = NonNullable<InventoryItem["marker"]>;

/**
 * `crabbox-<segment>-<leaseId>`. Lease ids hold no dash, so the lease id is always what follows
 * the last dash, whatever the deployment id holds. The segment is the deployment id itself when
 * it is already short and in [a-z0-9-]; otherwise a sanitised prefix plus a hash of the exact id,
 * so two deployments whose ids sanitise alike ("Prod", "prod") still get distinct handles.
 */
export function leaseHandle(deploymentId: string, leaseId: string): string {
  if (!LEASE_ID.test(leaseId)) throw new Error("lease id must match ^[a-z0-9]{12,20}$");
  return `${HANDLE_PREFIX}${deploymentSegment(deploymentId, leaseId.length)}-${leaseId}`;
}

function deploymentSegment(deploymentId: string, leaseIdChars: number): string {
  const budget = MAX_HANDLE_CHARS - HANDLE_PREFIX.length - 1 - leaseIdChars;
  if (/^[a-z0-9]+(-[a-z0-9]+)*$/.test(deploymentId) && deploymentId.length <= budget) return deploymentId;
  const hash = fnv1a32(deploymentId).toString(16).padStart(HASH_CHARS, "0");
  const base = sanitise(deploymentId).slice(0, budget - HASH_CHARS - 1).replace(/-+$/, "");
  return base ? `${base}-${hash}` : hash;
}

function sanitise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** FNV-1a, 32 bit: a stable, synchronous fingerprint (not a security boundary). */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

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

/** Splits a key name into its segment and lease id, or undefined when it is not our format. */
function parseHandle(name: string): { segment: string; leaseId: string } | undefined {
  if (!name.startsWith(HANDLE_PREFIX) || name.length > MAX_HANDLE_CHARS) return undefined;
  const cut = name.lastIndexOf("-");
  const segment = name.slice(HANDLE_PREFIX.length, cut);
  const leaseId = name.slice(cut + 1);
  return segment && LEASE_ID.test(leaseId) ? { segment, leaseId } : undefined;
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
    const parsed = parseHandle(name);
    if (!parsed) continue;
    const own = parsed.segment === deploymentSegment(ownDeploymentId, parsed.leaseId.length);
    return { deploymentId: own ? ownDeploymentId : parsed.segment, leaseId: parsed.leaseId, handle: name };
  }
  return undefined;
}
