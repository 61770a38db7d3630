// Lambda Cloud wire format: zod/mini schemas of every request we send and every response we
// read, field by field from ../shared/contracts/lambda/openapi-1.10.0.json (1.8.3 where they
// agree). Responses are parsed leniently (unknown fields dropped, enums read as strings).

import * as z from "zod/mini";

/** `Region`: 1.8.3 types `name` as the PublicRegionCode enum, 1.10.0 as a string; regions are added over time. */
export const Region = z.object({ name: z.string(), description: z.string() });

/** `InstanceTypeSpecs`. */
export const InstanceTypeSpecs = z.object({
  vcpus: z.int(),
  memory_gib: z.int(),
  storage_gib: z.int(),
  gpus: z.int(),
});

/** `InstanceType`: an object wherever it appears (instance listings and the type map). */
export const InstanceType = z.object({
  name: z.string(),
  description: z.string(),
  gpu_description: z.string(),
  price_cents_per_hour: z.int(),
  specs: InstanceTypeSpecs,
});

/** `InstanceTypesItem`; `InstanceTypes` is a MAP keyed by type name, not an array. */
export const InstanceTypesItem = z.object({
  instance_type: InstanceType,
  regions_with_capacity_available: z.array(Region),
});
export const InstanceTypes = z.record(z.string(), InstanceTypesItem);

/** `InstanceStatus` enum. Read as a string so a new status reaches the total map's unknown case. */
export const INSTANCE_STATUSES = ["booting", "active", "unhealthy", "terminated", "terminating", "preempted"] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

export const TagEntry = z.object({ key: z.string(), value: z.string() });

/** `InstanceActionAvailabilityDetails`; `reason_code` is an open enum (1.10.0 added a value). */
const ActionAvailability = z.object({
  available: z.boolean(),
  reason_code: z.optional(z.string()),
  reason_description: z.optional(z.string()),
});

/** `Instance`. Carries `jupyter_token`: never put a parsed instance into a message or log. */
export const Instance = z.object({
  id: z.string(),
  name: z.optional(z.string()),
  ip: z.optional(z.string()),
  private_ip: z.optional(z.string()),
  status: z.string(),
  ssh_key_names: z.array(z.string()),
  file_system_names: z.array(z.string()),
  file_system_mounts: z.optional(z.array(z.object({ mount_point: z.string(), file_system_id: z.string() }))),
  region: Region,
  instance_type: InstanceType,
  hostname: z.optional(z.string()),
  jupyter_token: z.optional(z.string()),
  jupyter_url: z.optional(z.string()),
  actions: z.object({
    migrate: ActionAvailability,
    rebuild: ActionAvailability,
    restart: ActionAvailability,
    cold_reboot: ActionAvailability,
    terminate: ActionAvailability,
  }),
  tags: z.optional(z.array(TagEntry)),
  firewall_rulesets: z.optional(z.array(z.object({ id: z.string() }))),
});

/** `SSHKey` (also the non-generated answer of POST /ssh-keys). */
export const SshKey = z.object({
  id: z.string(),
  name: z.string().check(z.minLength(1), z.maxLength(64)),
  public_key: z.string().check(z.minLength(1), z.maxLength(4096)),
});

/** `Image`. `architecture` is an enum (x86_64, arm64) read as a string. */
export const Image = z.object({
  id: z.string(),
  created_time: z.string(),
  updated_time: z.string(),
  name: z.string(),
  description: z.string(),
  family: z.string(),
  version: z.string(),
  architecture: z.string(),
  region: Region,
});

/** `FirewallRuleset` (1.10.0): only what the doctor reads. A ruleset belongs to one region. */
export const FirewallRuleset = z.object({ id: z.string(), name: z.string(), region: Region });

export const LaunchResponse = z.object({ instance_ids: z.array(z.string()) });
export const TerminateResponse = z.object({ terminated_instances: z.array(Instance) });
export const EmptyResponse = z.object({});

/** Success envelope: every 2xx body is `{"data": ...}`. */
export function envelope<T extends z.core.$ZodType>(data: T) {
  return z.object({ data });
}

/** Error envelope `{"error": {code, message, suggestion?}}` (ApiError* schemas). */
export const ErrorEnvelope = z.object({
  error: z.object({ code: z.string(), message: z.string(), suggestion: z.optional(z.string()) }),
});

// ---- Requests (validated before sending, so a bad value fails here, not at the provider) ----

/** `RequestedTagEntry`: key ^[a-z][a-z0-9-:]+$ up to 55 chars, value up to 128. */
export const RequestedTagEntry = z.object({
  key: z.string().check(z.maxLength(55), z.regex(/^[a-z][a-z0-9-:]+$/)),
  value: z.string().check(z.maxLength(128)),
});

/** `ImageSpecificationID` | `ImageSpecificationFamily`. */
export const ImageSpecification = z.union([z.object({ id: z.string() }), z.object({ family: z.string() })]);

/**
 * `InstanceLaunchRequest`. `region_name` is a string (1.10.0) rather than 1.8.3's closed enum.
 * `ssh_key_names` must hold exactly one name. `user_data` (1.8.3; absent from the 1.10.0
 * mirror) carries the lease's boot script, at most 1 MB.
 */
export const LaunchRequest = z.object({
  region_name: z.string().check(z.minLength(1)),
  instance_type_name: z.string().check(z.minLength(1)),
  ssh_key_names: z.array(z.string()).check(z.length(1)),
  name: z.optional(z.string().check(z.maxLength(64))),
  image: z.optional(ImageSpecification),
  tags: z.optional(z.array(RequestedTagEntry)),
  firewall_rulesets: z.optional(z.array(z.object({ id: z.string() }))),
  user_data: z.optional(z.string().check(z.maxLength(1_000_000))),
});

/** `InstanceTerminateRequest`. */
export const TerminateRequest = z.object({ instance_ids: z.array(z.string()).check(z.minLength(1)) });

/** `AddSSHKeyRequest`. We always send `public_key`: omitting it makes Lambda generate a private key. */
export const AddSshKeyRequest = z.object({
  name: z.string().check(z.minLength(1), z.maxLength(64)),
  public_key: z.string().check(z.minLength(1), z.maxLength(4096)),
});

export type Instance = z.infer<typeof Instance>;
export type SshKey = z.infer<typeof SshKey>;
export type Image = z.infer<typeof Image>;
export type FirewallRuleset = z.infer<typeof FirewallRuleset>;
export type InstanceTypes = z.infer<typeof InstanceTypes>;
export type LaunchRequest = z.infer<typeof LaunchRequest>;
export type TerminateRequest = z.infer<typeof TerminateRequest>;
export type AddSshKeyRequest = z.infer<typeof AddSshKeyRequest>;
