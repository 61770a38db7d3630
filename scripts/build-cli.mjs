// Bundles the crabbox CLI (cli/main.ts, its libraries and the contract schemas) into one ESM file
// that runs on Node >= 20: dist/cli/crabbox.mjs, executable, with a node shebang.
import { chmodSync, readFileSync } from "node:fs";
import { build } from "esbuild";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const outfile = "dist/cli/crabbox.mjs";

await build({
  entryPoints: ["cli/main.ts"],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  banner: { js: "#!/usr/bin/env node" },
  define: { __CRABBOX_VERSION__: JSON.stringify(pkg.version) },
  legalComments: "none",
  logLevel: "warning",
});
chmodSync(outfile, 0o755);
console.log(`built ${outfile} (crabbox ${pkg.version})`);
