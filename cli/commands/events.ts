// `crabbox events <lease>`: the lease's history as the coordinator recorded it.
import { defineCommand } from "../core/command";
import { table } from "../core/output";

export default defineCommand({
  path: "events",
  summary: "show the history of a lease",
  args: ["<lease>"],
  json: true,
  async run(ctx, { args: [idOrSlug = ""] }) {
    const answer = await ctx.client().leaseEvents(idOrSlug);
    ctx.out.result(answer, () =>
      table(
        ctx.out.color,
        ["SEQ", "AT", "STATE", "EVENT", "MESSAGE"],
        answer.events.map((event) => [String(event.seq), event.at, event.state, event.type, event.message]),
      ),
    );
  },
});
