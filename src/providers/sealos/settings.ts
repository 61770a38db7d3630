// Sealos settings read from Worker vars and secrets: SEALOS_API_SERVER + secret SEALOS_TOKEN, or
// secret SEALOS_KUBECONFIG (server, token and namespace of its current context), SEALOS_NAMESPACE,
// SEALOS_IMAGE, SEALOS_CPU, SEALOS_MEMORY, SEALOS_NETWORK_TYPE, SEALOS_SSH_HOST,
// SEALOS_SSHGATE_PORT, SEALOS_USER. Reading never throws: problems become doctor checks.

import { readCents } from "../price";
import type { ProviderConfig } from "../types";

export type NetworkType = "SSHGate" | "NodePort";

export interface SealosSettings {
  deploymentId: string;
  apiServer: string;
  token: string;
  namespace: string;
  image: string;
  /** `spec.resource` quantities (Kubernetes quantities: "2", "2000m", "4Gi"). */
  cpu: string;
  memory: string;
  network: NetworkType;
  /** SSHGate: the region's SSH domain; NodePort: a node's host name or address. */
  sshHost: string;
  sshGatePort: number;
  /** `spec.config.user`, the DevBox's login user. */
  user: string;
  /** SEALOS_PRICE_CENTS_PER_HOUR: what one DevBox costs (the Kubernetes API reports no price). */
  priceCentsPerHour?: number;
  problems: string[];
}

const DEFAULT_SSHGATE_PORT = 2233;
const QUANTITY = /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function readSettings(config: ProviderConfig): SealosSettings {
  const vars = config.vars;
  const text = (name: string) => vars[name]?.trim() || undefined;
  const problems: string[] = [];
  const kube = text("SEALOS_KUBECONFIG") ? readKubeconfig(text("SEALOS_KUBECONFIG")!, problems) : {};
  const apiServer = text("SEALOS_API_SERVER") ?? kube.server ?? "";
  const token = text("SEALOS_TOKEN") ?? kube.token ?? "";
  const namespace = text("SEALOS_NAMESPACE") ?? kube.namespace ?? "";
  if (!apiServer) problems.push("SEALOS_API_SERVER is not set (nor a server in SEALOS_KUBECONFIG)");
  if (!token && !kube.unsupportedAuth) problems.push("SEALOS_TOKEN is not set (nor a token in SEALOS_KUBECONFIG)");
  if (!namespace) problems.push("SEALOS_NAMESPACE is not set (nor a namespace in SEALOS_KUBECONFIG's context)");
  else if (!NAMESPACE.test(namespace)) problems.push("SEALOS_NAMESPACE is not a Kubernetes namespace name");
  const image = text("SEALOS_IMAGE") ?? "";
  if (!image) problems.push("SEALOS_IMAGE is not set (the DevBox runtime image)");
  const cpu = text("SEALOS_CPU") ?? "2";
  const memory = text("SEALOS_MEMORY") ?? "4Gi";
  for (const [name, value] of [["SEALOS_CPU", cpu], ["SEALOS_MEMORY", memory]]) if (!QUANTITY.test(value!)) problems.push(`${name} is not a Kubernetes quantity`);
  const network = text("SEALOS_NETWORK_TYPE") ?? "SSHGate";
  if (network !== "SSHGate" && network !== "NodePort") problems.push("SEALOS_NETWORK_TYPE must be SSHGate or NodePort");
  const sshHost = text("SEALOS_SSH_HOST") ?? "";
  if (!sshHost) problems.push("SEALOS_SSH_HOST is not set (the region's SSH domain, or a node host for NodePort)");
  const port = Number(text("SEALOS_SSHGATE_PORT") ?? DEFAULT_SSHGATE_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push("SEALOS_SSHGATE_PORT must be a port number");
  if (kube.unsupportedAuth) problems.push(kube.unsupportedAuth);
  return {
    deploymentId: config.deploymentId,
    apiServer,
    token,
    namespace,
    image,
    cpu,
    memory,
    network: network === "NodePort" ? "NodePort" : "SSHGate",
    sshHost,
    sshGatePort: port,
    user: text("SEALOS_USER") ?? "devbox",
    priceCentsPerHour: readCents(vars, "SEALOS_PRICE_CENTS_PER_HOUR", problems),
    problems,
  };
}

interface Kubeconfig {
  server?: string;
  token?: string;
  namespace?: string;
  /** Why the kubeconfig's user cannot authenticate from a Worker (certificates, exec plugins). */
  unsupportedAuth?: string;
}

/**
 * The current context's server, token and namespace from a kubeconfig in JSON
 * (`kubectl config view --raw --minify -o json`). YAML is refused with that hint: a YAML parser
 * would not fit the Worker's bundle budget.
 */
export function readKubeconfig(text: string, problems: string[]): Kubeconfig {
  let doc: KubeconfigDoc;
  try {
    doc = JSON.parse(text) as KubeconfigDoc;
  } catch {
    problems.push("SEALOS_KUBECONFIG must be JSON: store `kubectl --kubeconfig <file> config view --raw --minify -o json`");
    return {};
  }
  const named = <T>(list: { name?: string }[] | undefined, name: string | undefined, key: string) => (list?.find((e) => e.name === name) as Record<string, T> | undefined)?.[key];
  const contextName = doc["current-context"] ?? doc.contexts?.[0]?.name;
  const context = named<{ cluster?: string; user?: string; namespace?: string }>(doc.contexts, contextName, "context");
  const cluster = named<{ server?: string }>(doc.clusters, context?.cluster, "cluster");
  const user = named<{ token?: string; "client-certificate-data"?: string; exec?: unknown; "auth-provider"?: unknown }>(doc.users, context?.user, "user");
  const out: Kubeconfig = { server: cluster?.server, token: user?.token, namespace: context?.namespace };
  if (!user?.token && (user?.["client-certificate-data"] || user?.exec || user?.["auth-provider"])) {
    out.unsupportedAuth = "SEALOS_KUBECONFIG's user authenticates with a client certificate or an exec/auth plugin: only bearer-token auth works from a Worker (use a service account token)";
  }
  return out;
}

interface KubeconfigDoc {
  "current-context"?: string;
  contexts?: { name?: string; context?: unknown }[];
  clusters?: { name?: string; cluster?: unknown }[];
  users?: { name?: string; user?: unknown }[];
}
