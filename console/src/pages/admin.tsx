// Admin: every owner's leases, sweep runs and their decisions, tokens (mint, revoke), usage per
// owner for a month with a chart, and the effective configuration.
import { useState } from "preact/hooks";
import type { CreatedToken, EffectiveConfig, TokenList } from "../../../src/contract/meta";
import type { SweepRunList } from "../../../src/contract/sweep";
import type { AdminUsage } from "../../../src/contract/usage";
import { api } from "../api";
import { Bars } from "../components/bars";
import { money } from "../format";
import { usePoll } from "../hooks";
import { AllLeases } from "./leases";

function Sweeps() {
  const { data, error } = usePoll(() => api<SweepRunList>("/v1/admin/sweeps?limit=10"), 10_000);
  return (
    <section>
      <h2>Sweep runs</h2>
      {error && <p class="error">{error}</p>}
      {data?.sweeps.length === 0 && <p class="muted">No sweep has run yet.</p>}
      {data?.sweeps.map((run) => (
        <div class="card" key={run.id}>
          <div class="muted">{run.startedAt} · {run.trigger}{run.dryRun ? " · dry run" : ""}</div>
          <table>
            <thead><tr><th>provider</th><th>seen</th><th>ours</th><th>claimed</th><th>reclaimed</th><th>unattributed</th><th>side objects</th><th>decisions</th></tr></thead>
            <tbody>
              {run.providers.map((p) => (
                <tr>
                  <td>{p.provider}{p.complete ? "" : " (incomplete)"}</td><td>{p.seen}</td><td>{p.ours}</td><td>{p.claimed}</td><td>{p.reclaimed}</td>
                  <td>{p.unattributed ?? 0}{p.unattributedSample?.length ? `: ${p.unattributedSample.map((u) => u.resourceId).join(", ")}` : ""}</td>
                  <td>{sideObjects(p.sideObjects)}</td>
                  <td>{p.decisions.map((d) => `${d.handle}: ${d.verdict}/${d.action} (${d.reason})`).join("; ") || "-"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}

/** "2 stranded of 5, 1 removed: ssh_key 42 (removed)", or the listing's error. */
function sideObjects(side: SweepRunList["sweeps"][number]["providers"][number]["sideObjects"]): string {
  if (!side) return "-";
  if (side.error !== undefined) return `not listed: ${side.error}`;
  if (side.stranded === 0) return String(side.listed);
  return `${side.stranded} stranded of ${side.listed}, ${side.removed} removed: ${side.objects.map((o) => `${o.kind} ${o.id} (${o.action})`).join(", ")}`;
}

function Tokens() {
  const { data, error, reload } = usePoll(() => api<TokenList>("/v1/admin/tokens"), 0);
  const [owner, setOwner] = useState("");
  const [role, setRole] = useState("user");
  const [minted, setMinted] = useState<CreatedToken>();
  const [problem, setProblem] = useState<string>();
  const mint = async (e: Event) => {
    e.preventDefault();
    try {
      setMinted(await api<CreatedToken>("/v1/admin/tokens", { method: "POST", body: { owner, role } }));
      setProblem(undefined);
      reload();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  const revoke = async (id: string) => {
    if (!confirm(`Revoke token ${id}?`)) return;
    await api(`/v1/admin/tokens/${id}`, { method: "DELETE" });
    reload();
  };
  return (
    <section>
      <h2>Tokens</h2>
      <form class="row" onSubmit={mint}>
        <input placeholder="owner" value={owner} onInput={(e) => setOwner((e.target as HTMLInputElement).value)} aria-label="new token owner" />
        <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)} aria-label="new token role">
          <option value="user">user</option>
          <option value="admin">admin</option>
        </select>
        <button type="submit">Mint</button>
      </form>
      {problem && <p class="error">{problem}</p>}
      {minted && <p class="card">Token for {minted.info.owner} (shown once): <code>{minted.token}</code></p>}
      {error && <p class="error">{error}</p>}
      <table id="tokens">
        <thead><tr><th>id</th><th>owner</th><th>role</th><th>created</th><th>revoked</th><th></th></tr></thead>
        <tbody>
          {data?.tokens.map((t) => (
            <tr key={t.id}><td>{t.id}</td><td>{t.owner}</td><td>{t.role}</td><td>{t.createdAt}</td><td>{t.revokedAt ?? "-"}</td><td>{!t.revokedAt && <button onClick={() => revoke(t.id)}>Revoke</button>}</td></tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Usage() {
  const [month, setMonth] = useState(new Date().toISOString().slice(0, 7));
  const { data, error } = usePoll(() => api<AdminUsage>(`/v1/admin/usage?month=${month}`), 10_000, [month]);
  return (
    <section>
      <h2>Usage</h2>
      <div class="row">
        <input type="month" value={month} onInput={(e) => setMonth((e.target as HTMLInputElement).value)} aria-label="month" />
      </div>
      {error && <p class="error">{error}</p>}
      {data && data.owners.length > 0 && <Bars rows={data.owners.map((o) => ({ label: o.owner, value: o.spentCents + o.reservedCents, text: `${money(o.spentCents)} spent, ${money(o.reservedCents)} reserved` }))} />}
      <table id="usage">
        <thead><tr><th>owner</th><th>spent</th><th>reserved</th><th>monthly limit</th><th>live rate</th><th>rate limit</th></tr></thead>
        <tbody>
          {data?.owners.map((o) => (
            <tr key={o.owner}><td>{o.owner}</td><td>{money(o.spentCents)}</td><td>{money(o.reservedCents)}</td><td>{o.monthlyLimitCents === null ? "-" : money(o.monthlyLimitCents)}</td><td>{money(o.liveRateCentsPerHour)}/h</td><td>{o.maxRateCentsPerHour === null ? "-" : `${money(o.maxRateCentsPerHour)}/h`}</td></tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Config() {
  const { data, error } = usePoll(() => api<EffectiveConfig>("/v1/admin/config"), 0);
  return (
    <section>
      <h2>Effective configuration</h2>
      {error && <p class="error">{error}</p>}
      <table id="config">
        <thead><tr><th>setting</th><th>value</th><th>source</th></tr></thead>
        <tbody>{data?.settings.map((s) => <tr key={s.name}><td>{s.name}</td><td>{s.value || "-"}</td><td>{s.source}</td></tr>)}</tbody>
      </table>
      <table id="credentials">
        <thead><tr><th>credential</th><th>provider</th><th>status</th></tr></thead>
        <tbody>{data?.credentials.map((c) => <tr key={c.name}><td>{c.name}</td><td>{c.provider ?? "-"}</td><td>{c.status}</td></tr>)}</tbody>
      </table>
    </section>
  );
}

export function Admin() {
  return (
    <main>
      <h1>Admin</h1>
      <AllLeases />
      <Usage />
      <Sweeps />
      <Tokens />
      <Config />
    </main>
  );
}
