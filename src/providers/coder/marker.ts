// The ownership marker on Coder workspaces is the name itself: the short handle
// `cb-<deployment hash>-<lease id>` (lowercase letters, digits and hyphens, at most 32
// characters: Coder's rule), so two coordinators never collide and the sweep lists only its
// own deployment's names.

import { leaseOfShortHandle, shortHandle, shortHandlePrefix } from "../handle";
import type { InventoryItem } from "../types";

export const namePrefix = shortHandlePrefix;
export const leaseHandle = shortHandle;

/** This deployment's marker when the name carries its prefix and a lease id; else none. */
export function decodeMarker(name: string, ownDeploymentId: string): InventoryItem["marker"] {
  const leaseId = leaseOfShortHandle(name, ownDeploymentId);
  return leaseId ? { deploymentId: ownDeploymentId, leaseId, handle: name } : undefined;
}
