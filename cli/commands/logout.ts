// `crabbox logout`: forgets the saved token (the URL stays for the next login). Nothing is revoked
// on the server: an admin revokes tokens with `crabbox admin token revoke`.
import { defineCommand } from "../core/command";
import { configFile, readConfig, writeConfig } from "../core/config";

export default defineCommand({
  path: "logout",
  summary: "forget the saved token",
  json: true,
  async run(ctx) {
    const saved = readConfig(ctx.configDir);
    const hadToken = saved.token !== undefined;
    if (hadToken) writeConfig(ctx.configDir, { url: saved.url });
    ctx.out.result({ loggedOut: hadToken, configFile: configFile(ctx.configDir) }, () =>
      hadToken ? `Logged out${saved.url ? ` of ${saved.url}` : ""}.` : "Not logged in; nothing to do.",
    );
    if (ctx.env.CRABBOX_TOKEN) ctx.out.note("note: CRABBOX_TOKEN is still set in this environment");
  },
});
