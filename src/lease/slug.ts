// Short human names for leases ("brave-otter-k3f9"), derived from the lease id so that a
// retried create gets the same slug. The id suffix keeps collisions rare; lookups pick the newest.

const ADJECTIVES = ["amber", "brave", "calm", "deft", "eager", "fuzzy", "gentle", "hardy", "ivory", "jolly", "keen", "lucky", "mellow", "nimble", "olive", "plucky", "quiet", "rapid", "sunny", "tidy", "upbeat", "vivid", "witty", "zesty"];
const NOUNS = ["crab", "otter", "heron", "lynx", "moose", "newt", "orca", "panda", "quail", "raven", "seal", "tapir", "urchin", "vole", "walrus", "yak", "zebra", "bison", "coral", "dingo", "egret", "finch", "gecko", "ibis"];

export function slugFor(leaseId: string): string {
  let hash = 0;
  for (const ch of leaseId) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const adjective = ADJECTIVES[hash % ADJECTIVES.length]!;
  const noun = NOUNS[Math.floor(hash / ADJECTIVES.length) % NOUNS.length]!;
  return `${adjective}-${noun}-${leaseId.slice(-4)}`;
}
