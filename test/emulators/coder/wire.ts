// Coder's answers as the emulator sends them: the workspace and build objects (the fields of
// example-workspace.json a client reads, plus their neighbours) and `codersdk.Response` errors.
import type { Fault } from "../faults.ts";
import { ORG, TEMPLATE, type BuildRecord, type WorkspaceRecord } from "./state.ts";

export function errorResponse(status: number, message: string, extra: { detail?: string; validations?: { field: string; detail: string }[] } = {}): Response {
  return Response.json({ message, ...extra }, { status });
}

export function buildWire(ws: WorkspaceRecord, b: BuildRecord): Record<string, unknown> {
  const at = new Date(b.startedAt).toISOString();
  return {
    id: b.id,
    workspace_id: ws.id,
    workspace_name: ws.name,
    workspace_owner_name: ws.owner,
    template_version_id: TEMPLATE.active_version_id,
    build_number: 1,
    transition: b.transition,
    status: b.status,
    reason: "initiator",
    created_at: at,
    updated_at: at,
    job: { id: b.id, status: b.jobStatus, error: b.error, created_at: at },
    resources:
      b.transition === "start"
        ? [{ id: `${ws.id}-r`, name: "dev", type: "docker_container", workspace_transition: "start", agents: [{ id: `${ws.id}-a`, name: "main", status: ws.agent.status, lifecycle_state: ws.agent.lifecycle, operating_system: "linux", architecture: "amd64" }] }]
        : [],
  };
}

export function workspaceWire(ws: WorkspaceRecord): Record<string, unknown> {
  return {
    id: ws.id,
    name: ws.name,
    owner_name: ws.owner,
    owner_id: `user-${ws.owner}`,
    organization_id: ORG.id,
    organization_name: ORG.name,
    template_id: ws.templateId,
    template_name: TEMPLATE.name,
    template_active_version_id: TEMPLATE.active_version_id,
    outdated: false,
    automatic_updates: "never",
    latest_build: buildWire(ws, ws.build),
  };
}

export function errorForFault(fault: Fault): Response {
  // The rate limiter's message (coderd/httpmw/ratelimit.go).
  if (fault.kind === "rate_limit" || (fault.kind === "status" && fault.status === 429)) return errorResponse(429, "You've been rate limited for sending too many requests!");
  const status = fault.status ?? 500;
  return errorResponse(status, fault.message ?? (status === 404 ? "Resource not found or you do not have access to this resource" : status >= 500 ? "Internal error." : "Bad request."));
}
