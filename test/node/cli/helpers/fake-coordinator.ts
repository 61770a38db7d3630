// A small in-memory stand-in for the coordinator API (node:http on 127.0.0.1:0): enough of the
// contract for the CLI's tests, with knobs for timing and injected errors.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ErrorCode } from "../../../../src/contract/common";
import type { CreateLeaseRequest, Endpoint, Lease, LeaseState } from "../../../../src/contract/lease";

export interface Identity {
  owner: string;
  role: "user" | "admin";
  tokenId: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  token?: string;
  at: number;
}

interface Fault {
  method: string;
  path: RegExp;
  status: number;
  code?: ErrorCode;
  raw?: string;
  headers?: Record<string, string>;
}

const ORDER: LeaseState[] = ["requested", "provisioning", "ready", "active", "releasing", "released"];

export class FakeCoordinator {
  url = "";
  readonly tokens = new Map<string, Identity>([
    ["user-token", { owner: "alice", role: "user", tokenId: "tok_alice" }],
    ["admin-token", { owner: "root", role: "admin", tokenId: "tok_root" }],
  ]);
  readonly leases = new Map<string, Lease>();
  readonly requests: RecordedRequest[] = [];
  /** The public key each lease was created with, for the fake sshd to authorise. */
  readonly publicKeys = new Map<string, string>();
  /** What a new lease does: how long until ready, whether it fails instead, where it answers. */
  provisionMs = 0;
  releaseMs = 0;
  failProvisioning = false;
  endpoint: Endpoint = { kind: "ssh", host: "127.0.0.1", port: 1, user: "ubuntu" };
  private readonly faults: Fault[] = [];
  private readonly timers = new Map<string, number>();
  private server?: Server;
  private slugCount = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** The next matching request answers this error instead. */
  fail(method: string, path: RegExp, status: number, code?: ErrorCode, raw?: string, headers?: Record<string, string>): void {
    this.faults.push({ method, path, status, code, raw, headers });
  }

  requestsTo(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((request) => request.method === method && path.test(request.path));
  }

  /** Moves a lease on as time passes, like the LeaseObject's alarms would. */
  private advance(lease: Lease): Lease {
    const now = Date.now();
    if (lease.state === "provisioning" && now >= (this.timers.get(`${lease.id}:ready`) ?? Infinity)) {
      if (this.failProvisioning) {
        Object.assign(lease, { state: "failed", endReason: "provisioning_failed", failure: { code: "capacity", message: "no capacity" }, endedAt: iso() });
      } else {
        Object.assign(lease, { state: "ready", endpoint: this.endpoint, readyAt: iso(), deadlines: { ack: iso(120_000) } });
      }
    }
    if (lease.state === "releasing" && now >= (this.timers.get(`${lease.id}:released`) ?? Infinity)) {
      const parked = lease.releaseAction === "stop";
      Object.assign(lease, { state: parked ? "parked" : "released", endpoint: undefined, deadlines: {} });
      if (!parked) lease.endedAt = iso();
    }
    return lease;
  }

