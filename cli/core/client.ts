// Typed client of the coordinator API: one method per route, answers checked against the contract
// schemas, API errors turned into CliErrors. Idempotent calls retry transient failures.
import type * as z from "zod/mini";
import * as lease from "../../src/contract/lease";
import * as meta from "../../src/contract/meta";
import * as sweep from "../../src/contract/sweep";
import * as usage from "../../src/contract/usage";
import { CliError, EXIT, exitCodeForApiError, exitCodeForStatus } from "./errors";

export const REQUEST_TIMEOUT_MS = 60_000;
/** The server holds a long-poll at most 30 s; allow for the network on top. */
const LONG_POLL_GRACE_MS = 15_000;
const RETRY_DELAYS_MS = [500, 1_500, 4_000];
const TRANSIENT_STATUSES = new Set([502, 503, 504]);
/** The longest Retry-After a retry honours; beyond it the error is the answer. */
const MAX_RETRY_AFTER_MS = 15_000;

export interface ClientOptions {
  url: string;
  token?: string;
  signal?: AbortSignal;
  userAgent: string;
}

interface RequestOptions<S extends z.ZodMiniType | undefined> {
  schema: S;
  body?: unknown;
  query?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Safe to send again after a lost answer (idempotent on the server). */
  retry?: boolean;
}

export interface Answer<T> {
  status: number;
  data: T;
}

type Out<S> = S extends z.ZodMiniType ? z.infer<S> : unknown;

export class ApiClient {
  constructor(private readonly options: ClientOptions) {}

  get url(): string {
    return this.options.url;
  }

  health = () => this.call("GET", "/v1/health", { schema: meta.Health });
  whoami = () => this.call("GET", "/v1/whoami", { schema: meta.Whoami });
  providers = () => this.call("GET", "/v1/providers", { schema: meta.ProviderList });
  doctor = (name: string) => this.call("GET", `/v1/providers/${seg(name)}/doctor`, { schema: meta.DoctorReport });
  catalog = (name: string) => this.call("GET", `/v1/providers/${seg(name)}/catalog`, { schema: meta.Catalog });

  createLease = (body: lease.CreateLeaseRequest) =>
    this.request("POST", "/v1/leases", { schema: lease.Lease, body, retry: true });
  listLeases = (query: z.infer<typeof lease.ListLeasesQuery>) =>
    this.call("GET", "/v1/leases", { schema: lease.LeaseList, query });
  getLease = (idOrSlug: string, wait?: { state: lease.LeaseState; timeoutSeconds: number }) =>
    this.call("GET", `/v1/leases/${seg(idOrSlug)}`, {
      schema: lease.Lease,
      query: wait && { wait: wait.state, timeout: `${wait.timeoutSeconds}s` },
      timeoutMs: wait && wait.timeoutSeconds * 1_000 + LONG_POLL_GRACE_MS,
    });
  ackLease = (idOrSlug: string) => this.call("POST", `/v1/leases/${seg(idOrSlug)}/ack`, { schema: lease.Lease, body: {} });
  touchLease = (idOrSlug: string, body: lease.TouchRequest) =>
    this.call("POST", `/v1/leases/${seg(idOrSlug)}/touch`, { schema: lease.Lease, body });
  releaseLease = (idOrSlug: string, body: lease.ReleaseRequest) =>
    this.call("POST", `/v1/leases/${seg(idOrSlug)}/release`, { schema: lease.Lease, body });
  resumeLease = (idOrSlug: string) => this.call("POST", `/v1/leases/${seg(idOrSlug)}/resume`, { schema: lease.Lease, body: {} });
  leaseEvents = (idOrSlug: string) => this.call("GET", `/v1/leases/${seg(idOrSlug)}/events`, { schema: lease.LeaseEvents });

  adminListLeases = (query: z.infer<typeof lease.ListLeasesQuery>) =>
    this.call("GET", "/v1/admin/leases", { schema: lease.LeaseList, query });
  adminReleaseLease = (id: string, body: lease.ReleaseRequest) =>
    this.call("POST", `/v1/admin/leases/${seg(id)}/release`, { schema: lease.Lease, body });
  // Not retried: a lost answer would mint a second token whose secret nobody ever sees.
  createToken = (body: meta.CreateTokenRequest) =>
    this.call("POST", "/v1/admin/tokens", { schema: meta.CreatedToken, body, retry: false });
  adminConfig = () => this.call("GET", "/v1/admin/config", { schema: meta.EffectiveConfig });
  listTokens = () => this.call("GET", "/v1/admin/tokens", { schema: meta.TokenList });
  revokeToken = (id: string) => this.call("DELETE", `/v1/admin/tokens/${seg(id)}`, { schema: meta.TokenInfo });
  usage = (month?: string) => this.call("GET", "/v1/usage", { schema: usage.Usage, query: { month } });
  adminUsage = (month?: string) => this.call("GET", "/v1/admin/usage", { schema: usage.AdminUsage, query: { month } });
  // Idempotent: setting the same budget twice is the same budget.
  setBudget = (owner: string, body: z.infer<typeof usage.SetBudgetRequest>) =>
    this.call("PUT", `/v1/admin/owners/${seg(owner)}/budget`, { schema: usage.Budget, body, retry: true });
  listSweeps = (query: z.infer<typeof sweep.ListSweepsQuery>) => this.call("GET", "/v1/admin/sweeps", { schema: sweep.SweepRunList, query });
  // Not retried: a second run after a lost answer would count sightings twice.
  runSweep = (body: sweep.SweepRequest) => this.call("POST", "/v1/admin/sweeps", { schema: sweep.SweepRun, body, retry: false });

