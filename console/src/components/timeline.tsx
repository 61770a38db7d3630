// A lease's states over time, drawn from its state events as one bar of coloured segments with
// the state names under them. Every label is text (SVG <text>), never markup.
import type { Lease, LeaseEvent } from "../../../src/contract/lease";

const COLOUR: Record<string, string> = {
  requested: "#bf8700", queued: "#d4a72c", provisioning: "#e3b341", ready: "#2da44e", active: "#1a7f37",
  parked: "#8c959f", releasing: "#fb8f44", released: "#d0d7de", failed: "#cf222e",
};

export function Timeline({ lease, events }: { lease: Lease; events: LeaseEvent[] }) {
  const start = Date.parse(lease.createdAt);
  const end = lease.endedAt ? Date.parse(lease.endedAt) : Date.now();
  const changes = [{ at: start, state: "requested" }, ...events.filter((e) => e.type === "state").map((e) => ({ at: Date.parse(e.at), state: e.state }))];
  const total = Math.max(1, end - start);
  const width = 1000;
  const x = (t: number) => ((Math.min(Math.max(t, start), end) - start) / total) * width;
  const segments = changes.map((c, i) => ({ ...c, until: changes[i + 1]?.at ?? end }));
  return (
    <svg class="timeline" viewBox={`0 0 ${width} 66`} width="100%" role="img" aria-label="lease timeline">
      <text x={0} y={62}>{new Date(start).toISOString().slice(11, 19)}</text>
      <text x={width} y={62} text-anchor="end">{lease.endedAt ? new Date(end).toISOString().slice(11, 19) : "now"}</text>
      {segments.map((s, i) => (
        <g key={i}>
          <rect x={x(s.at)} y={4} width={Math.max(2, x(s.until) - x(s.at))} height={22} fill={COLOUR[s.state] ?? "#999"}>
            <title>{`${s.state} from ${new Date(s.at).toISOString()}`}</title>
          </rect>
          {/* A label only where it fits; the bar's tooltip names every segment. */}
          {x(s.until) - x(s.at) >= 70 && <text x={x(s.at) + 2} y={42}>{s.state}</text>}
        </g>
      ))}
    </svg>
  );
}
