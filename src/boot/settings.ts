// The operator's Tailscale settings: TAILSCALE_AUTHKEY (a secret: an ephemeral, pre-authorised,
// tagged key) and TAILSCALE_TAGS (vars). Read where a boot script is checked and composed.

export interface TailscaleSettings {
  authKey?: string;
  tags?: string;
}

export function tailscaleSettings(env: Env): TailscaleSettings {
  const vars = env as unknown as Record<string, string | undefined>;
  return { authKey: vars.TAILSCALE_AUTHKEY?.trim() || undefined, tags: vars.TAILSCALE_TAGS?.trim() || undefined };
}
