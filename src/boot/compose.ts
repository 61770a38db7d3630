// The boot script a machine runs: the client's user data, and (with `tailscale`) the join of the
// team's tailnet with the lease's slug as hostname. Pure: the lease object composes it in memory
// right before the create; neither the result nor the auth key is ever stored or logged.

export interface TailscaleJoin {
  /** The operator's TAILSCALE_AUTHKEY (an ephemeral, pre-authorised, tagged key). */
  authKey: string;
  hostname: string;
  /** e.g. "tag:crabbox,tag:gpu": must be tags the key may apply. */
  tags?: string;
}

export interface BootInput {
  userData?: string;
  tailscale?: TailscaleJoin;
  /** The provider runs cloud-init documents (Lambda); otherwise only shell scripts (Vast onstart). */
  cloudInit: boolean;
}

export const CLOUD_CONFIG = /^#cloud-config\b/;
const MIME_BOUNDARY = "crabbox-boot-7f3a";

const q = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** The shell lines that install Tailscale (its official install script) and join the tailnet. */
export function tailscaleScript(join: TailscaleJoin): string {
  const tags = join.tags ? ` --advertise-tags=${q(join.tags)}` : "";
  return [
    "#!/bin/sh",
    "# crabbox: join the team's tailnet (an ephemeral key: the node leaves when the machine goes)",
    "set -e",
    "command -v tailscale >/dev/null 2>&1 || curl -fsSL https://tailscale.com/install.sh | sh",
    `tailscale up --authkey=${q(join.authKey)} --hostname=${q(join.hostname)} --ssh=false${tags}`,
    "",
  ].join("\n");
}

/**
 * One script for the provider's boot hook. A shell script and the tailnet join run in sequence
 * (the join first); a cloud-config document and the join become a cloud-init MIME multi-part
 * (cloud-init's own format for several parts). Undefined when there is nothing to run.
 */
export function composeBootScript(input: BootInput): string | undefined {
  const { userData, tailscale } = input;
  if (!tailscale) return userData;
  const join = tailscaleScript(tailscale);
  if (!userData) return join;
  if (CLOUD_CONFIG.test(userData)) {
    return [
      `Content-Type: multipart/mixed; boundary="${MIME_BOUNDARY}"`,
      "MIME-Version: 1.0",
      "",
      `--${MIME_BOUNDARY}`,
      'Content-Type: text/x-shellscript; charset="utf-8"',
      "",
      join,
      `--${MIME_BOUNDARY}`,
      'Content-Type: text/cloud-config; charset="utf-8"',
      "",
      userData,
      `--${MIME_BOUNDARY}--`,
      "",
    ].join("\n");
  }
  // The user's script runs as its own program (its own shebang), after the join.
  return `${join}cat > /tmp/crabbox-user-data <<'CRABBOX_USER_DATA_EOF'\n${userData}\nCRABBOX_USER_DATA_EOF\nchmod +x /tmp/crabbox-user-data\nexec /tmp/crabbox-user-data\n`;
}

/** What a provider without cloud-init cannot run. */
export function needsCloudInit(userData: string | undefined): boolean {
  return userData !== undefined && CLOUD_CONFIG.test(userData);
}
