// Coder settings read from Worker vars and secrets (CODER_URL, CODER_ORGANIZATION,
// CODER_TEMPLATE, optional CODER_TEMPLATE_PRESET; secret CODER_SESSION_TOKEN). Reading never throws: problems become checks.

import { readCents } from "../price";
import type { ProviderConfig } from "../types";

export interface CoderSettings {
  deploymentId: string;
  url: string;
  token: string;
  organization: string;
  template: string;
  /** A preset of the template's active version, by name (CODER_TEMPLATE_PRESET), or undefined. */
  preset?: string;
  /** CODER_PRICE_CENTS_PER_HOUR: what one workspace costs the team (Coder reports no price). */
  priceCentsPerHour?: number;
  problems: string[];
}

export function readSettings(config: ProviderConfig): CoderSettings {
  const vars = config.vars;
  const text = (name: string) => vars[name]?.trim() || undefined;
  const problems: string[] = [];
  const url = text("CODER_URL") ?? "";
  const token = text("CODER_SESSION_TOKEN") ?? "";
  const template = text("CODER_TEMPLATE") ?? "";
  if (!url) problems.push("CODER_URL is not set");
  if (!token) problems.push("CODER_SESSION_TOKEN is not set");
  if (!template) problems.push("CODER_TEMPLATE is not set");
  return { deploymentId: config.deploymentId, url, token, organization: text("CODER_ORGANIZATION") ?? "default", template, preset: text("CODER_TEMPLATE_PRESET"), priceCentsPerHour: readCents(vars, "CODER_PRICE_CENTS_PER_HOUR", problems), problems };
}
