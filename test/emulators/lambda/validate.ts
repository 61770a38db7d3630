// Request-body validation for the Lambda emulator, strict on purpose: field names, types and
// limits from InstanceLaunchRequest / AddSSHKeyRequest / InstanceTerminateRequest in
// openapi-1.10.0.json (region names from 1.8.3's PublicRegionCode). Unknown fields are refused,
// so an adapter that sends a field the API does not define (e.g. `quantity`) fails a test.
import ssh2 from "ssh2";
import { REGIONS } from "./catalog.ts";

const { utils } = ssh2;

export interface Tag {
  key: string;
  value: string;
}

export interface LaunchRequest {
  region_name: string;
  instance_type_name: string;
  ssh_key_names: string[];
  file_system_names?: string[];
  file_system_mounts?: { mount_point: string; file_system_id: string }[];
  hostname?: string;
  name?: string;
  image?: { id: string } | { family: string };
  user_data?: string;
  tags?: Tag[];
  firewall_rulesets?: { id: string }[];
}

/** Thrown by the checks below; the route answers 400 global/invalid-parameters with it. */
export class InvalidParameters extends Error {
  override readonly name = "InvalidParameters";
}

const USER_DATA_MAX_BYTES = 1024 * 1024;
const TAG_KEY = /^[a-z][a-z0-9-:]+$/;
const HOSTNAME = /^[a-z0-9][0-9a-z-]{0,62}$/;
const MOUNT_POINT = /^(\/home|\/lambda\/nfs|\/data)[//a-zA-Z0-9-]*$/;

type Json = Record<string, unknown>;

function object(value: unknown, where: string, allowed: readonly string[]): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidParameters(`${where} must be an object`);
  }
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new InvalidParameters(`Unknown field(s) in ${where}: ${unknown.join(", ")}`);
  return value as Json;
}

function string(value: unknown, where: string, limits: { min?: number; max?: number; pattern?: RegExp } = {}) {
  if (typeof value !== "string") throw new InvalidParameters(`${where} must be a string`);
  if (limits.min !== undefined && value.length < limits.min) throw new InvalidParameters(`${where} is too short`);
  if (limits.max !== undefined && value.length > limits.max) {
    throw new InvalidParameters(`${where} must be ${limits.max} characters or fewer`);
  }
  if (limits.pattern && !limits.pattern.test(value)) throw new InvalidParameters(`${where} has an invalid format`);
  return value;
}

function array<T>(value: unknown, where: string, item: (v: unknown, where: string) => T): T[] {
  if (!Array.isArray(value)) throw new InvalidParameters(`${where} must be an array`);
  return value.map((v, i) => item(v, `${where}[${i}]`));
}

const LAUNCH_FIELDS = [
  "region_name", "instance_type_name", "ssh_key_names", "file_system_names", "file_system_mounts",
  "hostname", "name", "image", "user_data", "tags", "firewall_rulesets",
] as const;

export function parseLaunch(body: unknown): LaunchRequest {
  const b = object(body, "request body", LAUNCH_FIELDS);
  for (const field of ["region_name", "instance_type_name", "ssh_key_names"]) {
    if (b[field] === undefined) throw new InvalidParameters(`Missing required field: ${field}`);
  }
  const region = string(b.region_name, "region_name");
  if (!(region in REGIONS)) throw new InvalidParameters(`Invalid region_name: ${region}`);
  const keys = array(b.ssh_key_names, "ssh_key_names", (v, w) => string(v, w));
  if (keys.length !== 1) throw new InvalidParameters("Exactly one SSH key must be specified in ssh_key_names");
  const req: LaunchRequest = {
    region_name: region,
    instance_type_name: string(b.instance_type_name, "instance_type_name", { min: 1 }),
    ssh_key_names: keys,
  };
  if (b.file_system_names !== undefined) {
    req.file_system_names = array(b.file_system_names, "file_system_names", (v, w) => string(v, w));
  }
  if (b.file_system_mounts !== undefined) {
    req.file_system_mounts = array(b.file_system_mounts, "file_system_mounts", (v, w) => {
      const m = object(v, w, ["mount_point", "file_system_id"]);
      return {
        mount_point: string(m.mount_point, `${w}.mount_point`, { max: 256, pattern: MOUNT_POINT }),
        file_system_id: string(m.file_system_id, `${w}.file_system_id`),
      };
    });
  }
  if (b.hostname !== undefined) req.hostname = string(b.hostname, "hostname", { min: 1, max: 63, pattern: HOSTNAME });
  if (b.name !== undefined) req.name = string(b.name, "name", { max: 64 });
  if (b.image !== undefined) req.image = parseImage(b.image);
  if (b.user_data !== undefined) {
    req.user_data = string(b.user_data, "user_data");
    if (Buffer.byteLength(req.user_data) > USER_DATA_MAX_BYTES) throw new InvalidParameters("user_data exceeds 1MB");
  }
  if (b.tags !== undefined) req.tags = parseTags(b.tags);
  if (b.firewall_rulesets !== undefined) {
    req.firewall_rulesets = array(b.firewall_rulesets, "firewall_rulesets", (v, w) => ({
      id: string(object(v, w, ["id"]).id, `${w}.id`),
    }));
  }
  return req;
}

function parseImage(value: unknown): { id: string } | { family: string } {
  const image = object(value, "image", ["id", "family"]);
  if ((image.id === undefined) === (image.family === undefined)) {
    throw new InvalidParameters("image must specify exactly one of id or family");
  }
  return image.id !== undefined ? { id: string(image.id, "image.id") } : { family: string(image.family, "image.family") };
}

function parseTags(value: unknown): Tag[] {
  const tags = array(value, "tags", (v, w) => {
    const t = object(v, w, ["key", "value"]);
    return {
      key: string(t.key, `${w}.key`, { max: 55, pattern: TAG_KEY }),
      value: string(t.value, `${w}.value`, { max: 128 }),
    };
  });
  if (new Set(tags.map((t) => t.key)).size !== tags.length) throw new InvalidParameters("Duplicate tag keys");
  return tags;
}

export function parseTerminate(body: unknown): string[] {
  const b = object(body, "request body", ["instance_ids"]);
  if (b.instance_ids === undefined) throw new InvalidParameters("Missing required field: instance_ids");
  const ids = array(b.instance_ids, "instance_ids", (v, w) => string(v, w));
  if (ids.length === 0) throw new InvalidParameters("instance_ids must not be empty");
  return ids;
}

export function parseRename(body: unknown): { name?: string } {
  const b = object(body, "request body", ["name"]);
  return b.name === undefined ? {} : { name: string(b.name, "name", { max: 64 }) };
}

/** `{name, public_key?}`; the public key must be one OpenSSH public key line. */
export function parseAddSshKey(body: unknown): { name: string; public_key?: string } {
  const b = object(body, "request body", ["name", "public_key"]);
  if (b.name === undefined) throw new InvalidParameters("Missing required field: name");
  const name = string(b.name, "name", { min: 1, max: 64 });
  if (b.public_key === undefined) return { name };
  const publicKey = string(b.public_key, "public_key", { min: 1, max: 4096 }).trim();
  const parsed = utils.parseKey(publicKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error || key.isPrivateKey()) throw new InvalidParameters("Invalid public key");
  return { name, public_key: publicKey };
}
