// The ownership marker on Coder workspaces is the name itself: `cb-<deployment hash>-<lease id>`,
// lowercase letters, digits and hyphens, at most 32 characters (Coder's rule), so two
// coordinators never collide and the sweep lists only its own deployment's names.

import { deploymentHash, LEASE_ID } from "../handle";
import type { InventoryItem } from "../types";

const HASH_CHARS = 7;

export function namePrefix(deploymentId: string): string {
  return `cb-${deploymentHash(deploymentId, HASH_CHARS)}-`;
}

export function leaseHandle(deploymentId: string, leaseId: string): string {
  if (!LEASE_ID.test(leaseId)) throw new Error("lease id must match ^[a-z0-9]{12,20}$");
  return `${namePrefix(deploymentId)}${leaseId}`;
}

/** This deployment's marker when the name carries its prefix and a lease id; else none. */
export function decodeMarker(name: string, ownDeploymentId: string): InventoryItem["marker"] {
  const prefix = namePrefix(ownDeploymentId);
  if (!name.startsWith(prefix)) return undefined;
  const leaseId = name.slice(prefix.length);
  return LEASE_ID.test(leaseId) ? { deploymentId: ownDeploymentId, leaseId, handle: name } : undefined;
}
