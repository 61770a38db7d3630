// Vast.ai's answers as the emulator sends them: the error bodies (the docs' common shape, and the
// plain-text 429), and the instance object (show_instance(s).yaml, cli-facts.md). The emulator
// never imports from src/: it is the other side of the wire.
import type { Fault } from "../faults.ts";
import type { InstanceRecord } from "./state.ts";

export interface VastError {
  status: number;
  error: string;
  msg: string;
}

export const ERRORS = {
  auth: { status: 401, error: "auth_error", msg: "Invalid user key" },
  noSuchInstance: { status: 404, error: "not_found", msg: "Instance not found" },
  noSuchKey: { status: 404, error: "no_such_ssh_key", msg: "SSH key not found on instance." },
  internal: { status: 500, error: "server_error", msg: "Internal server error" },
} satisfies Record<string, VastError>;

/** The docs' common shape: `{success: false, error, msg}` (some endpoints differ; see below). */
export function errorResponse(e: VastError, extra: Record<string, unknown> = {}): Response {
  return Response.json({ success: false, error: e.error, msg: e.msg, ...extra }, { status: e.status });
}

export function invalidArgs(msg: string): Response {
  return errorResponse({ status: 400, error: "invalid_args", msg });
}

/** An offer that is not (or no longer) rentable: 404 or 410 with `no_such_ask` (create_instance.yaml). */
export function noSuchAsk(offerId: number, status: 404 | 410): Response {
  const msg = status === 404 ? `error 404/3603: no_such_ask Instance type by id ${offerId} is not available.` : `error 410/3907: no_such_ask Instance type ${offerId} is no longer available.`;
  return errorResponse({ status, error: status === 404 ? "invalid_args" : "no_such_ask", msg }, { ask_id: offerId });
}

/**
 * "The response body is often plain text" with "API requests too frequent" and no Retry-After
 * (docs: rate-limits-and-errors). ASSUMPTION: the emulator always answers the plain-text form.
 */
export function rateLimited(): Response {
  return new Response("API requests too frequent endpoint threshold=2.0", { status: 429, headers: { "content-type": "text/plain; charset=utf-8" } });
}

export function errorForFault(fault: Fault): Response {
  if (fault.kind === "rate_limit" || (fault.kind === "status" && fault.status === 429)) return rateLimited();
  if (fault.kind === "capacity") return noSuchAsk(0, 410);
  const status = fault.status ?? 500;
  const base = status === 401 || status === 403 ? ERRORS.auth : status === 404 ? ERRORS.noSuchInstance : status >= 500 ? ERRORS.internal : { status, error: "invalid_args", msg: "Invalid args" };
  return errorResponse({ status, error: fault.code ?? base.error, msg: fault.message ?? base.msg });
}

/** The instance object (a realistic subset of show_instance.yaml's `Instance`). */
export function instanceWire(rec: InstanceRecord, sshPort: number): Record<string, unknown> {
  const running = rec.actual === "running";
  return {
    id: rec.id,
    machine_id: rec.offer.machine_id,
    actual_status: rec.actual,
    cur_state: rec.actual === "running" ? "running" : "stopped",
    next_state: rec.intended,
    intended_status: rec.intended,
    label: rec.label,
    image_uuid: rec.image,
    image_runtype: rec.runtype,
    num_gpus: rec.offer.num_gpus,
    gpu_name: rec.offer.gpu_name,
    dph_total: rec.offer.dph_total,
    is_bid: rec.isBid,
    end_date: rec.offer.end_date,
    start_date: rec.createdAt / 1000,
    status_msg: rec.statusMsg,
    extra_env: [],
    // ASSUMPTION: an instance created without onstart omits the field (the yaml types it as a
    // non-null string, the client's dataclass as optional).
    ...(rec.onstart !== null ? { onstart: rec.onstart } : {}),
    jupyter_token: rec.jupyterToken,
    // Known from creation; reachable only while running (the SSH server listens only then).
    public_ipaddr: rec.address,
    ssh_host: rec.address,
    ssh_port: sshPort,
    direct_port_start: sshPort,
    direct_port_end: sshPort,
    // `ports` is present only while running (cli-facts.md); HostPort is a string.
    ...(running ? { ports: { "22/tcp": [{ HostIp: "0.0.0.0", HostPort: String(sshPort) }] } } : {}),
  };
}
