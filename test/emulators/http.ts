// Serve an emulator's hono app on 127.0.0.1 with @hono/node-server, and stop it for good:
// close() drops open connections too, so held (`timeout` fault) requests never pin a test run.
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve, type Http2Bindings, type HttpBindings } from "@hono/node-server";

export interface ServedApp {
  port: number;
  close(): Promise<void>;
}

export const LOOPBACK = "127.0.0.1";

export interface FetchApp {
  fetch(request: Request, env: HttpBindings | Http2Bindings): Response | Promise<Response>;
}

export function serveApp(app: FetchApp, port = 0): Promise<ServedApp> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: LOOPBACK }, (info: AddressInfo) => {
      server.off("error", reject);
      let closing: Promise<void> | undefined;
      resolve({
        port: info.port,
        close() {
          closing ??= new Promise<void>((done) => {
            (server as Server).close(() => done());
            (server as Server).closeAllConnections();
          });
          return closing;
        },
      });
    }) as Server;
    server.once("error", reject);
  });
}
