// An in-memory cloud and a real ProviderAdapter over it, for driving the lease machine in
// workerd tests. It runs in the same isolate as the LeaseObject (the vitest integration runs
// the main worker beside the tests), so tests inspect and break it directly.

import type {
  LeaseSpec,
  ProviderAdapter,
  ProviderFactory,
  ReleaseAction,
  ReleaseStep,
  ResourceRef,
  ResourceStatus,
} from "../../src/providers/types";
import { ProviderError } from "../../src/providers/types";
import { CREATE_SETTLE_MS } from "../../src/lease/transitions";

type MachineStatus = "booting" | "running" | "stopping" | "stopped" | "terminating" | "gone";

export interface FakeMachine {
  id: string;
  handle: string;
  status: MachineStatus;
  /** Inspections left before a booting machine is running. */
  bootPolls: number;
  /** Absent on machines someone else started in the same account (the sweep must not touch them). */
  marker?: { deploymentId: string; leaseId: string };
  /** Provider-reported creation time; undefined mimics providers that report none (Lambda). */
  createdAt?: number;
}

type Op = "create" | "recover" | "inspect" | "release" | "resume" | "inventory" | "catalog";

export interface Fault {
  op: Op;
  /** `lost_response`: act, then report an ambiguous failure. `hang`: act, never answer. */
  kind: "ambiguous" | "capacity" | "rate_limited" | "auth" | "lost_response" | "hang";
  times?: number;
  /** Matching calls to let through before the fault fires (e.g. 1: inventory fails on page 2). */
  skip?: number;
}

class FakeCloud {
  machines = new Map<string, FakeMachine>();
  faults: Fault[] = [];
  calls: { op: Op; handle?: string }[] = [];
  bootPolls = 0;
  /** Inventory page size; undefined lists everything on one page. */
  pageSize?: number;
  /** The list price admission reserves, and the price a create reports (Vast-like) when set. */
  listCents?: number;
  actualPrice?: { centsPerHour: number; storageCentsPerHour?: number };
  /** Machines each type can still get; undefined: unlimited. A create past it answers "no capacity". */
  capacity?: Record<string, number>;
  private seq = 0;

  reset(): void {
    this.machines.clear();
    this.faults = [];
    this.calls = [];
    this.bootPolls = 0;
    this.pageSize = undefined;
    this.listCents = undefined;
    this.actualPrice = undefined;
    this.capacity = undefined;
    this.seq = 0;
  }

  /** Machines that still exist (anything not gone). */
  live(): FakeMachine[] {
    return [...this.machines.values()].filter((m) => m.status !== "gone");
  }

  inject(fault: Fault): void {
    this.faults.push({ times: 1, ...fault });
  }

  /** Applies a pending fault for `op`; returns "act-then-fail" faults for the caller to honour. */
  enter(op: Op, handle?: string): Fault["kind"] | undefined {
    this.calls.push({ op, handle });
    const fault = this.faults.find((f) => f.op === op && (f.times ?? 1) > 0);
    if (!fault) return undefined;
    if (fault.skip) {
      fault.skip--;
      return undefined;
    }
    fault.times = (fault.times ?? 1) - 1;
    switch (fault.kind) {
      case "ambiguous":
        throw new ProviderError("ambiguous", `fake ${op}: 503 service unavailable`);
      case "capacity":
        throw new ProviderError("capacity", `fake ${op}: no capacity`);
      case "rate_limited":
        throw new ProviderError("rate_limited", `fake ${op}: slow down`, { retryAfterMs: 12_000 });
      case "auth":
        throw new ProviderError("auth", `fake ${op}: bad key`);
      default:
        return fault.kind;
    }
  }

  add(handle: string, marker: FakeMachine["marker"], createdAt: number | undefined = Date.now()): FakeMachine {
    const machine: FakeMachine = { id: `fake-${++this.seq}`, handle, status: "booting", bootPolls: this.bootPolls, marker, createdAt };
    this.machines.set(machine.id, machine);
    return machine;
  }

  byHandle(handle: string): FakeMachine[] {
    return this.live().filter((m) => m.handle === handle);
  }
}

export const fakeCloud = new FakeCloud();

const never = () => new Promise<never>(() => undefined);

async function afterAct<T>(kind: Fault["kind"] | undefined, value: T): Promise<T> {
  if (kind === "lost_response") throw new ProviderError("ambiguous", "fake: connection reset after the request was sent");
  if (kind === "hang") return never();
  return value;
}

function status(machine: FakeMachine | undefined): ResourceStatus {
  if (!machine || machine.status === "gone") return { phase: "gone", detail: "no such machine" };
  switch (machine.status) {
    case "booting":
      return { phase: "pending", detail: "booting" };
    case "running":
      return { phase: "running", detail: "running", ready: true, endpoint: { kind: "ssh", host: "127.0.0.1", port: 22, user: "fake" } };
    default:
      return { phase: machine.status, detail: machine.status };
  }
}

