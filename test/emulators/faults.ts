// Fault injection and the request log shared by every emulator (see CONTROL.md): a hono
// middleware in front of the provider API that records each request and, when a queued fault
// matches, answers an error, holds the request forever, or performs it and drops the socket.
import type { Context, MiddlewareHandler } from "hono";
import type { HttpBindings } from "@hono/node-server";

export const FAULT_KINDS = ["status", "timeout", "lost_response", "rate_limit", "capacity"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  /** Exact request path, e.g. /api/v1/instance-operations/launch. */
  path: string;
  /** HTTP method; any method when absent. */
  method?: string;
  kind: FaultKind;
  /** For `status`: the HTTP status to answer. */
  status?: number;
  /** For `status`: override the provider error code / message the emulator would pick. */
  code?: string;
  message?: string;
  /** How many matching requests it fires for (default 1). */
  times?: number;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The Accept header when it asked for more than plain JSON (the Kubernetes metadata API). */
  accept?: string;
  /** Parsed JSON when the body was JSON, the raw text otherwise, null when empty. */
  body: unknown;
  /** Status the emulator produced; null when a `timeout` fault held the request. */
  status: number | null;
  /** The fault that fired on this request, if any. */
  fault?: FaultKind;
}

/** The log is bounded so a long-running local stack does not grow without limit. */
const REQUEST_LOG_LIMIT = 1000;

export interface FaultStore {
  add(faults: Fault[]): void;
  clear(): void;
  list(): Fault[];
  /** Consume one firing of the first fault matching this request. */
  take(method: string, path: string): Fault | undefined;
}

export function createFaultStore(): FaultStore {
  let queue: { fault: Fault; left: number }[] = [];
  return {
    add(faults) {
      for (const fault of faults) queue.push({ fault, left: fault.times ?? 1 });
    },
    clear() {
      queue = [];
    },
    list() {
      return queue.map((q) => ({ ...q.fault, times: q.left }));
    },
    take(method, path) {
      const hit = queue.find(
        (q) => q.fault.path === path && (!q.fault.method || q.fault.method.toUpperCase() === method),
      );
      if (!hit) return undefined;
      hit.left--;
      queue = queue.filter((q) => q.left > 0);
      return hit.fault;
    },
  };
}

/** Validate a `POST /_emulator/faults` body; returns the faults or a reason. */
export function parseFaults(body: unknown): Fault[] | string {
  const list = (body as { faults?: unknown } | null)?.faults;
  if (!Array.isArray(list)) return "body must be {\"faults\": [...]}";
  for (const f of list as Partial<Fault>[]) {
    if (typeof f?.path !== "string" || !f.path.startsWith("/")) return "fault.path must be an absolute path";
    if (!FAULT_KINDS.includes(f.kind as FaultKind)) return `fault.kind must be one of ${FAULT_KINDS.join(", ")}`;
    if (f.kind === "status" && !(Number.isInteger(f.status) && f.status! >= 400 && f.status! <= 599)) {
      return "a status fault needs status 400..599";
    }
    if (f.times !== undefined && !(Number.isInteger(f.times) && f.times > 0)) return "fault.times must be >= 1";
  }
  return list as Fault[];
}

export interface RequestLog {
  entries: RequestLogEntry[];
  /**
   * Every resource the emulator created, by the client's key for it (Lambda's instance name,
   * Vast's label, fal's Idempotency-Key, Coder's workspace name, Sealos's DevBox name). Never
   * trimmed: the chaos suite counts creations per lease from it.
   */
  created: { key: string; id: string; at: number }[];
  recordCreation(key: string | null | undefined, id: string): void;
  push(entry: RequestLogEntry): void;
  clear(): void;
}

export function createRequestLog(): RequestLog {
  const log: RequestLog = {
    entries: [],
    created: [],
    recordCreation(key, id) {
      log.created.push({ key: key ?? "", id, at: Date.now() });
    },
    push(entry) {
      log.entries.push(entry);
      if (log.entries.length > REQUEST_LOG_LIMIT) log.entries.splice(0, log.entries.length - REQUEST_LOG_LIMIT);
    },
    clear() {
      log.entries.length = 0;
      log.created.length = 0;
    },
  };
  return log;
}

async function readBody(c: Context): Promise<unknown> {
  // hono caches the text, so the route can still read the body after this.
  const text = await c.req.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) return text;
    throw err;
  }
}

export interface FaultMiddlewareOptions {
  faults: FaultStore;
  log: RequestLog;
  /** The provider's own response for a `status`, `rate_limit` or `capacity` fault. */
  errorFor(fault: Fault): Response;
}

/** Answer nothing until the client gives up (or the emulator shuts down and drops it). */
function holdUntilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

export function faultMiddleware(options: FaultMiddlewareOptions): MiddlewareHandler<{ Bindings: HttpBindings }> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    const entry: RequestLogEntry = {
      method: c.req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: await readBody(c),
      status: null,
    };
    const accept = c.req.header("accept");
    if (accept && accept !== "application/json" && accept !== "*/*") entry.accept = accept;
    options.log.push(entry);
    const fault = options.faults.take(c.req.method, url.pathname);
    if (fault) entry.fault = fault.kind;
    if (fault?.kind === "timeout") {
      await holdUntilAborted(c.req.raw.signal);
      return c.body(null, 504);
    }
    if (fault && fault.kind !== "lost_response") {
      c.res = options.errorFor(fault);
      entry.status = c.res.status;
      return c.res;
    }
    await next();
    entry.status = c.res.status;
    if (fault?.kind === "lost_response") {
      // The work is done; now fail the exchange so the client sees a network error.
      const socket = c.env?.incoming?.socket;
      if (!socket) throw new Error("lost_response needs the node server (no socket on this request)");
      socket.destroy();
    }
  };
}
