// fal instances carry no name, label or tag: there is no marker to put on them or read back.
// The per-lease handle (../handle.ts) is the create's Idempotency-Key, and ownership lives in the
// coordinator's records (the lease index's resource ids; DESIGN.md "Ownership without markers").

import { leaseHandle } from "../handle";
import type { InventoryItem } from "../types";

export { leaseHandle };

/** Nothing on a fal instance says whose it is. */
export function decodeMarker(): InventoryItem["marker"] {
  return undefined;
}
