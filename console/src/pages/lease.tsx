// One lease: its timeline (states over time, events underneath), endpoint and the commands to
// reach it, and release / resume with a confirmation. Admins read it through the admin routes.
import type { Lease, LeaseEvents } from "../../../src/contract/lease";
import { api } from "../api";
import { State } from "../components/state";
import { Timeline } from "../components/timeline";
import { money } from "../format";
import { usePoll } from "../hooks";
import { me } from "../state";

const REFRESH_MS = 2_000;

function Copy({ text }: { text: string }) {
  return (
    <div class="row">
      <code>{text}</code>
      <button onClick={() => void navigator.clipboard?.writeText(text)}>copy</button>
    </div>
  );
}

export function LeasePage({ id }: { id: string }) {
  const admin = me.value?.role === "admin";
  const base = admin ? `/v1/admin/leases/${id}` : `/v1/leases/${id}`;
  const load = async () => {
    const [lease, events] = await Promise.all([api<Lease>(base), api<LeaseEvents>(`${base}/events`)]);
    return { lease, events: events.events };
  };
  const { data, error, reload } = usePoll(load, REFRESH_MS, [id]);
  if (error && !data) return <main><p class="error">{error}</p></main>;
  if (!data) return <main><p class="muted">Loading…</p></main>;
  const { lease, events } = data;
  const ended = lease.state === "released" || lease.state === "failed";
  const release = async () => {
    if (!confirm(`Release ${lease.slug}? Its machine is ${lease.releaseAction === "stop" ? "stopped" : "destroyed"}.`)) return;
    await api(admin ? `/v1/admin/leases/${id}/release` : `/v1/leases/${id}/release`, { method: "POST", body: {} });
    reload();
  };
  const resume = async () => {
    if (!confirm(`Resume ${lease.slug}?`)) return;
    await api(`/v1/leases/${id}/resume`, { method: "POST", body: {} });
    reload();
  };
  const ep = lease.endpoint;
  return (
    <main>
      <h1>{lease.slug} <State state={lease.state} /></h1>
      <p class="muted">
        {lease.owner} · {lease.provider} {lease.type ?? ""} {lease.region ? `in ${lease.region}` : ""} · {lease.priceCentsPerHour === undefined ? "no price" : `${money(lease.priceCentsPerHour)}/h`} · {money(lease.costCents)} so far
      </p>
      {lease.failure && <p class="error">{lease.failure.message} ({lease.failure.code})</p>}
      <div class="card">
        <Timeline lease={lease} events={events} />
      </div>
      {ep && (
        <div class="card" id="endpoint">
          <Copy text={`crabbox ssh ${lease.slug}`} />
          {ep.kind === "ssh" ? <Copy text={`ssh -p ${ep.port} ${ep.user}@${ep.host}`} /> : <Copy text={`ssh -o ProxyCommand="${ep.proxyCommand.join(" ")}" ${ep.user}@${ep.host}`} />}
        </div>
      )}
      <div class="row">
        {!ended && <button class="danger" onClick={release}>Release</button>}
        {lease.state === "parked" && lease.owner === me.value?.owner && <button onClick={resume}>Resume</button>}
      </div>
      <h2>Events</h2>
      <table id="events">
        <thead><tr><th>time</th><th>state</th><th>event</th></tr></thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.seq}><td>{e.at}</td><td><State state={e.state} /></td><td>{e.message}</td></tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}
