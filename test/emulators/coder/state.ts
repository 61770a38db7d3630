// The Coder emulator's in-memory deployment: one organization, templates, users (tokens), and
// workspaces whose builds progress pending → starting → running, stopping → stopped,
// deleting → deleted, with a linux agent connecting → connected and lifecycle starting → ready,
// whose SSH server is real (any key: the client's Coder token already let it in).
import { randomUUID } from "node:crypto";
import { generateEd25519 } from "../keys.ts";
import { startSshMachine, type SshMachine } from "../ssh-machine.ts";
import type { AddressPool } from "../loopback.ts";

export interface CoderConfig {
  /** How long each build takes; a start build's agent is ready `agentMs` after that. */
  buildMs: number;
  agentMs: number;
  /** The next start build fails with this job error (once). */
  failNextStart: string | null;
}

export const DEFAULT_CONFIG: CoderConfig = { buildMs: 0, agentMs: 0, failNextStart: null };
export const ORG = { id: "9c4f6b1e-2f0a-4d7b-9f51-0c1e2d3a4b5c", name: "default" };
export const TEMPLATE = { id: "c6d67e98-83ea-49f0-8812-e4abae2b68bc", name: "docker-dev", active_version_id: "0ba39c92-1f1b-4c32-aa3e-9925d7713eb1" };
/**
 * The template's active version declares these rich parameters (codersdk TemplateVersionParameter,
 * the fields a client reads). ASSUMPTION: the emulator's own example template, as a docker
 * template with a CPU choice and a free-text repository would declare them.
 */
export const TEMPLATE_PARAMETERS = [
  {
    name: "cpu",
    display_name: "CPU cores",
    description: "",
    type: "number",
    mutable: true,
    default_value: "2",
    required: false,
    ephemeral: false,
    options: [{ name: "2 cores", description: "", value: "2", icon: "" }, { name: "4 cores", description: "", value: "4", icon: "" }, { name: "8 cores", description: "", value: "8", icon: "" }],
    validation_regex: "",
    validation_error: "",
  },
  {
    name: "repo",
    display_name: "Repository",
    description: "git URL to clone",
    type: "string",
    mutable: false,
    default_value: "",
    required: false,
    ephemeral: false,
    options: [],
    validation_regex: "^(https://|git@)\\S+$",
    validation_error: "must be an https:// or git@ URL",
  },
];

/** The active version's presets, in codersdk.Preset's untagged (Go-named) JSON keys. */
export const TEMPLATE_PRESETS = [
  { ID: "5d0a8a4e-52d1-4c39-9d4e-0e2f7c1b9a01", Name: "large", Parameters: [{ PresetID: "5d0a8a4e-52d1-4c39-9d4e-0e2f7c1b9a01", Name: "cpu", Value: "8" }] },
];

/** The linux user the workspace's SSH server accepts (Coder logs in as the agent's user). */
export const WORKSPACE_USER = "coder";

export interface BuildRecord {
  id: string;
  transition: "start" | "stop" | "delete";
  status: string;
  jobStatus: string;
  error: string | null;
  startedAt: number;
  fails: boolean;
}

export interface WorkspaceRecord {
  id: string;
  name: string;
  owner: string;
  templateId: string;
  /** The rich parameter values the workspace was created with. */
  parameters: Record<string, string>;
  build: BuildRecord;
  agent: { status: string; lifecycle: string };
  address: string;
  /**
   * The agent's SSH host key, kept across stop/start: the real agent derives it from the
   * workspace ID (agent/agent.go seeds it with an FNV hash of the ID), so known_hosts holds.
   */
  hostKey: string;
  machine?: SshMachine;
  starting?: Promise<void>;
}

export type CoderState = ReturnType<typeof createCoderState>;

export function createCoderState(options: { config: CoderConfig; sshPort: number; addresses: AddressPool }) {
  const initial = { ...options.config };
  let config = { ...initial };
  let workspaces = new Map<string, WorkspaceRecord>();
  const now = () => Date.now();

  const newBuild = (transition: BuildRecord["transition"], fails = false): BuildRecord => ({
    id: randomUUID(), transition, status: "pending", jobStatus: "pending", error: null, startedAt: now(), fails,
  });

  async function stopMachine(ws: WorkspaceRecord): Promise<void> {
    await ws.starting;
    const machine = ws.machine;
    ws.machine = undefined;
    await machine?.close();
  }

  async function settle(): Promise<void> {
    for (const ws of [...workspaces.values()]) {
      const b = ws.build;
      const t = now() - b.startedAt;
      if (b.status === "pending" && t >= config.buildMs / 2) {
        b.status = { start: "starting", stop: "stopping", delete: "deleting" }[b.transition];
        b.jobStatus = "running";
      }
      if (["starting", "stopping", "deleting"].includes(b.status) && t >= config.buildMs) {
        b.jobStatus = b.fails ? "failed" : "succeeded";
        if (b.fails) {
          b.status = "failed";
          b.error = "terraform apply: emulated provisioner failure";
          continue;
        }
        b.status = { start: "running", stop: "stopped", delete: "deleted" }[b.transition];
        if (b.transition === "start") ws.agent = { status: "connecting", lifecycle: "starting" };
        else {
          ws.agent = { status: "disconnected", lifecycle: "off" };
          await stopMachine(ws);
        }
        if (b.transition === "delete") workspaces.delete(ws.id);
      }
      if (b.transition === "start" && b.status === "running" && ws.agent.lifecycle === "starting" && t >= config.buildMs + config.agentMs) {
        ws.starting ??= startSshMachine({ host: ws.address, port: options.sshPort, user: WORKSPACE_USER, authorizedKeys: "any", hostKey: ws.hostKey }).then((m) => {
          ws.starting = undefined;
          ws.machine = m;
        });
        await ws.starting;
        ws.agent = { status: "connected", lifecycle: "ready" };
      }
    }
  }

  return {
    get config() {
      return config;
    },
    setConfig(next: CoderConfig) {
      config = next;
    },
    settle,
    all: () => [...workspaces.values()],
    byId: (id: string) => workspaces.get(id),
    byName: (owner: string, name: string) => [...workspaces.values()].find((w) => w.owner === owner && w.name === name),

    create(owner: string, name: string, templateId: string, parameters: Record<string, string> = {}): WorkspaceRecord {
      const fails = config.failNextStart !== null;
      const build = newBuild("start", fails);
      if (fails) config = { ...config, failNextStart: null };
      const ws: WorkspaceRecord = { id: randomUUID(), name, owner, templateId, parameters, build, agent: { status: "connecting", lifecycle: "created" }, address: options.addresses.next(), hostKey: generateEd25519().private };
      workspaces.set(ws.id, ws);
      return ws;
    },

    /** A new build, unless one is still active (Coder answers 409 then). */
    build(ws: WorkspaceRecord, transition: BuildRecord["transition"]): BuildRecord | undefined {
      if (["pending", "starting", "stopping", "deleting"].includes(ws.build.status)) return undefined;
      ws.build = newBuild(transition);
      return ws.build;
    },

    async reset(): Promise<void> {
      const all = [...workspaces.values()];
      workspaces = new Map();
      config = { ...initial };
      await Promise.all(all.map(stopMachine));
    },
  };
}
