// Per-lease ed25519 key pairs made in-process with node:crypto and written in OpenSSH's own
// formats (the "ssh-ed25519" public line and the unencrypted "openssh-key-v1" private key).
import { generateKeyPairSync, randomBytes } from "node:crypto";

export interface SshKeyPair {
  /** One line, "ssh-ed25519 <base64> <comment>": the only part that leaves the machine. */
  publicKey: string;
  /** PEM-armoured openssh-key-v1, unencrypted: it lives in a 0600 file in a 0700 directory. */
  privateKey: string;
}

const KEY_TYPE = "ssh-ed25519";
const PRIVATE_KEY_BLOCK_BYTES = 8; // cipher "none" pads the private section to 8 bytes
const PEM_LINE_CHARS = 70; // what ssh-keygen writes

export function generateSshKeyPair(comment: string): SshKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d ?? "", "base64url");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url");
  if (seed.length !== 32 || pub.length !== 32) throw new Error("node:crypto returned an ed25519 key of unexpected size");
  return { publicKey: publicKeyLine(pub, comment), privateKey: privateKeyPem(seed, pub, comment) };
}

function publicKeyBlob(pub: Buffer): Buffer {
  return Buffer.concat([sshString(KEY_TYPE), sshString(pub)]);
}

function publicKeyLine(pub: Buffer, comment: string): string {
  return `${KEY_TYPE} ${publicKeyBlob(pub).toString("base64")} ${comment}`;
}

/** Layout from OpenSSH's PROTOCOL.key. */
function privateKeyPem(seed: Buffer, pub: Buffer, comment: string): string {
  const check = randomBytes(4);
  const section = Buffer.concat([
    check,
    check,
    sshString(KEY_TYPE),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])), // OpenSSH stores the 64-byte secret: seed then public key
    sshString(comment),
  ]);
  const padLength = (PRIVATE_KEY_BLOCK_BYTES - (section.length % PRIVATE_KEY_BLOCK_BYTES)) % PRIVATE_KEY_BLOCK_BYTES;
  const padding = Buffer.from(Array.from({ length: padLength }, (_, index) => index + 1));
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    uint32(1),
    sshString(publicKeyBlob(pub)),
    sshString(Buffer.concat([section, padding])),
  ]);
  const lines = body.toString("base64").match(new RegExp(`.{1,${PEM_LINE_CHARS}}`, "g")) ?? [];
  return ["-----BEGIN OPENSSH PRIVATE KEY-----", ...lines, "-----END OPENSSH PRIVATE KEY-----", ""].join("\n");
}

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  return Buffer.concat([uint32(bytes.length), bytes]);
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

const LEASE_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"; // base32: 32 symbols, so bytes map evenly
export const LEASE_ID_LENGTH = 16;

/** A client-minted lease id (80 random bits): retrying a create with it joins instead of duplicating. */
export function mintLeaseId(): string {
  const bytes = randomBytes(LEASE_ID_LENGTH);
  let id = "";
  for (const byte of bytes) id += LEASE_ID_ALPHABET[byte % LEASE_ID_ALPHABET.length];
  return id;
}
