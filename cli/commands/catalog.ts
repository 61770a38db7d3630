// `crabbox catalog --provider P`: the machine types (and prices, regions) a provider offers, i.e.
// the values `crabbox acquire --type/--region` takes.
import { defineCommand } from "../core/command";
import { table } from "../core/output";

interface Options {
  provider: string;
  json?: boolean;
}

export default defineCommand<Options>({
  path: "catalog",
  summary: "list a provider's machine types, prices and regions",
  json: true,
  options: [{ flags: "--provider <name>", description: "provider (see `crabbox providers`)", required: true }],
  async run(ctx, { opts }) {
    const catalog = await ctx.client().catalog(opts.provider);
    ctx.out.result(catalog, () =>
      table(
        ctx.out.color,
        ["TYPE", "GPUS", "$/HOUR", "REGIONS", "DESCRIPTION"],
        catalog.entries.map((entry) => [
          entry.type,
          entry.gpus === undefined ? "-" : String(entry.gpus),
          entry.priceCentsPerHour === undefined ? "-" : (entry.priceCentsPerHour / 100).toFixed(2),
          entry.regions.join(",") || "-",
          entry.description,
        ]),
      ),
    );
  },
});
