// Lambda Cloud response builders: the `{data}` / `{error: {code, message, suggestion?}}`
// envelopes, error codes and default texts of openapi-1.10.0.json (ApiError* schemas), the
// Instance object field by field, and the rate-limit answer (not JSON: see rateLimited()).
import type { Fault } from "../faults.ts";
import { instanceType, regionWire, type InstanceTypeWire, type RegionWire } from "./catalog.ts";
import type { InstanceRecord, InstanceStatus, SshKeyRecord } from "./state.ts";

export interface ApiError {
  status: number;
  code: string;
  message: string;
  suggestion?: string;
}

export const ERRORS = {
  invalidApiKey: {
    status: 401,
    code: "global/invalid-api-key",
    message: "API key was invalid, expired, or deleted.",
    suggestion: "Check your API key or create a new one, then try again.",
  },
  accountInactive: {
    status: 403,
    code: "global/account-inactive",
    message: "Your account is inactive.",
    suggestion: "Make sure you have verified your email address and have a valid payment method. Contact Support if problems continue.",
  },
  instanceNotFound: { status: 404, code: "global/object-does-not-exist", message: "Specified instance does not exist." },
  insufficientCapacity: {
    status: 400,
    code: "instance-operations/launch/insufficient-capacity",
    message: "Not enough capacity to fulfill launch request.",
    suggestion: "Choose an instance type with more availability, or try again later.",
  },
  quotaExceeded: {
    status: 400,
    code: "global/quota-exceeded",
    message: "Quota exceeded.",
    suggestion: "Contact Support to increase your quota.",
  },
  routeNotFound: { status: 404, code: "global/not-found", message: "The requested resource was not found." },
  conflict: { status: 409, code: "global/conflict", message: "The request conflicts with the current state." },
  internal: {
    status: 500,
    code: "global/internal-error",
    message: "An internal server error occurred.",
    suggestion: "Try again later. Contact Support if the problem persists.",
  },
  // Documented in the spec's introduction as the shape of upstream outages.
  unavailable: { status: 503, code: "provider/internal-unavailable", message: "Provider unavailable", suggestion: "Try again shortly" },
} satisfies Record<string, ApiError>;

export function invalidParameters(message: string): ApiError {
  return { status: 400, code: "global/invalid-parameters", message };
}

/** ApiErrorLaunchResourceNotFound: `suggestion` is required there. */
export function launchResourceNotFound(what: string): ApiError {
  return {
    status: 404,
    code: "global/object-does-not-exist",
    message: `${what} does not exist.`,
    suggestion: "Check the name or id, or create the resource first.",
  };
}

export function errorResponse(error: ApiError): Response {
  const { status, ...body } = error;
  return Response.json({ error: body }, { status });
}

export function dataResponse(data: unknown): Response {
  return Response.json({ data });
}

/**
 * Lambda's throttling is Cloudflare's: HTTP 429 with "error code: 1015", not the JSON envelope
 * (LambdaLabs/docsy-lambda-docs, content/en/cloud/rate-limiting.md). No Retry-After is promised.
 */
export function rateLimited(): Response {
  return new Response("error code: 1015", { status: 429, headers: { "content-type": "text/plain; charset=UTF-8" } });
}

/** The answer a `status` / `rate_limit` / `capacity` fault produces. */
export function errorForFault(fault: Fault): Response {
  if (fault.kind === "rate_limit" || (fault.kind === "status" && fault.status === 429)) return rateLimited();
  if (fault.kind === "capacity") return errorResponse(ERRORS.insufficientCapacity);
  const status = fault.status ?? 500;
  const base: ApiError =
    status === 401 ? ERRORS.invalidApiKey
    : status === 403 ? ERRORS.accountInactive
    : status === 404 ? ERRORS.instanceNotFound
    : status === 409 ? ERRORS.conflict
    : status === 503 ? ERRORS.unavailable
    : status >= 500 ? ERRORS.internal
    : invalidParameters("Invalid request data.");
  return errorResponse({ ...base, status, code: fault.code ?? base.code, message: fault.message ?? base.message });
}

interface ActionDetails {
  available: boolean;
  reason_code?: string;
  reason_description?: string;
}

const ACTION_NAMES = ["migrate", "rebuild", "restart", "cold_reboot", "terminate"] as const;

function actionsFor(status: InstanceStatus): Record<(typeof ACTION_NAMES)[number], ActionDetails> {
  const blocked: ActionDetails | undefined =
    status === "booting" ? { available: false, reason_code: "vm-has-not-launched", reason_description: "The instance has not launched yet." }
    : status === "terminating" || status === "terminated" ? { available: false, reason_code: "vm-is-terminating", reason_description: "The instance is terminating." }
    : undefined;
  const entries = ACTION_NAMES.map((name) => {
    // A preempted machine can only be cleaned up.
    if (status === "preempted") return [name, { available: name === "terminate" }] as const;
    return [name, blocked ?? { available: true }] as const;
  });
  return Object.fromEntries(entries) as Record<(typeof ACTION_NAMES)[number], ActionDetails>;
}

export interface InstanceWire {
  id: string;
  name?: string;
  ip?: string;
  private_ip?: string;
  status: InstanceStatus;
  ssh_key_names: string[];
  file_system_names: string[];
  region: RegionWire;
  instance_type: InstanceTypeWire;
  hostname?: string;
  jupyter_token?: string;
  jupyter_url?: string;
  is_reserved: boolean;
  actions: ReturnType<typeof actionsFor>;
  tags: { key: string; value: string }[];
}

/** Optional fields appear only once the machine has them: `ip` & co. when it first booted. */
export function instanceWire(rec: InstanceRecord, status: InstanceStatus): InstanceWire {
  const type = instanceType(rec.typeName);
  if (!type) throw new Error(`instance ${rec.id} has unknown type ${rec.typeName}`);
  const hostname = rec.hostname ?? rec.ip;
  return {
    id: rec.id,
    ...(rec.name !== undefined && { name: rec.name }),
    ...(rec.ip !== undefined && { ip: rec.ip, private_ip: rec.privateIp }),
    status,
    ssh_key_names: [rec.sshKeyName],
    file_system_names: [],
    region: regionWire(rec.region),
    instance_type: type,
    ...(hostname !== undefined && { hostname }),
    ...(rec.ip !== undefined && {
      jupyter_token: rec.jupyterToken,
      jupyter_url: `https://jupyter-${rec.id}.lambdaspaces.com/?token=${rec.jupyterToken}`,
    }),
    is_reserved: false,
    actions: actionsFor(status),
    tags: rec.tags.map((t) => ({ ...t })),
  };
}

export function sshKeyWire(key: SshKeyRecord): { id: string; name: string; public_key: string } {
  return { id: key.id, name: key.name, public_key: key.publicKey };
}
