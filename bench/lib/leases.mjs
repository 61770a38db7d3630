// Lease operations the bench drives through the public API, exactly as a client would:
// create, long-poll for a state, ack, touch, release. One ed25519 key serves every lease.
import { generateKeyPairSync } from "node:crypto";

const WAIT_ROUNDS = 8; // × the 30 s server-side long-poll bound
const RANK = ["requested", "provisioning", "ready", "active", "parked", "releasing", "released"];
const TERMINAL = new Set(["released", "failed"]);

/** An OpenSSH `ssh-ed25519 AAAA...` line built from the raw key at the end of the SPKI DER. */
export function benchPublicKey() {
  const der = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" });
  const raw = der.subarray(der.length - 32);
  const field = (buf) => Buffer.concat([Buffer.from([0, 0, 0, buf.length]), buf]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from("ssh-ed25519")), field(raw)]).toString("base64")} bench@crabbox`;
}

export function leaseApi(client, token) {
  const key = benchPublicKey();
  const reached = (state, wanted) =>
    TERMINAL.has(state) || RANK.indexOf(state === "failed" ? "released" : state) >= RANK.indexOf(wanted);

  return {
    async create(extra = {}) {
      const res = await client.expect([201], "POST", "/v1/leases", { token, body: { provider: "lambda", sshPublicKey: key, ...extra } });
      return { lease: res.json, ms: res.ms };
    },
    /** Long-polls until the lease reaches `state` (or ends); throws if it never does. */
    async waitFor(id, state, rounds = WAIT_ROUNDS) {
      for (let round = 0; round < rounds; round++) {
        const res = await client.expect([200], "GET", `/v1/leases/${id}?wait=${state}&timeout=30s`, { token });
        if (reached(res.json.state, state)) return res.json;
      }
      throw new Error(`lease ${id} did not reach ${state}`);
    },
    async ack(id) {
      const res = await client.expect([200], "POST", `/v1/leases/${id}/ack`, { token, body: {} });
      return { lease: res.json, ms: res.ms };
    },
    touch: (id) => client.request("POST", `/v1/leases/${id}/touch`, { token, body: {} }),
    floor: (id) => client.request("POST", `/v1/_bench/floor/${id}`, { token, body: {} }),
    async release(id) {
      const res = await client.expect([200], "POST", `/v1/leases/${id}/release`, { token, body: {} });
      return { lease: res.json, ms: res.ms };
    },
    /** A lease that is ready and acknowledged (active), as a connected client leaves it. */
    async active(extra) {
      const { lease } = await this.create(extra);
      const ready = await this.waitFor(lease.id, "ready");
      if (ready.state !== "ready") throw new Error(`lease ${lease.id} ended ${ready.state} instead of becoming ready`);
      return (await this.ack(lease.id)).lease;
    },
  };
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; returns results in order. */
export async function pool(count, concurrency, task) {
  const results = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}
