// `crabbox providers`: what the coordinator can lease from, and each provider's capabilities.
import { defineCommand } from "../core/command";
import { table } from "../core/output";

export default defineCommand({
  path: "providers",
  summary: "list the coordinator's providers and what they support",
  json: true,
  async run(ctx) {
    const answer = await ctx.client().providers();
    ctx.out.result(answer, () =>
      table(
        ctx.out.color,
        ["NAME", "CONFIGURED", "RELEASE ACTIONS", "RESUME", "STOPPED MACHINE", "DEFAULT TYPE", "DEFAULT REGION"],
        answer.providers.map((provider) => [
          provider.name,
          provider.configured ? "yes" : "no",
          provider.capabilities.releaseActions
            .map((action) => (action === provider.capabilities.defaultReleaseAction ? `${action} (default)` : action))
            .join(", "),
          provider.capabilities.resume ? "yes" : "no",
          !provider.capabilities.releaseActions.includes("stop") ? "-" : provider.capabilities.stoppedBills ? "still bills storage" : "free",
          provider.defaults.type ?? "-",
          provider.defaults.region ?? "-",
        ]),
      ),
    );
  },
});
