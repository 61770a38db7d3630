// Loopback addressing for emulated machines: one shared SSH port per emulator, held by a
// reservation listener, and a distinct 127.x.y.z address per machine (all of 127/8 is loopback
// on Linux), so a machine that is not running answers "connection refused" like a real host.
import net from "node:net";

export interface PortReservation {
  port: number;
  release(): Promise<void>;
}

const RESERVE_ATTEMPTS = 5;

function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off("error", onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A wildcard probe: the kernel only hands out a port no address is using. */
async function probeFreePort(): Promise<number> {
  const probe = net.createServer();
  const port = await listen(probe, "0.0.0.0", 0);
  await closeServer(probe);
  return port;
}

/**
 * Reserve `port` (0 = pick a free one) by listening on `host`, an address no machine uses
 * (e.g. 127.10.0.1). While held, another emulator's wildcard probe cannot be handed the same
 * port, so two emulators on one machine never collide on 127.10.0.N:port.
 */
export async function reservePort(host: string, port = 0): Promise<PortReservation> {
  let lastError: unknown;
  for (let attempt = 0; attempt < RESERVE_ATTEMPTS; attempt++) {
    const candidate = port === 0 ? await probeFreePort() : port;
    // Nothing should connect to the reservation; refuse politely if something does.
    const holder = net.createServer((socket) => socket.destroy());
    try {
      const bound = await listen(holder, host, candidate);
      return { port: bound, release: () => closeServer(holder) };
    } catch (err) {
      lastError = err;
      // An explicit port that is taken will stay taken: fail at once with the cause.
      if (port !== 0) break;
    }
  }
  throw new Error(`cannot reserve port ${port || "(any)"} on ${host}: ${String(lastError)}`);
}

export interface AddressPool {
  /** The next unused machine address, e.g. 127.10.0.2, 127.10.0.3, ... */
  next(): string;
}

const HOSTS_PER_OCTET = 253; // .2 through .254: .0 is the network, .1 the reservation, .255 broadcast

/** Addresses `${prefix}.a.b` handed out in order; never reused while the pool lives. */
export function addressPool(prefix: string): AddressPool {
  let issued = 0;
  return {
    next() {
      const third = Math.floor(issued / HOSTS_PER_OCTET) % 256;
      const fourth = 2 + (issued % HOSTS_PER_OCTET);
      issued++;
      return `${prefix}.${third}.${fourth}`;
    },
  };
}
