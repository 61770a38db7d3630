// Vast.ai's shapes, as the official files and client have them (../shared/contracts/vast/:
// search_offers.yaml, create_instance.yaml, show_instance(s).yaml, *_ssh*.yaml, show_user.yaml;
// cli-facts.md for what the official client really sends). Only the fields crabbox reads are
// required; everything else passes through untouched (Vast adds fields freely).

import * as z from "zod/mini";

const num = z.number();
const str = z.string();
const opt = <T extends z.core.$ZodType>(t: T) => z.optional(z.nullable(t));

/** A search filter: `{field: {op: value}}` with the operators the client knows (cli-facts.md). */
export type Filter = Partial<Record<"eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "in" | "notin", unknown>>;

/**
 * POST /bundles/ body: filters plus `order`, `type`, `limit`, `allocated_storage` (GB).
 * `type` is "on-demand" as the official client sends it (the yaml's enum says "ondemand";
 * the client is what runs against the live API every day).
 */
export interface SearchRequest {
  [field: string]: Filter | unknown;
  order: [string, "asc" | "desc"][];
  type: "on-demand";
  limit: number;
  allocated_storage: number;
}

/** One offer (the yaml's example; `vastai/data/offer.py` `Offer`). */
export const Offer = z.object({
  id: num,
  num_gpus: num,
  gpu_name: str,
  dph_total: num,
  geolocation: opt(str),
  reliability: opt(num),
  reliability2: opt(num),
  direct_port_count: opt(num),
  end_date: opt(num),
  storage_cost: opt(num),
  gpu_ram: opt(num),
});
export type Offer = z.infer<typeof Offer>;
export const SearchResponse = z.object({ offers: z.array(z.unknown()) });

/** PUT /asks/{id}/ answer: `new_contract` is the instance id (an integer). */
export const CreateResponse = z.object({ success: z.boolean(), new_contract: num, instance_api_key: z.optional(str) });

/** Port map of a running instance: `"22/tcp" -> [{HostIp, HostPort}]`, HostPort a string. */
const PortMap = z.record(z.string(), z.nullable(z.array(z.object({ HostIp: z.optional(str), HostPort: str }))));

/** An instance, as GET /instances/{id}/ and the v1 listing return it (the fields read here). */
export const Instance = z.object({
  id: num,
  actual_status: opt(str),
  intended_status: opt(str),
  cur_state: opt(str),
  label: opt(str),
  public_ipaddr: opt(str),
  ports: opt(PortMap),
  ssh_host: opt(str),
  ssh_port: opt(num),
  image_runtype: opt(str),
  status_msg: opt(str),
  end_date: opt(num),
  dph_total: opt(num),
  is_bid: opt(z.boolean()),
  gpu_name: opt(str),
  num_gpus: opt(num),
});
export type Instance = z.infer<typeof Instance>;

/** GET /instances/{id}/: one object under a plural key; `null` when it does not exist. */
export const ShowInstance = z.object({ instances: z.nullable(z.unknown()) });

/** GET /api/v1/instances/: at most 25 per page; `next_token` goes back as `after_token`. */
export const InstancePage = z.object({ instances: z.array(z.unknown()), next_token: opt(str) });

/** GET /instances/{id}/ssh/: `ssh_keys` is a JSON-encoded string of an array. */
export const InstanceKeys = z.object({ ssh_keys: z.union([str, z.array(z.unknown())]) });
export const InstanceKey = z.object({ id: num, public_key: str });
export type InstanceKey = z.infer<typeof InstanceKey>;

/** GET /users/current/: `ssh_key` is the account-level key copied into every new instance. */
export const User = z.object({ id: num, email: opt(str), balance: opt(num), ssh_key: opt(str) });

/** `{success:false, error, msg}`; some endpoints send only `msg`, `message` or `detail`. */
export const ErrorBody = z.object({
  success: z.optional(z.boolean()),
  error: z.optional(str),
  msg: z.optional(str),
  message: z.optional(str),
  detail: z.optional(str),
});