  private async call<S extends z.ZodMiniType | undefined>(method: string, path: string, options: RequestOptions<S>): Promise<Out<S>> {
    return (await this.request(method, path, options)).data;
  }

  async request<S extends z.ZodMiniType | undefined>(method: string, path: string, options: RequestOptions<S>): Promise<Answer<Out<S>>> {
    const retry = options.retry ?? true;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(method, path, options);
      } catch (error) {
        const delay = RETRY_DELAYS_MS[attempt];
        if (!retry || delay === undefined || !isTransient(error) || this.options.signal?.aborted) throw error;
        // A busy provider says when to come back (Retry-After); never wait less than our own step.
        const asked = error instanceof CliError && typeof error.details?.retryAfterMs === "number" ? error.details.retryAfterMs : 0;
        await sleep(Math.max(delay, Math.min(asked, MAX_RETRY_AFTER_MS)), this.options.signal);
      }
    }
  }

  private async once<S extends z.ZodMiniType | undefined>(method: string, path: string, options: RequestOptions<S>): Promise<Answer<Out<S>>> {
    const url = new URL(this.options.url + path);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    const headers: Record<string, string> = { accept: "application/json", "user-agent": this.options.userAgent };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    // Combined by hand: AbortSignal.any needs Node 20.3 and the CLI promises any Node 20.
    const parent = this.options.signal;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException("request timed out", "TimeoutError")), timeoutMs);
    const onParentAbort = () => controller.abort(parent?.reason);
    parent?.addEventListener("abort", onParentAbort, { once: true });
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: controller.signal,
        redirect: "error",
      });
      text = await response.text();
    } catch (error) {
      if (parent?.aborted) throw parent.reason ?? error;
      if (controller.signal.aborted) {
        throw new CliError(`the coordinator did not answer ${method} ${path} within ${timeoutMs / 1000}s`, {
          code: "timeout",
          exitCode: EXIT.timeout,
          cause: error,
        });
      }
      const network = networkErrorCode(error);
      throw new CliError(`could not reach the coordinator at ${this.options.url}: ${network ?? (error as Error).message}`, {
        code: "connection_failed",
        exitCode: EXIT.connection,
        details: { network },
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onParentAbort);
    }
    const body = parseJson(text);
    if (!response.ok) throw apiError(response.status, body, `${method} ${path}`, retryAfterMs(response.headers.get("retry-after")));
    if (!options.schema) return { status: response.status, data: body as Out<S> };
    const checked = options.schema.safeParse(body);
    if (!checked.success) {
      throw new CliError(`unexpected answer from the coordinator to ${method} ${path} (is crabbox up to date?)`, {
        code: "unexpected_response",
        exitCode: EXIT.bug,
        cause: checked.error,
      });
    }
    // The raw body, not the parsed copy: `--json` passes through fields this CLI does not know yet.
    return { status: response.status, data: body as Out<S> };
  }
}

function apiError(status: number, body: unknown, what: string, retryAfter?: number): CliError {
  const error = (body as { error?: { code?: unknown; message?: unknown; issues?: unknown } } | undefined)?.error;
  const details = { status, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) };
  if (error && typeof error.code === "string" && typeof error.message === "string") {
    return new CliError(error.message, {
      code: error.code,
      exitCode: exitCodeForApiError(error.code, status),
      issues: Array.isArray(error.issues) ? (error.issues as { path: string; message: string }[]) : undefined,
      details,
    });
  }
  return new CliError(`${what} answered HTTP ${status}`, { code: `http_${status}`, exitCode: exitCodeForStatus(status), details });
}

/** Retry-After in seconds (the only form the coordinator sends); undefined when absent or odd. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\d{1,6}$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

/**
 * Connections cut or timed out mid-way (the answer may be lost): worth asking again. Refused
 * connections, unknown hosts and certificate errors are not, so they fail at once.
 */
const TRANSIENT_NETWORK_ERRORS = new Set([
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

function isTransient(error: unknown): boolean {
  if (!(error instanceof CliError)) return false;
  if (error.code === "connection_failed") return TRANSIENT_NETWORK_ERRORS.has(String(error.details?.network));
  const status = error.details?.status;
  return typeof status === "number" && TRANSIENT_STATUSES.has(status);
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // a non-JSON body (proxy error page) is reported by its status instead
  }
}

/** undici wraps the socket error: `fetch failed` with the errno code on its cause. */
function networkErrorCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === "string") return cause.code;
  return typeof cause?.message === "string" ? cause.message : undefined;
}

/** Path segment: lease ids, slugs and names are plain, but never let one change the route. */
function seg(value: string): string {
  return encodeURIComponent(value);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
