// Per-file setup of the workerd project: D1 schema, and the in-memory fake cloud registered
// as a provider next to the real ones.
import { applyD1Migrations, env } from "cloudflare:test";
import { registerProviderFactory } from "../../src/providers/registry";
import { fakeCloudProvider } from "../support/fake-cloud";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
registerProviderFactory(fakeCloudProvider);
