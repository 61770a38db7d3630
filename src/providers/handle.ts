// The per-lease handle every provider names its resources with: `crabbox-<segment>-<leaseId>`.
// Lambda uses it as the SSH key and instance name, Vast as the instance label. Deterministic, at
// most 64 characters, and decodable back to (deployment, lease).

export const HANDLE_PREFIX = "crabbox-";
/** Lambda's SSHKey.name and InstanceLaunchRequest.name are limited to 64 characters. */
export const MAX_HANDLE_CHARS = 64;
export const LEASE_ID = /^[a-z0-9]{12,20}$/;
const HASH_CHARS = 8;

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

export function deploymentSegment(deploymentId: string, leaseIdChars: number): string {
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

/** A short, stable fingerprint of a deployment id, for names too short to carry the id itself. */
export function deploymentHash(deploymentId: string, chars: number): string {
  return fnv1a32(deploymentId).toString(16).padStart(8, "0").slice(0, chars);
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

/** Splits a handle into its segment and lease id, or undefined when it is not our format. */
export function parseHandle(name: string): { segment: string; leaseId: string } | undefined {
  if (!name.startsWith(HANDLE_PREFIX) || name.length > MAX_HANDLE_CHARS) return undefined;
  const cut = name.lastIndexOf("-");
  const segment = name.slice(HANDLE_PREFIX.length, cut);
  const leaseId = name.slice(cut + 1);
  return segment && LEASE_ID.test(leaseId) ? { segment, leaseId } : undefined;
}

/** The marker a handle carries: this deployment's exact id when the segment is its encoding. */
export function markerOfHandle(name: string, ownDeploymentId: string): { deploymentId: string; leaseId: string; handle: string } | undefined {
  const parsed = parseHandle(name);
  if (!parsed) return undefined;
  const own = parsed.segment === deploymentSegment(ownDeploymentId, parsed.leaseId.length);
  return { deploymentId: own ? ownDeploymentId : parsed.segment, leaseId: parsed.leaseId, handle: name };
}

/**
 * The short form for providers whose names must be DNS labels or are capped near 32 characters
 * (Coder workspaces, Sealos DevBoxes): `cb-<deployment hash>-<lease id>`, at most 31 characters.
 */
export function shortHandlePrefix(deploymentId: string): string {
  return `cb-${deploymentHash(deploymentId, SHORT_HASH_CHARS)}-`;
}

export function shortHandle(deploymentId: string, leaseId: string): string {
  if (!LEASE_ID.test(leaseId)) throw new Error("lease id must match ^[a-z0-9]{12,20}$");
  return `${shortHandlePrefix(deploymentId)}${leaseId}`;
}

/** The lease id a short handle of this deployment carries, or undefined. */
export function leaseOfShortHandle(name: string, ownDeploymentId: string): string | undefined {
  const prefix = shortHandlePrefix(ownDeploymentId);
  if (!name.startsWith(prefix)) return undefined;
  const leaseId = name.slice(prefix.length);
  return LEASE_ID.test(leaseId) ? leaseId : undefined;
}

const SHORT_HASH_CHARS = 7;