  private find(idOrSlug: string, identity: Identity): Lease | undefined {
    const lease = this.leases.get(idOrSlug) ?? [...this.leases.values()].find((each) => each.slug === idOrSlug);
    return lease && (lease.owner === identity.owner || identity.role === "admin") ? this.advance(lease) : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const body = text ? JSON.parse(text) : undefined;
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const method = req.method ?? "GET";
    this.requests.push({ method, path: url.pathname, query: url.searchParams, body, token, at: Date.now() });
    const send = (status: number, data: unknown) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(data));
    };
    const error = (status: number, code: string, message = code) => send(status, { error: { code, message } });

    const fault = this.faults.findIndex((each) => each.method === method && each.path.test(url.pathname));
    if (fault !== -1) {
      const [hit] = this.faults.splice(fault, 1);
      if (hit?.raw !== undefined) return void res.writeHead(hit.status, { "content-type": "text/html" }).end(hit.raw);
      const data = { error: { code: hit?.code ?? "internal_error", message: `injected ${hit?.code}` } };
      return void res.writeHead(hit?.status ?? 500, { "content-type": "application/json", ...hit?.headers }).end(JSON.stringify(data));
    }
    if (url.pathname === "/v1/health") return send(200, { ok: true, deploymentId: "fake", version: "0.0.0" });
    const identity = token ? this.tokens.get(token) : undefined;
    if (!identity) return error(401, "unauthorized", "missing or invalid token");
    const path = url.pathname;
    let match: RegExpExecArray | null;

    if (method === "GET" && path === "/v1/whoami") return send(200, identity);
    if (method === "GET" && path === "/v1/providers") return send(200, { providers: PROVIDERS });
    if ((match = /^\/v1\/providers\/([^/]+)\/doctor$/.exec(path))) {
      const ok = match[1] !== "broken";
      return send(200, { provider: match[1], ok, checks: [{ name: "credentials", status: ok ? "ok" : "fail", detail: ok ? "accepted" : "rejected" }] });
    }
    if ((match = /^\/v1\/providers\/([^/]+)\/catalog$/.exec(path))) {
      return send(200, { provider: match[1], entries: [{ type: "gpu_1x_a10", description: "1x A10 (24 GB)", priceCentsPerHour: 75, regions: ["us-east-1"], gpus: 1 }] });
    }
    if (path.startsWith("/v1/admin/") && identity.role !== "admin") return error(403, "forbidden", "admin only");
    if (method === "POST" && path === "/v1/leases") return this.create(body as CreateLeaseRequest, identity, send, error);
    if (method === "GET" && (path === "/v1/leases" || path === "/v1/admin/leases")) {
      const live = url.searchParams.get("live") === "true";
      const leases = [...this.leases.values()]
        .map((lease) => this.advance(lease))
        .filter((lease) => path.includes("admin") || lease.owner === identity.owner)
        .filter((lease) => !live || !["released", "failed"].includes(lease.state));
      return send(200, { leases: leases.map(({ id, slug, owner, provider, state, createdAt, costCents }) => ({ id, slug, owner, provider, state, createdAt, updatedAt: createdAt, costCents })) });
    }
    if ((match = /^\/v1\/(?:admin\/)?leases\/([^/]+)(?:\/(ack|touch|release|resume|events))?$/.exec(path))) {
      const lease = this.find(decodeURIComponent(match[1] ?? ""), identity);
      if (!lease) return error(404, "not_found", "no such lease");
      const action = match[2];
      if (method === "GET" && !action) return send(200, await this.longPoll(lease, url.searchParams));
      if (action === "events") return send(200, { events: [{ seq: 1, at: lease.createdAt, type: "created", state: "requested", message: "lease requested" }] });
      if (action === "ack") {
        if (lease.state === "ready") Object.assign(lease, { state: "active", acknowledgedAt: iso(), deadlines: { idle: iso(lease.idleTimeoutSeconds * 1000) } });
        return send(200, lease);
      }
      if (action === "touch") {
        if (lease.state !== "active") return error(409, "invalid_state", `lease is ${lease.state}`);
        return send(200, Object.assign(lease, { lastTouchAt: iso() }));
      }
      if (action === "release") {
        if (["released", "failed", "releasing"].includes(lease.state)) return send(200, lease);
        const releaseAction = (body as { action?: "destroy" | "stop" } | undefined)?.action ?? lease.releaseAction;
        Object.assign(lease, { state: "releasing", releaseAction, endReason: path.includes("admin") ? "admin" : "released_by_user" });
        this.timers.set(`${lease.id}:released`, Date.now() + this.releaseMs);
        return send(200, this.advance(lease));
      }
      if (action === "resume") {
        if (lease.state !== "parked") return error(409, "invalid_state", `lease is ${lease.state}`);
        Object.assign(lease, { state: "provisioning" });
        this.timers.set(`${lease.id}:ready`, Date.now() + this.provisionMs);
        return send(200, this.advance(lease));
      }
    }
    if (method === "POST" && path === "/v1/admin/tokens") {
      const request = body as { owner: string; role?: "user" | "admin"; label?: string; providerUsers?: Record<string, string> };
      return send(201, { token: "cbx_secret", info: { id: "tok_new", owner: request.owner, role: request.role ?? "user", providerUsers: request.providerUsers, createdAt: iso() } });
    }
    if (method === "GET" && path === "/v1/admin/tokens") {
      return send(200, { tokens: [...this.tokens.values()].map(({ owner, role, tokenId }) => ({ id: tokenId, owner, role, createdAt: iso() })) });
    }
    if (method === "GET" && path === "/v1/admin/sweeps") return send(200, { sweeps: [sweepRun(true)] });
    if (method === "POST" && path === "/v1/admin/sweeps") return send(200, sweepRun((body as { dryRun?: boolean }).dryRun ?? false));
    return error(404, "route_not_found", `no route ${method} ${path}`);
  }

  private create(request: CreateLeaseRequest, identity: Identity, send: (status: number, data: unknown) => void, error: (status: number, code: string) => void): void {
    const existing = request.id ? this.leases.get(request.id) : undefined;
    if (existing) return send(200, this.advance(existing));
    const id = request.id ?? `srv${Date.now()}`.padEnd(12, "0");
    const lease: Lease = {
      id,
      slug: `brave-otter-${++this.slugCount}a${id.slice(0, 2)}`,
      owner: identity.owner,
      costCents: 0,
      provider: request.provider,
      type: Array.isArray(request.type) ? request.type[0] : request.type,
      region: request.region,
      state: "provisioning",
      releaseAction: request.releaseAction ?? "destroy",
      createdAt: iso(),
      ttlSeconds: 7_200,
      idleTimeoutSeconds: request.idleTimeout === "3s" ? 3 : 1_800,
      ackDeadlineSeconds: 120,
      deadlines: { ttl: iso(7_200_000) },
    };
    if (!request.sshPublicKey.startsWith("ssh-ed25519 ")) return error(400, "invalid_request");
    this.leases.set(id, lease);
    this.publicKeys.set(id, request.sshPublicKey);
    this.timers.set(`${id}:ready`, Date.now() + this.provisionMs);
    send(201, this.advance(lease));
  }

  private async longPoll(lease: Lease, query: URLSearchParams): Promise<Lease> {
    const wanted = query.get("wait") as LeaseState | null;
    if (!wanted) return lease;
    const timeoutMs = Math.min(30, Number(/^(\d+)s$/.exec(query.get("timeout") ?? "")?.[1] ?? 25)) * 1000;
    const deadline = Date.now() + timeoutMs;
    const reached = () => lease.state === wanted || ["failed", "released", "parked"].includes(lease.state) || ORDER.indexOf(lease.state) > ORDER.indexOf(wanted);
    while (!reached() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      this.advance(lease);
    }
    return lease;
  }
}

