// ed25519 key pairs in OpenSSH format (host keys, and Lambda's "generate a key pair" answer),
// made with node:crypto. Not ssh2's utils.generateKeyPairSync("ed25519"): in ssh2 1.17 about 1
// key in 250 comes out malformed (a 31-byte public key) and then fails to parse.
import { generateKeyPairSync, randomBytes } from "node:crypto";

export interface OpenSshKeyPair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` block, unencrypted. */
  private: string;
  /** `ssh-ed25519 AAAA... comment` line. */
  public: string;
}

const KEY_TYPE = "ssh-ed25519";
const BASE64_LINE_CHARS = 70;
const CIPHER_BLOCK_BYTES = 8; // "none" cipher: the private section pads to 8 bytes

function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

export function generateEd25519(comment = ""): OpenSshKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
  const publicBlob = Buffer.concat([sshString(KEY_TYPE), sshString(pub)]);
  const check = randomBytes(4);
  let section = Buffer.concat([
    check,
    check,
    sshString(KEY_TYPE),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const padding = (CIPHER_BLOCK_BYTES - (section.length % CIPHER_BLOCK_BYTES)) % CIPHER_BLOCK_BYTES;
  section = Buffer.concat([section, Buffer.from(Array.from({ length: padding }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    uint32(1),
    sshString(publicBlob),
    sshString(section),
  ]).toString("base64");
  const lines = body.match(new RegExp(`.{1,${BASE64_LINE_CHARS}}`, "g")) ?? [];
  return {
    private: ["-----BEGIN OPENSSH PRIVATE KEY-----", ...lines, "-----END OPENSSH PRIVATE KEY-----", ""].join("\n"),
    public: `${KEY_TYPE} ${publicBlob.toString("base64")}${comment ? ` ${comment}` : ""}`,
  };
}
