// Local files of a lease, by lease id: <config>/leases/<id>/ holds its key pair, its own
// known_hosts and the last Lease seen (lease.json). Removed once the lease is over.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Lease } from "../../src/contract/lease";
import { LEASE_ID_PATTERN } from "../../src/contract/common";
import { DIR_MODE, SECRET_FILE_MODE, ensurePrivateDir, writePrivateFile } from "./config";
import { generateSshKeyPair } from "./keys";

export interface LeasePaths {
  dir: string;
  privateKey: string;
  publicKey: string;
  knownHosts: string;
  record: string;
  /** What `crabbox run` last shipped to the machine (shipped.ts). */
  shipped: string;
}

export class LeaseStore {
  constructor(private readonly configDir: string) {}

  get root(): string {
    return join(this.configDir, "leases");
  }

  paths(id: string): LeasePaths {
    // Ids come from the server or our own minting; the check keeps a hostile answer out of other paths.
    if (!LEASE_ID_PATTERN.test(id)) throw new Error(`refusing to use ${JSON.stringify(id)} as a lease id`);
    const dir = join(this.root, id);
    return {
      dir,
      privateKey: join(dir, "id_ed25519"),
      publicKey: join(dir, "id_ed25519.pub"),
      knownHosts: join(dir, "known_hosts"),
      record: join(dir, "lease.json"),
      shipped: join(dir, "shipped.json"),
    };
  }

  /** Makes the lease's key pair and an empty known_hosts (ssh needs a real file); returns the public key. */
  createKeys(id: string): string {
    ensurePrivateDir(this.configDir);
    ensurePrivateDir(this.root);
    const paths = this.paths(id);
    mkdirSync(paths.dir, { mode: DIR_MODE });
    const pair = generateSshKeyPair(`crabbox-lease-${id}`);
    writePrivateFile(paths.privateKey, pair.privateKey);
    writeFileSync(paths.publicKey, `${pair.publicKey}\n`, { mode: 0o644 });
    writeFileSync(paths.knownHosts, "", { mode: SECRET_FILE_MODE });
    return pair.publicKey;
  }

  hasKeys(id: string): boolean {
    return existsSync(this.paths(id).privateKey);
  }

  hasHostKey(id: string): boolean {
    const knownHosts = this.paths(id).knownHosts;
    return existsSync(knownHosts) && statSync(knownHosts).size > 0;
  }

  saveRecord(lease: Lease): void {
    const paths = this.paths(lease.id);
    if (!existsSync(paths.dir)) return;
    writePrivateFile(paths.record, `${JSON.stringify(lease, null, 2)}\n`);
  }

  readRecord(id: string): Lease | undefined {
    const path = this.paths(id).record;
    if (!existsSync(path)) return undefined;
    return JSON.parse(readFileSync(path, "utf8")) as Lease;
  }

  /** Ids of every lease with a local directory. */
  ids(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root).filter((name) => LEASE_ID_PATTERN.test(name));
  }

  remove(id: string): boolean {
    const dir = this.paths(id).dir;
    if (!existsSync(dir)) return false;
    rmSync(dir, { recursive: true, force: true });
    return true;
  }
}
