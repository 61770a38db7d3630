// fal Compute's shapes, from the fact sheet of the official docs (../shared/contracts/fal/README.md;
// no machine-readable spec exists). Only the fields crabbox reads are required.

import * as z from "zod/mini";

export const INSTANCE_TYPES = ["gpu_1x_h100_sxm5", "gpu_8x_h100_sxm5"] as const;
export const SECTORS = ["sector_1", "sector_2", "sector_3"] as const;

/** POST /compute/instances body: `sector` only ever with the 8x type. */
export interface CreateRequest {
  instance_type: (typeof INSTANCE_TYPES)[number];
  ssh_key: string;
  sector?: (typeof SECTORS)[number];
}

/** The instance object (`id` like inst_abc123xyz). `status` is read as a string: unknown words fail closed. */
export const Instance = z.object({
  id: z.string().check(z.minLength(1)),
  instance_type: z.string(),
  region: z.optional(z.nullable(z.string())),
  status: z.string(),
  sector: z.optional(z.nullable(z.string())),
  ip: z.optional(z.nullable(z.string())),
  creator_user_nickname: z.optional(z.nullable(z.string())),
});
export type Instance = z.infer<typeof Instance>;

/** GET /compute/instances: all three fields are always present (the docs). */
export const InstancePage = z.object({
  instances: z.array(z.unknown()),
  next_cursor: z.nullable(z.string()),
  has_more: z.boolean(),
});

/** `{"error": {"type", "message", "docs_url"?, "request_id"?}}`. */
export const ErrorBody = z.object({
  error: z.object({ type: z.string(), message: z.string(), docs_url: z.optional(z.string()), request_id: z.optional(z.string()) }),
});
