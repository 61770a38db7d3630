// Providers: the capability matrix (src/contract/matrix.ts, the same table as `crabbox providers`
// and the README), doctor results on demand, and each catalog with prices and capacity.
import { useState } from "preact/hooks";
import { MATRIX_HEADER, capabilityRow } from "../../../src/contract/matrix";
import type { Catalog, DoctorReport, ProviderList } from "../../../src/contract/meta";
import { api } from "../api";
import { money } from "../format";
import { usePoll } from "../hooks";
import type * as z from "zod/mini";

type CatalogAnswer = z.infer<typeof Catalog>;
type DoctorAnswer = z.infer<typeof DoctorReport>;

function Detail({ name }: { name: string }) {
  const [doctor, setDoctor] = useState<DoctorAnswer | string>();
  const [catalog, setCatalog] = useState<CatalogAnswer | string>();
  const run = <T,>(path: string, set: (v: T | string) => void) => () => api<T>(path).then(set, (err: Error) => set(err.message));
  return (
    <div class="card" data-provider={name}>
      <div class="row">
        <strong>{name}</strong>
        <button onClick={run(`/v1/providers/${name}/doctor`, setDoctor)}>Run doctor</button>
        <button onClick={run(`/v1/providers/${name}/catalog`, setCatalog)}>Catalog</button>
      </div>
      {typeof doctor === "string" && <p class="error">{doctor}</p>}
      {doctor && typeof doctor !== "string" && (
        <table class="doctor">
          <tbody>{doctor.checks.map((c) => <tr><td>{c.status}</td><td>{c.name}</td><td>{c.detail}{c.hint ? ` — ${c.hint}` : ""}</td></tr>)}</tbody>
        </table>
      )}
      {typeof catalog === "string" && <p class="error">{catalog}</p>}
      {catalog && typeof catalog !== "string" && (
        <table class="catalog">
          <thead><tr><th>type</th><th>description</th><th>price</th><th>capacity</th></tr></thead>
          <tbody>
            {catalog.entries.map((e) => (
              <tr><td>{e.type}</td><td>{e.description}</td><td>{e.priceCentsPerHour === undefined ? "no price" : `${money(e.priceCentsPerHour)}/h`}</td><td>{e.regions.length ? e.regions.join(", ") : e.available === false ? "none" : "-"}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function Providers() {
  const { data, error } = usePoll(() => api<ProviderList>("/v1/providers"), 0);
  return (
    <main>
      <h1>Providers</h1>
      {error && <p class="error">{error}</p>}
      {data && (
        <table id="matrix">
          <thead><tr>{MATRIX_HEADER.map((h) => <th>{h}</th>)}</tr></thead>
          <tbody>{data.providers.map((p) => <tr>{capabilityRow(p).map((cell) => <td>{cell}</td>)}</tr>)}</tbody>
        </table>
      )}
      {data?.providers.map((p) => <Detail key={p.name} name={p.name} />)}
    </main>
  );
}
