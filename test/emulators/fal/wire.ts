// fal's answers as the emulator sends them: the instance object and the error body
// (contracts/fal/README.md). The emulator never imports from src/.
import type { Fault } from "../faults.ts";
import type { InstanceRecord } from "./state.ts";

export function errorResponse(status: number, type: string, message: string): Response {
  return Response.json({ error: { type, message, docs_url: "https://docs.fal.ai/platform-apis/v1", request_id: crypto.randomUUID() } }, { status });
}

export function instanceWire(rec: InstanceRecord): Record<string, unknown> {
  return {
    id: rec.id,
    instance_type: rec.instance_type,
    region: rec.region,
    status: rec.status,
    ...(rec.sector ? { sector: rec.sector } : {}),
    // `ip` appears once the instance is ready (the docs: Ready = `ready` + `ip`).
    ...(rec.status === "ready" ? { ip: rec.address } : {}),
    creator_user_nickname: rec.creator,
  };
}

/** ASSUMPTION: the docs show only `authorization_error`; the other types are the emulator's words. */
export function errorForFault(fault: Fault): Response {
  if (fault.kind === "rate_limit" || (fault.kind === "status" && fault.status === 429)) return errorResponse(429, "rate_limit_exceeded", "Too many requests");
  if (fault.kind === "capacity") return errorResponse(400, "capacity_unavailable", "No capacity for this instance type right now");
  const status = fault.status ?? 500;
  const type = fault.code ?? (status === 401 || status === 403 ? "authorization_error" : status === 404 ? "not_found" : status >= 500 ? "internal_error" : "validation_error");
  return errorResponse(status, type, fault.message ?? `emulated ${status}`);
}
