// A horizontal bar chart (spend per owner): labels and values are text.
export function Bars({ rows }: { rows: { label: string; value: number; text: string }[] }) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const height = 24 * rows.length + 8;
  return (
    <svg class="bars" viewBox={`0 0 800 ${height}`} width={800} height={height} role="img" aria-label="spend by owner">
      {rows.map((r, i) => (
        <g key={r.label}>
          <text x={0} y={24 * i + 20}>{r.label}</text>
          <rect x={160} y={24 * i + 6} width={Math.max(1, (r.value / max) * 360)} height={16} fill="#0b6bcb" />
          <text x={160 + Math.max(1, (r.value / max) * 360) + 6} y={24 * i + 20}>{r.text}</text>
        </g>
      ))}
    </svg>
  );
}
