// Builds the web console into console/dist, which the Worker serves as static assets
// (wrangler.toml [assets]): console/src/main.tsx bundled with Preact into app.js, plus the
// files in console/public (index.html, style.css, _headers with the Content-Security-Policy).
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { build } from "esbuild";

const out = "console/dist";
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync("console/public", out, { recursive: true });
await build({
  entryPoints: ["console/src/main.tsx"],
  outfile: `${out}/app.js`,
  bundle: true,
  format: "esm",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  minify: true,
  sourcemap: true,
  legalComments: "none",
  logLevel: "warning",
});
console.log(`built ${out}`);
