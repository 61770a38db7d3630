// `crabbox whoami`: who the token belongs to, and where the URL and token came from.
import { defineCommand } from "../core/command";

export default defineCommand({
  path: "whoami",
  summary: "show the owner and role of your token",
  json: true,
  async run(ctx) {
    const credentials = ctx.credentials();
    const me = await ctx.client().whoami();
    ctx.out.result({ ...me, url: credentials.url, sources: credentials.sources }, () => [
      `${ctx.out.color.bold(me.owner)} (${me.role}, token ${me.tokenId})`,
      ctx.out.color.dim(`at ${credentials.url} (url from ${credentials.sources.url}, token from ${credentials.sources.token})`),
    ]);
  },
});
