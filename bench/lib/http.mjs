// Minimal keep-alive JSON client for the bench: node:http with one pooled socket per concurrent
// caller, so client overhead stays small and identical for the floor and the measured route.
import http from "node:http";
import { performance } from "node:perf_hooks";

const REQUEST_TIMEOUT_MS = 60_000;

export function createClient(baseUrl, { maxSockets = 128 } = {}) {
  const base = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets });

  /** One request; resolves {status, json, ms} and never rejects on HTTP errors. */
  function request(method, path, { token, body } = {}) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const req = http.request(
        { host: base.hostname, port: base.port, method, path, headers, agent, timeout: REQUEST_TIMEOUT_MS },
        (res) => {
          const chunks = [];
          res.on("data", (chunk) => chunks.push(chunk));
          res.on("end", () => {
            const ms = performance.now() - started;
            const text = Buffer.concat(chunks).toString("utf8");
            let json;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined; // not JSON (e.g. "Ran scheduled event"): callers read `text`
            }
            resolve({ status: res.statusCode, json, text, ms });
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** Like request, but throws unless the status is one of `ok`. */
  async function expect(ok, method, path, options) {
    const res = await request(method, path, options);
    if (!ok.includes(res.status)) throw new Error(`${method} ${path} answered ${res.status}: ${res.text.slice(0, 300)}`);
    return res;
  }

  return { request, expect, close: () => agent.destroy() };
}