function iso(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString();
}

const PROVIDERS = [
  {
    name: "lambda",
    configured: true,
    capabilities: { releaseActions: ["destroy"], defaultReleaseAction: "destroy", readiness: "ssh_banner", resume: false, keyHandling: "per_lease_key" },
    defaults: { type: "gpu_1x_a10", region: "us-east-1" },
  },
  {
    name: "coder",
    configured: false,
    capabilities: {
      releaseActions: ["destroy", "stop"],
      defaultReleaseAction: "stop",
      route: "proxy",
      readiness: "adapter",
      resume: true,
      keyHandling: "template",
      proxyClient: { command: "coder", login: "`coder login <CODER_URL>`" },
    },
    defaults: {},
  },
];

function sweepRun(dryRun: boolean) {
  const decision = { resourceId: "i-1", leaseId: "abcdefabcdef0000", handle: "crabbox-x", status: "active", verdict: "reclaim", reason: "no live lease", action: dryRun ? "dry_run" : "released" };
  const counts = { seen: 2, ours: 1, foreign: 0, unmarked: 1, claimed: 0, candidates: 1, reclaimable: 1, reclaimed: dryRun ? 0 : 1, failures: 0, unchecked: 0 };
  return { id: "sw_1", trigger: "admin", dryRun, startedAt: iso(), finishedAt: iso(), graceSeconds: 600, providers: [{ provider: "lambda", complete: true, ...counts, decisions: [decision], decisionsOmitted: 0 }] };
}
