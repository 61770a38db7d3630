// A stand-in for `coder ssh --stdio <owner>/<workspace>`, the one command crabbox's ProxyCommand
// runs: it checks the caller's Coder token against the emulator (as the real CLI's connection is
// authorised by it), then pipes stdin/stdout to that workspace's SSH server. Like the real CLI
// it reads CODER_URL and CODER_SESSION_TOKEN from the environment.
import net from "node:net";

const fail = (message) => {
  process.stderr.write(`coder (stand-in): ${message}\n`);
  process.exit(1);
};

const args = process.argv.slice(2);
if (args[0] !== "ssh" || !args.includes("--stdio")) fail("only `coder ssh --stdio [--wait yes] <owner>/<workspace>` is emulated");
const target = args.filter((a, i) => i > 0 && !a.startsWith("--") && args[i - 1] !== "--wait").at(-1);
const [owner, name] = (target ?? "").split("/");
if (!owner || !name) fail("usage: coder ssh --stdio <owner>/<workspace>");
const url = process.env.CODER_URL;
const token = process.env.CODER_SESSION_TOKEN;
if (!url || !token) fail("not logged in: set CODER_URL and CODER_SESSION_TOKEN (or `coder login`)");

const res = await fetch(`${url}/api/v2/users/${encodeURIComponent(owner)}/workspace/${encodeURIComponent(name)}`, { headers: { "coder-session-token": token } });
if (res.status === 401) fail("your Coder token was rejected");
if (!res.ok) fail(`workspace ${owner}/${name} not found (or not yours)`);
const workspace = await res.json();
const route = await fetch(`${url}/_emulator/workspaces/${workspace.id}/ssh`);
if (!route.ok) fail(`workspace ${owner}/${name} has no connected agent`);
const { host, port } = await route.json();
const socket = net.connect({ host, port });
socket.on("error", (err) => fail(err.message));
process.stdin.pipe(socket);
socket.pipe(process.stdout);
socket.on("close", () => process.exit(0));
