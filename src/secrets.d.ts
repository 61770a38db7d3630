// Worker secrets (never in wrangler.toml): set with `wrangler secret put NAME`, or `.dev.vars`
// locally. Declared here because `wrangler types` only sees vars and bindings.
interface CrabboxSecrets {
  /** Bootstrap admin bearer token. */
  CRABBOX_ADMIN_TOKEN?: string;
  /** Lambda Cloud API key; the lambda provider is configured when it is set. */
  LAMBDA_API_KEY?: string;
}
interface Env extends CrabboxSecrets {}
declare namespace Cloudflare {
  interface Env extends CrabboxSecrets {}
}
