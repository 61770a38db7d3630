// Generated ed25519 keys are valid OpenSSH keys every time (ssh2's own generator is not: see
// test/emulators/keys.ts), as both ssh2 and ssh-keygen read them.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import ssh2 from "ssh2";
import { describe, expect, it } from "vitest";
import { generateEd25519 } from "../../emulators/keys.ts";
import { scratchDir } from "./ssh-client.ts";

const KEYS_CHECKED = 2000;

describe("generateEd25519", () => {
  it(`produces ${KEYS_CHECKED} keys in a row that ssh2 parses, halves matching`, () => {
    for (let i = 0; i < KEYS_CHECKED; i++) {
      const pair = generateEd25519();
      const priv = ssh2.utils.parseKey(pair.private);
      const pub = ssh2.utils.parseKey(pair.public);
      if (priv instanceof Error || pub instanceof Error) throw new Error(`key ${i} does not parse:\n${pair.private}`);
      expect(priv.getPublicSSH().equals(pub.getPublicSSH())).toBe(true);
    }
  });

  it("writes a private key ssh-keygen derives the same public key from", async () => {
    const pair = generateEd25519("crabbox-host");
    const file = join(await scratchDir(), "key");
    await writeFile(file, pair.private, { mode: 0o600 });
    const { stdout } = await promisify(execFile)("ssh-keygen", ["-y", "-f", file]);
    expect(stdout.trim()).toBe(pair.public);
  });
});
