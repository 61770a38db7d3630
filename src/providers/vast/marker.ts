// The ownership marker on Vast instances: the instance `label`, set at create (and updatable),
// holds the per-lease handle (../handle.ts), which decodes back to deployment and lease.
// The GPU type form `<N>x_<GPU>` lives here too: it is how a lease names what it rents.

import { leaseHandle, markerOfHandle } from "../handle";
import type { InventoryItem } from "../types";

export { leaseHandle };

export function decodeMarker(label: string | null | undefined, ownDeploymentId: string): InventoryItem["marker"] {
  return label ? markerOfHandle(label, ownDeploymentId) : undefined;
}

/** `1x_RTX_4090`: a GPU count, then Vast's gpu_name with spaces written as underscores. */
export const TYPE_FORM = /^([1-9][0-9]?)x_([A-Za-z0-9][A-Za-z0-9_]{0,47})$/;

export function parseType(type: string): { count: number; gpuName: string } | undefined {
  const match = TYPE_FORM.exec(type);
  // The official client turns underscores into spaces in query values (vast.py parse_query).
  return match ? { count: Number(match[1]), gpuName: match[2]!.replaceAll("_", " ") } : undefined;
}

export function formatType(count: number, gpuName: string): string {
  return `${count}x_${gpuName.trim().replaceAll(/\s+/g, "_")}`;
}
