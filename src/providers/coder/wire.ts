// Coder's shapes (codersdk), from ../shared/contracts/coder/ (README.md, api-excerpts.md,
// example-workspace.json). Only the fields crabbox reads are required; enums are read as strings
// so unknown values stay unknown instead of failing the parse.

import * as z from "zod/mini";

const str = z.string();
const opt = <T extends z.core.$ZodType>(t: T) => z.optional(z.nullable(t));

export const Organization = z.object({ id: str, name: str });
export const Template = z.object({ id: str, name: str, active_version_id: str });
export const User = z.object({ id: str, username: str });

/** GET /templateversions/{id}/rich-parameters (codersdk TemplateVersionParameter), the fields read. */
export const TemplateParameter = z.object({
  name: str,
  type: opt(str),
  required: opt(z.boolean()),
  default_value: opt(str),
  options: opt(z.array(z.object({ name: opt(str), value: str }))),
  validation_regex: opt(str),
});
export type TemplateParameter = z.infer<typeof TemplateParameter>;

/** GET /templateversions/{id}/presets: codersdk.Preset has no json tags, so its keys are Go's. */
export const Preset = z.object({ ID: str, Name: str, Parameters: opt(z.array(z.object({ Name: str, Value: str }))) });

/** GET /templateversions/{id}/resources: what a workspace of that version would have (agents' OS read). */
export const TemplateResource = z.object({ name: opt(str), agents: opt(z.array(z.object({ name: opt(str), operating_system: opt(str) }))) });

export const Agent = z.object({
  id: str,
  name: opt(str),
  status: str,
  lifecycle_state: str,
  operating_system: opt(str),
});

export const Build = z.object({
  id: str,
  status: str,
  transition: str,
  job: z.object({ status: str, error: opt(str) }),
  resources: z.optional(z.array(z.object({ agents: z.optional(z.array(Agent)) }))),
});

export const Workspace = z.object({
  id: str,
  name: str,
  owner_name: str,
  organization_id: str,
  template_id: str,
  latest_build: Build,
});
export type Workspace = z.infer<typeof Workspace>;
export type Build = z.infer<typeof Build>;

export const WorkspaceList = z.object({ workspaces: z.array(z.unknown()), count: z.number() });

/** `codersdk.Response`: `{message, detail?, validations?: [{field, detail}]}`. */
export const ErrorBody = z.object({
  message: str,
  detail: z.optional(str),
  validations: z.optional(z.nullable(z.array(z.object({ field: str, detail: str })))),
});
