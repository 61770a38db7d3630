// status, list, touch, release and resume against the fake coordinator: slugs resolve to ids,
// keys go once a release is confirmed (and stay while a parked lease may resume).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Lease, LeaseList } from "../../../src/contract/lease";
import { type World, onlyJson, startWorld } from "./helpers/world";

let world: World;
beforeEach(async () => {
  world = await startWorld();
});
afterEach(async () => {
  await world.stop();
});

async function acquire(...extra: string[]): Promise<Lease> {
  const result = await world.run(["acquire", "--provider", "lambda", "--json", ...extra]);
  expect(result.code).toBe(0);
  return onlyJson(result.stdout) as Lease;
}
const keyDir = (lease: Lease) => join(world.configDir, "leases", lease.id);

describe("lease commands", () => {
  it("status, list and touch address a lease by slug or id", async () => {
    const lease = await acquire();
    const status = await world.run(["status", lease.slug]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(lease.slug);
    expect(status.stdout).toMatch(/state\s+active/);

    const list = onlyJson((await world.run(["list", "--json"])).stdout) as LeaseList;
    expect(list.leases.map((each) => each.id)).toEqual([lease.id]);

    const touched = await world.run(["touch", lease.id, "--idle", "45m", "--json"]);
    expect(touched.code).toBe(0);
    expect(world.api.requestsTo("POST", /\/touch$/).at(-1)?.body).toEqual({ idleTimeout: "45m" });
  });

  it("release waits for the confirmation, then removes the local keys", async () => {
    const lease = await acquire();
    world.api.releaseMs = 500;
    const result = await world.run(["release", lease.slug]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/is released/);
    expect(result.stderr).toMatch(/releasing/);
    expect(existsSync(keyDir(lease))).toBe(false);
  });

  it("releasing an already-ended lease exits 0 and says so", async () => {
    const lease = await acquire();
    await world.run(["release", lease.slug]);
    const again = await world.run(["release", lease.slug]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/had already ended: released/);
    expect(world.api.requestsTo("POST", /\/release$/)).toHaveLength(1);
  });

  it("release --no-wait keeps the keys until the release is confirmed", async () => {
    const lease = await acquire();
    world.api.releaseMs = 60_000;
    const result = await world.run(["release", lease.slug, "--no-wait", "--json"]);
    expect(result.code).toBe(0);
    expect((onlyJson(result.stdout) as Lease).state).toBe("releasing");
    expect(existsSync(keyDir(lease))).toBe(true);
  });

  it("a stopped (parked) lease keeps its keys and resumes through SSH and ack again", async () => {
    const lease = await acquire();
    const parked = await world.run(["release", lease.slug, "--action", "stop", "--json"]);
    expect((onlyJson(parked.stdout) as Lease).state).toBe("parked");
    expect(existsSync(keyDir(lease))).toBe(true);

    const execsBefore = world.sshd.execs.length;
    const resumed = await world.run(["resume", lease.slug, "--json"]);
    expect(resumed.code).toBe(0);
    expect((onlyJson(resumed.stdout) as Lease).state).toBe("active");
    expect(world.sshd.execs.length).toBe(execsBefore + 1);
    expect(world.api.requestsTo("POST", /\/ack$/)).toHaveLength(2);
  });

  it("status --wait follows the long-poll until the state is reached", async () => {
    world.api.provisionMs = 1_500;
    const created = await fetch(`${world.api.url}/v1/leases`, {
      method: "POST",
      headers: { authorization: "Bearer user-token", "content-type": "application/json" },
      body: JSON.stringify({ provider: "lambda", sshPublicKey: "ssh-ed25519 AAAA test" }),
    });
    const lease = (await created.json()) as Lease;
    expect(lease.state).toBe("provisioning");
    const result = await world.run(["status", lease.slug, "--wait", "ready", "--json"]);
    expect(result.code).toBe(0);
    expect((onlyJson(result.stdout) as Lease).state).toBe("ready");
    const polls = world.api.requestsTo("GET", new RegExp(`/v1/leases/${lease.id}$`));
    expect(polls.some((poll) => poll.query.get("wait") === "ready" && poll.query.get("timeout") === "25s")).toBe(true);
  });
});
