// The Kubernetes shapes crabbox reads (apimachinery Status, ObjectMeta, lists, discovery,
// SelfSubjectRulesReview) and the Devbox custom resource, per
// ../shared/contracts/sealos/devbox.sealos.io_devboxes.v1alpha2.yaml. Only fields read are
// required; enums stay strings so an unknown value stays unknown instead of failing the parse.

import * as z from "zod/mini";

const str = z.string();
const opt = <T extends z.core.$ZodType>(t: T) => z.optional(z.nullable(t));
const labels = opt(z.record(str, str));

export const GROUP = "devbox.sealos.io";
export const VERSION = "v1alpha2";
export const API_VERSION = `${GROUP}/${VERSION}`;

export const Status = z.object({
  kind: z.literal("Status"),
  status: opt(str),
  message: opt(str),
  reason: opt(str),
  code: opt(z.number()),
  details: opt(
    z.object({
      name: opt(str),
      kind: opt(str),
      causes: opt(z.array(z.object({ reason: opt(str), message: opt(str), field: opt(str) }))),
      retryAfterSeconds: opt(z.number()),
    }),
  ),
});
export type Status = z.infer<typeof Status>;

export const ObjectMeta = z.object({
  name: str,
  namespace: opt(str),
  uid: str,
  resourceVersion: str,
  creationTimestamp: opt(str),
  deletionTimestamp: opt(str),
  labels,
  annotations: labels,
  ownerReferences: opt(z.array(z.object({ kind: str, name: str, uid: str, controller: opt(z.boolean()) }))),
  finalizers: opt(z.array(str)),
});

export const Devbox = z.object({
  metadata: ObjectMeta,
  spec: z.object({
    state: opt(str),
    config: opt(z.object({ user: opt(str) })),
    network: opt(z.object({ type: opt(str) })),
  }),
  status: opt(
    z.object({
      state: opt(str),
      phase: opt(str),
      network: opt(z.object({ type: opt(str), nodePort: opt(z.number()), uniqueID: opt(str) })),
    }),
  ),
});
export type Devbox = z.infer<typeof Devbox>;

export const List = z.object({ metadata: opt(z.object({ continue: opt(str) })), items: z.array(z.unknown()) });

/**
 * A list as metadata only (`Accept: application/json;as=PartialObjectMetadataList;...`, the
 * metadata API client-go's metadata client uses): listing Secrets must not bring their data, our
 * backend private keys, back to the Worker. A server that ignores the Accept answers the full
 * list; only `metadata` is kept either way.
 */
export const MetadataList = z.object({ metadata: opt(z.object({ continue: opt(str) })), items: z.array(z.object({ metadata: ObjectMeta })) });

export const Secret = z.object({ metadata: ObjectMeta, data: opt(z.record(str, str)) });
export type Secret = z.infer<typeof Secret>;

export const Version = z.object({ gitVersion: str });
export const ResourceList = z.object({ groupVersion: str, resources: z.array(z.object({ name: str, kind: str, namespaced: opt(z.boolean()), verbs: opt(z.array(str)) })) });

/** SelfSubjectRulesReview (authorization.k8s.io/v1): the rules this token holds in a namespace. */
export const RulesReview = z.object({
  status: z.object({
    resourceRules: opt(z.array(z.object({ verbs: z.array(str), apiGroups: opt(z.array(str)), resources: opt(z.array(str)), resourceNames: opt(z.array(str)) }))),
    incomplete: opt(z.boolean()),
  }),
});
export type RulesReview = z.infer<typeof RulesReview>;

/** The Secret keys the DevBox controller and SSHGate read (controller-and-api-facts.md). */
export const SECRET_KEYS = {
  publicKey: "SEALOS_DEVBOX_PUBLIC_KEY",
  privateKey: "SEALOS_DEVBOX_PRIVATE_KEY",
  authorizedKeys: "SEALOS_DEVBOX_AUTHORIZED_KEYS",
} as const;
