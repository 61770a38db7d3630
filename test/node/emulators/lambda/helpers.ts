// Shared helpers for the Lambda emulator tests: a fast emulator (no boot, no throttle), a tiny
// API client speaking Bearer auth, and the launch/wait steps most tests repeat.
import { startLambdaEmulator, type LambdaEmulator, type LambdaEmulatorOptions } from "../../../emulators/lambda/index.ts";

export const API_KEY = "secret_node-test-lambda-key";
const POLL_MS = 20;

export function startFastEmulator(options: Partial<LambdaEmulatorOptions> = {}): Promise<LambdaEmulator> {
  return startLambdaEmulator({ apiKey: API_KEY, bootMs: 0, terminateMs: 0, launchIntervalMs: 0, ...options });
}

export interface ApiAnswer {
  status: number;
  /** Parsed JSON, or the raw text when the answer is not JSON. */
  body: any;
  headers: Headers;
}

export interface ApiClient {
  call(method: string, path: string, body?: unknown, init?: RequestInit): Promise<ApiAnswer>;
  get(path: string): Promise<ApiAnswer>;
  post(path: string, body: unknown): Promise<ApiAnswer>;
}

export function apiClient(emulator: LambdaEmulator, authorization = `Bearer ${API_KEY}`): ApiClient {
  const call = async (method: string, path: string, body?: unknown, init: RequestInit = {}) => {
    const headers: Record<string, string> = { authorization };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(emulator.apiBase + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      ...init,
    });
    const text = await res.text();
    let parsed: unknown = text;
    if (res.headers.get("content-type")?.includes("application/json")) parsed = JSON.parse(text);
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return { call, get: (path) => call("GET", path), post: (path, body) => call("POST", path, body) };
}

export async function addKey(api: ApiClient, name: string, publicKey: string): Promise<string> {
  const res = await api.post("/ssh-keys", { name, public_key: publicKey });
  if (res.status !== 200) throw new Error(`add key: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.id;
}

export const LAUNCH_DEFAULTS = { region_name: "us-east-1", instance_type_name: "gpu_1x_a10" };

export async function launch(api: ApiClient, keyName: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await api.post("/instance-operations/launch", { ...LAUNCH_DEFAULTS, ssh_key_names: [keyName], ...extra });
  if (res.status !== 200) throw new Error(`launch: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.instance_ids[0];
}

/** Poll GET /instances/{id} until it reports `status` (or 404 for "gone"). */
export async function waitFor(api: ApiClient, id: string, status: string, timeoutMs = 5000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.get(`/instances/${id}`);
    if (status === "gone" ? res.status === 404 : res.body?.data?.status === status) return res.body?.data;
    if (Date.now() > deadline) throw new Error(`instance ${id} never reached ${status}: ${JSON.stringify(res.body)}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
