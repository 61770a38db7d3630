// The in-process ed25519 key pair in OpenSSH formats: ssh-keygen reads every padding length back
// to the same public key, and lease ids have the documented shape.
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LEASE_ID_PATTERN } from "../../../src/contract/common";
import { SshPublicKey } from "../../../src/contract/lease";
import { generateSshKeyPair, mintLeaseId } from "../../../cli/core/keys";
import { tempDir } from "./helpers/run-cli";

const dir = tempDir("crabbox-keys-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("generateSshKeyPair", () => {
  // Comment lengths 0..8 walk the private section through every padding length (block size 8).
  for (let length = 0; length <= 8; length++) {
    it(`is accepted by ssh-keygen -y (comment of ${length} chars)`, () => {
      const comment = "c".repeat(length);
      const pair = generateSshKeyPair(comment);
      const file = join(dir, `key${length}`);
      writeFileSync(file, pair.privateKey, { mode: 0o600 });
      const derived = execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }).trim();
      expect(derived.split(" ").slice(0, 2)).toEqual(pair.publicKey.split(" ").slice(0, 2));
      expect(derived.split(" ")[2] ?? "").toBe(comment);
    });
  }

  it("makes a public key line the API's schema accepts, and a fresh key each time", () => {
    const first = generateSshKeyPair("crabbox-lease-abc");
    expect(SshPublicKey.safeParse(first.publicKey).success).toBe(true);
    expect(generateSshKeyPair("crabbox-lease-abc").publicKey).not.toBe(first.publicKey);
    expect(first.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END OPENSSH PRIVATE KEY-----\n$/);
  });
});

describe("mintLeaseId", () => {
  it("mints 16 lowercase base32 characters that match the API's id pattern", () => {
    const ids = new Set(Array.from({ length: 200 }, mintLeaseId));
    expect(ids.size).toBe(200);
    for (const id of ids) {
      expect(id).toMatch(/^[a-z2-7]{16}$/);
      expect(LEASE_ID_PATTERN.test(id)).toBe(true);
    }
  });
});
