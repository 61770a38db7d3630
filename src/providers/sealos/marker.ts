// Sealos DevBoxes carry their owner in labels (selectable) and annotations (exact): the name is
// the short handle `cb-<deployment hash>-<lease id>` (a DNS label the controller can build pod
// and service names from), labels name the manager, the deployment's hash and the lease.

import { deploymentHash, LEASE_ID, shortHandle } from "../handle";
import type { InventoryItem, LeaseSpec } from "../types";

export const MANAGED_BY = "app.kubernetes.io/managed-by";
export const PART_OF = "app.kubernetes.io/part-of";
export const DEPLOYMENT_LABEL = "crabbox.dev/deployment";
export const LEASE_LABEL = "crabbox.dev/lease";
const DEPLOYMENT_ANNOTATION = "crabbox.dev/deployment-id";
const OWNER_ANNOTATION = "crabbox.dev/owner";
const MANAGER = "crabbox";

export const leaseHandle = shortHandle;

export function markerLabels(deploymentId: string, leaseId: string): Record<string, string> {
  return { [MANAGED_BY]: MANAGER, [DEPLOYMENT_LABEL]: deploymentHash(deploymentId, 8), [LEASE_LABEL]: leaseId };
}

export function markerAnnotations(spec: LeaseSpec): Record<string, string> {
  return { [DEPLOYMENT_ANNOTATION]: spec.deploymentId, [OWNER_ANNOTATION]: spec.owner };
}

/** The label selector that lists this deployment's DevBoxes. */
export function deploymentSelector(deploymentId: string): string {
  return `${MANAGED_BY}=${MANAGER},${DEPLOYMENT_LABEL}=${deploymentHash(deploymentId, 8)}`;
}

type Meta = { name: string; labels?: Record<string, string> | null; annotations?: Record<string, string> | null };

/** Ours for this lease: managed by crabbox, this deployment (label and exact annotation), this lease, its handle. */
export function carriesLease(meta: Meta, deploymentId: string, leaseId: string): boolean {
  const l = meta.labels ?? {};
  return (
    l[MANAGED_BY] === MANAGER &&
    l[DEPLOYMENT_LABEL] === deploymentHash(deploymentId, 8) &&
    l[LEASE_LABEL] === leaseId &&
    (meta.annotations?.[DEPLOYMENT_ANNOTATION] ?? deploymentId) === deploymentId &&
    meta.name === shortHandle(deploymentId, leaseId)
  );
}

/** This deployment's marker when labels, annotation and name agree; another deployment's id otherwise. */
export function decodeMarker(meta: Meta, ownDeploymentId: string): InventoryItem["marker"] {
  const l = meta.labels ?? {};
  const leaseId = l[LEASE_LABEL];
  if (l[MANAGED_BY] !== MANAGER || !leaseId || !LEASE_ID.test(leaseId)) return undefined;
  if (carriesLease(meta, ownDeploymentId, leaseId)) return { deploymentId: ownDeploymentId, leaseId, handle: meta.name };
  return { deploymentId: meta.annotations?.[DEPLOYMENT_ANNOTATION] ?? `hash:${l[DEPLOYMENT_LABEL] ?? "?"}`, leaseId, handle: meta.name };
}
