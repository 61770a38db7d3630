// `crabbox login`: saves the coordinator URL and a token after checking them against /v1/whoami.
// The token comes from --token, piped stdin, or a no-echo prompt (never from argv by default).
import { defineCommand } from "../core/command";
import { configFile, isLoopback, normalizeUrl, readConfig, writeConfig } from "../core/config";
import { usageError } from "../core/errors";
import { readLine, readSecret, readStdin } from "../core/prompt";

export default defineCommand({
  path: "login",
  summary: "save the coordinator URL and your API token (checked before saving)",
  json: true,
  examples: ["crabbox login --url https://crabbox.example.com", "echo \"$TOKEN\" | crabbox login --url https://crabbox.example.com"],
  async run(ctx) {
    const saved = readConfig(ctx.configDir);
    const interactive = Boolean(process.stdin.isTTY);
    const rawUrl = ctx.flags.url ?? ctx.env.CRABBOX_URL ?? saved.url ?? (interactive ? await readLine("Coordinator URL: ") : undefined);
    if (!rawUrl) throw usageError("no coordinator URL: pass --url https://... (or set CRABBOX_URL)");
    const url = normalizeUrl(rawUrl);
    const token = ctx.flags.token ?? (interactive ? await readSecret("API token: ") : await readStdin());
    if (!token) throw usageError("no token given: pipe it on stdin or type it at the prompt");
    if (!url.startsWith("https:") && !isLoopback(url)) ctx.out.warn(`${url} is plain http: the token crosses the network unencrypted`);

    const me = await ctx.client({ url, token }).whoami();
    writeConfig(ctx.configDir, { url, token });
    ctx.out.result({ url, owner: me.owner, role: me.role, tokenId: me.tokenId, configFile: configFile(ctx.configDir) }, () => [
      `Logged in to ${url} as ${ctx.out.color.bold(me.owner)} (${me.role}).`,
      ctx.out.color.dim(`Saved to ${configFile(ctx.configDir)}`),
    ]);
  },
});
