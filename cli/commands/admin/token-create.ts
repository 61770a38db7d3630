// `crabbox admin token create`: mints an API token for an owner. The secret is shown once.
import { defineCommand, keyValues } from "../../core/command";

interface Options {
  owner: string;
  role?: "user" | "admin";
  label?: string;
  providerUser?: string[];
  json?: boolean;
}

export default defineCommand<Options>({
  path: "admin token create",
  summary: "create an API token for an owner (the secret is shown once)",
  json: true,
  options: [
    { flags: "--owner <owner>", description: "who the token acts as, e.g. alice", required: true },
    { flags: "--role <role>", description: "user (default) or admin", choices: ["user", "admin"] },
    { flags: "--label <label>", description: "a note to recognise the token by" },
    { flags: "--provider-user <provider=name...>", description: "the owner's username at a provider with its own users, e.g. coder=alice.smith" },
  ],
  async run(ctx, { opts }) {
    const client = ctx.client();
    const created = await client.createToken({ owner: opts.owner, role: opts.role, label: opts.label, providerUsers: keyValues(opts.providerUser, "--provider-user", "coder=alice") });
    // Only the secret on stdout, so `TOKEN=$(crabbox admin token create --owner bob)` works.
    ctx.out.result(created, () => created.token);
    if (!ctx.out.json) {
      ctx.out.note(`Token ${created.info.id} for ${created.info.owner} (${created.info.role}); the secret is shown only this once.`);
      ctx.out.note(`They log in with: crabbox login --url ${client.url}   (and paste it at the prompt)`);
    }
  },
});

