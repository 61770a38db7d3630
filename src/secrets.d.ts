// Worker secrets (never in wrangler.toml): set with `wrangler secret put NAME`, or `.dev.vars`
// locally. Declared here because `wrangler types` only sees vars and bindings; optional vars
// that wrangler.toml leaves unset are declared here too.
interface CrabboxSecrets {
  /** Bootstrap admin bearer token. */
  CRABBOX_ADMIN_TOKEN?: string;
  /** Lambda Cloud API key; the lambda provider is configured when it is set. */
  LAMBDA_API_KEY?: string;
  /** Optional Lambda launch settings (plain vars, unset by default). */
  LAMBDA_IMAGE_FAMILY?: string;
  LAMBDA_FIREWALL_RULESET_ID?: string;
}
interface Env extends CrabboxSecrets {}
declare namespace Cloudflare {
  interface Env extends CrabboxSecrets {}
}