export const fakeAdapter: ProviderAdapter = {
  name: "fakecloud",
  capabilities: {
    releaseActions: ["destroy", "stop"],
    defaultReleaseAction: "destroy",
    route: "gateway",
    readiness: "adapter",
    createSettleMs: CREATE_SETTLE_MS,
    idempotentCreate: false,
  ownership: "marker",
    stoppedBills: true,
    resume: true,
    requires: [],
    keyHandling: "create_param",
  },
  defaults: { type: "fake-1x", region: "fake-west" },
  validate: (spec) => (spec.type === "no-such-type" ? ["type no-such-type is not in the fake catalog"] : []),
  doctor: async () => [{ name: "account", status: "ok", detail: "fake account usable" }],
  async catalog() {
    fakeCloud.enter("catalog");
    if (!fakeCloud.capacity) return [{ type: "fake-1x", description: "one fake GPU", priceCentsPerHour: 1, regions: ["fake-west"] }];
    return Object.entries(fakeCloud.capacity).map(([type, left]) => ({ type, description: type, regions: left > 0 ? ["fake-west"] : [], available: left > 0 }));
  },
  priceCentsPerHour: async () => fakeCloud.listCents,
  handle: (spec: LeaseSpec) => `crabbox-${spec.deploymentId}-${spec.leaseId}`,

  async create(spec, attempt): Promise<ResourceRef> {
    const fault = fakeCloud.enter("create", attempt.handle);
    const type = spec.type ?? "fake-1x";
    if (fakeCloud.capacity) {
      if ((fakeCloud.capacity[type] ?? 0) <= 0) throw new ProviderError("capacity", `fake create: no capacity for ${type}`);
      fakeCloud.capacity[type]!--;
    }
    const existing = fakeCloud.byHandle(attempt.handle)[0];
    const machine = existing ?? fakeCloud.add(attempt.handle, { deploymentId: spec.deploymentId, leaseId: spec.leaseId });
    return afterAct(fault, { handle: attempt.handle, id: machine.id, ...(fakeCloud.actualPrice ? { price: fakeCloud.actualPrice } : {}) });
  },

  async recover(_spec, handle) {
    fakeCloud.enter("recover", handle);
    const found = fakeCloud.byHandle(handle);
    if (found.length === 0) return { kind: "absent" };
    if (found.length > 1) return { kind: "ambiguous", count: found.length };
    return { kind: "found", ref: { handle, id: found[0]!.id } };
  },

  async inspect(ref) {
    fakeCloud.enter("inspect", ref.handle);
    const machine = ref.id ? fakeCloud.machines.get(ref.id) : undefined;
    if (machine?.status === "booting" && machine.bootPolls-- <= 0) machine.status = "running";
    return status(machine);
  },

  async release(ref, action: ReleaseAction): Promise<ReleaseStep> {
    const fault = fakeCloud.enter("release", ref.handle);
    const machines = ref.id ? [fakeCloud.machines.get(ref.id)].filter((m) => m !== undefined) : fakeCloud.byHandle(ref.handle);
    let done = true;
    for (const machine of machines) {
      if (action === "stop") {
        if (machine.status === "stopping") machine.status = "stopped";
        else if (machine.status !== "stopped" && machine.status !== "gone") machine.status = "stopping";
        done &&= machine.status === "stopped";
      } else {
        if (machine.status === "terminating") machine.status = "gone";
        else if (machine.status !== "gone") machine.status = "terminating";
        done &&= machine.status === "gone";
      }
    }
    return afterAct(fault, done ? { done: true } : { done: false, detail: action === "stop" ? "stopping" : "terminating" });
  },

  async resume(ref) {
    const fault = fakeCloud.enter("resume", ref.handle);
    const machine = ref.id ? fakeCloud.machines.get(ref.id) : undefined;
    if (!machine || machine.status === "gone") throw new ProviderError("not_found", "no such machine");
    machine.status = "booting";
    await afterAct(fault, undefined);
  },

  async sideObjects() {
    return [];
  },

  async removeSideObject() {},

  async inventory(cursor?: string) {
    fakeCloud.enter("inventory");
    const live = fakeCloud.live();
    const start = cursor === undefined ? 0 : Number(cursor);
    const end = fakeCloud.pageSize === undefined ? live.length : start + fakeCloud.pageSize;
    return {
      items: live.slice(start, end).map((m) => ({
        id: m.id,
        status: m.status,
        createdAt: m.createdAt,
        marker: m.marker && { ...m.marker, handle: m.handle },
      })),
      next: end < live.length ? String(end) : undefined,
    };
  },
};

export const fakeCloudProvider: ProviderFactory = {
  name: "fakecloud",
  rateLimits: {},
  credentials: [],
  configured: () => true,
  create: () => fakeAdapter,
};
