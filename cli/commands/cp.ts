// `crabbox cp <src> <dst>`: copies files or directories between here and a lease's machine, in
// either direction, with rsync over the lease's SSH. The machine's side is written
// `<lease>:<path>` (relative paths are under the login's home there).
import { defineCommand } from "../core/command";
import { usageError } from "../core/errors";
import { copy } from "../core/sync";
import { usableLease } from "../core/lease-flow";

/** `<id or slug>:<path>`; a local path may contain a colon only after a slash. */
const REMOTE = /^([a-z0-9-]{12,40}):(.*)$/;

export default defineCommand({
  path: "cp",
  summary: "copy files or directories to or from a lease's machine (<lease>:<path>)",
  args: ["<src>", "<dst>"],
  json: true,
  examples: ["crabbox cp ./data brave-otter-4k2a:data", "crabbox cp brave-otter-4k2a:results/metrics.json ."],
  async run(ctx, { args: [src = "", dst = ""] }) {
    const [from, to] = [REMOTE.exec(src), REMOTE.exec(dst)];
    if (Boolean(from) === Boolean(to)) throw usageError("exactly one side must be on the lease, written <lease>:<path>");
    const ref = (from ?? to)![1]!;
    const lease = await usableLease(ctx, ref);
    const target = { endpoint: lease.endpoint!, paths: ctx.store.paths(lease.id), hostKeys: ctx.store.hasHostKey(lease.id) ? ("yes" as const) : ("accept-new" as const) };
    const result = await copy(target, { path: from ? from[2] || "." : src, remote: Boolean(from) }, { path: to ? to[2] || "." : dst, remote: Boolean(to) }, ctx.signal);
    ctx.out.result({ lease: lease.slug, ...result }, () => `Copied ${result.filesTransferred} file(s) (${result.bytesSent} bytes sent).`);
    return 0;
  },
});
