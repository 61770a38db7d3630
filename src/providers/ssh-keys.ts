// Ed25519 key pairs in OpenSSH format, made with WebCrypto inside the Worker: for a backend key a
// provider needs but no client may hold (the Sealos DevBox Secret's private key). The private
// half goes straight into the provider request and is never stored, logged or returned.

export interface OpenSshKeyPair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` block, unencrypted (openssh-key-v1, cipher none). */
  private: string;
  /** `ssh-ed25519 AAAA... comment` line. */
  public: string;
}

const KEY_TYPE = "ssh-ed25519";
const enc = new TextEncoder();

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function uint32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

const sshString = (data: Uint8Array | string) => {
  const bytes = typeof data === "string" ? enc.encode(data) : data;
  return concat([uint32(bytes.length), bytes]);
};

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

const fromBase64Url = (text: string) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

export async function generateOpenSshEd25519(comment = ""): Promise<OpenSshKeyPair> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as { privateKey: Parameters<typeof crypto.subtle.exportKey>[1] };
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as { x?: string; d?: string };
  const pub = fromBase64Url(jwk.x!);
  const seed = fromBase64Url(jwk.d!);
  const publicBlob = concat([sshString(KEY_TYPE), sshString(pub)]);
  const check = crypto.getRandomValues(new Uint8Array(4));
  const section = concat([check, check, sshString(KEY_TYPE), sshString(pub), sshString(concat([seed, pub])), sshString(comment)]);
  // The "none" cipher pads the private section to 8 bytes with 1, 2, 3, ...
  const padding = Uint8Array.from({ length: (8 - (section.length % 8)) % 8 }, (_, i) => i + 1);
  const body = base64(concat([enc.encode("openssh-key-v1\0"), sshString("none"), sshString("none"), sshString(""), uint32(1), sshString(publicBlob), sshString(concat([section, padding]))]));
  return {
    private: ["-----BEGIN OPENSSH PRIVATE KEY-----", ...(body.match(/.{1,70}/g) ?? []), "-----END OPENSSH PRIVATE KEY-----", ""].join("\n"),
    public: `${KEY_TYPE} ${base64(publicBlob)}${comment ? ` ${comment}` : ""}`,
  };
}

/** `type base64` of an OpenSSH public key line, without its comment: what SSH servers compare. */
export function keyMaterial(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(" ");
}
