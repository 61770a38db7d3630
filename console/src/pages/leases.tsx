// My leases (and, for admins, every owner's with filters): a table that refreshes itself.
import { useState } from "preact/hooks";
import type { Lease, LeaseList } from "../../../src/contract/lease";
import { api } from "../api";
import { State } from "../components/state";
import { age, left, money } from "../format";
import { usePoll } from "../hooks";

const REFRESH_MS = 2_000;

/** The caller's live leases with their deadlines and cost (one detail read per live lease). */
async function myLeases(): Promise<Lease[]> {
  const list = await api<LeaseList>("/v1/leases?live=true&limit=100");
  return Promise.all(list.leases.map((l) => api<Lease>(`/v1/leases/${l.id}`)));
}

function cost(l: { costCents: number; priceCentsPerHour?: number }) {
  return l.priceCentsPerHour === undefined && !l.costCents ? "no price" : money(l.costCents);
}

export function MyLeases() {
  const { data, error } = usePoll(myLeases, REFRESH_MS);
  return (
    <main>
      <h1>My leases</h1>
      {error && <p class="error">{error}</p>}
      {data && data.length === 0 && <p class="muted">No live leases. `crabbox acquire --provider &lt;name&gt;` starts one.</p>}
      {data && data.length > 0 && (
        <table id="leases">
          <thead>
            <tr><th>lease</th><th>provider</th><th>type</th><th>state</th><th>age</th><th>idle in</th><th>TTL in</th><th>cost</th></tr>
          </thead>
          <tbody>
            {data.map((l) => (
              <tr key={l.id} data-lease={l.slug}>
                <td><a href={`#/lease/${l.id}`}>{l.slug}</a></td>
                <td>{l.provider}</td>
                <td>{l.type ?? "-"}</td>
                <td><State state={l.state} />{l.queue?.position ? ` #${l.queue.position} in line` : ""}</td>
                <td>{age(l.createdAt)}</td>
                <td>{left(l.deadlines.idle)}</td>
                <td>{left(l.deadlines.ttl)}</td>
                <td>{cost(l)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

/** Admin: every owner's leases, filtered by owner, state and provider. */
export function AllLeases() {
  const [filter, setFilter] = useState({ owner: "", state: "", provider: "", live: "true" });
  const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v) as [string, string][]).toString();
  const { data, error } = usePoll(() => api<LeaseList>(`/v1/admin/leases?limit=100&${query}`), REFRESH_MS, [query]);
  const set = (key: keyof typeof filter) => (e: Event) => setFilter({ ...filter, [key]: (e.target as HTMLInputElement).value });
  return (
    <section>
      <h2>Every owner's leases</h2>
      <div class="row">
        <input placeholder="owner" value={filter.owner} onInput={set("owner")} aria-label="owner filter" />
        <input placeholder="provider" value={filter.provider} onInput={set("provider")} aria-label="provider filter" />
        <select value={filter.state} onChange={set("state")} aria-label="state filter">
          {["", "queued", "provisioning", "ready", "active", "parked", "releasing", "released", "failed"].map((s) => <option value={s}>{s || "any state"}</option>)}
        </select>
        <select value={filter.live} onChange={set("live")} aria-label="live filter">
          <option value="true">live</option>
          <option value="">live and ended</option>
        </select>
      </div>
      {error && <p class="error">{error}</p>}
      <table id="all-leases">
        <thead><tr><th>lease</th><th>owner</th><th>provider</th><th>type</th><th>state</th><th>age</th><th>cost</th></tr></thead>
        <tbody>
          {(data?.leases ?? []).map((l) => (
            <tr key={l.id} data-lease={l.slug}>
              <td><a href={`#/lease/${l.id}`}>{l.slug}</a></td>
              <td>{l.owner}</td>
              <td>{l.provider}</td>
              <td>{l.type ?? "-"}</td>
              <td><State state={l.state} />{l.endReason ? ` (${l.endReason})` : ""}</td>
              <td>{age(l.createdAt)}</td>
              <td>{cost(l)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
