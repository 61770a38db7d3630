// Lambda settings read from Worker vars and secrets (wrangler.toml [vars], LAMBDA_API_KEY secret).
// Reading never throws: problems are collected so doctor can report them as checks.

import type { ProviderConfig } from "../types";

export const DEFAULT_BASE_URL = "https://cloud.lambda.ai/api/v1";
/** Lambda machines listen on 22; the local stack's emulated machines listen elsewhere. */
export const DEFAULT_SSH_PORT = 22;
/** Lambda's images log in as `ubuntu` (contracts/README.md). */
export const SSH_USER = "ubuntu";

export interface LambdaSettings {
  deploymentId: string;
  apiKey: string;
  baseUrl: string;
  sshPort: number;
  defaultRegion?: string;
  defaultType?: string;
  /** Launch with `image: {family}` unless the lease asks for its own image. */
  imageFamily?: string;
  firewallRulesetId?: string;
  /** Configuration problems; when any exist, every provider call is refused. */
  problems: string[];
}

export function readSettings(config: ProviderConfig): LambdaSettings {
  const vars = config.vars;
  const text = (name: string) => {
    const value = vars[name]?.trim();
    return value ? value : undefined;
  };
  const problems: string[] = [];
  const portText = text("LAMBDA_SSH_PORT");
  const sshPort = portText === undefined ? DEFAULT_SSH_PORT : Number(portText);
  if (!Number.isInteger(sshPort) || sshPort < 1 || sshPort > 65_535) {
    problems.push("LAMBDA_SSH_PORT must be a TCP port number (1-65535)");
  }
  const apiKey = text("LAMBDA_API_KEY") ?? "";
  if (!apiKey) problems.push("LAMBDA_API_KEY is not set");
  return {
    deploymentId: config.deploymentId,
    apiKey,
    baseUrl: text("LAMBDA_BASE_URL") ?? DEFAULT_BASE_URL,
    sshPort,
    defaultRegion: text("LAMBDA_DEFAULT_REGION"),
    defaultType: text("LAMBDA_DEFAULT_TYPE"),
    imageFamily: text("LAMBDA_IMAGE_FAMILY"),
    firewallRulesetId: text("LAMBDA_FIREWALL_RULESET_ID"),
    problems,
  };
}
