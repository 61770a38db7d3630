// Readiness probe: a machine is reachable only when its route answers with an SSH banner.
// Uses connect() from cloudflare:sockets, the same path a Worker has in production.

import { connect } from "cloudflare:sockets";

export const PROBE_TIMEOUT_MS = 3_000;

/** True when host:port sends an `SSH-2.0-` identification line within the timeout. */
export async function sshBannerAnswers(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  let socket: Socket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    socket = connect({ hostname: host, port });
    const read = (async () => {
      const reader = socket.readable.getReader();
      let text = "";
      while (text.length < 255 && !text.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      reader.releaseLock();
      return /^SSH-2\.0-/.test(text);
    })();
    return await Promise.race([read, timeout]);
  } catch {
    return false; // refused or unreachable: not ready yet, the next poll tries again
  } finally {
    clearTimeout(timer);
    socket?.close().catch(() => undefined);
  }
}
