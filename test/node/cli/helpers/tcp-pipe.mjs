// A stand-in ProxyCommand (like `coder ssh --stdio`): joins stdin/stdout to a TCP connection.
import { connect } from "node:net";

const [host, port] = process.argv.slice(2);
const socket = connect(Number(port), host);
process.stdin.pipe(socket);
socket.pipe(process.stdout);
socket.on("close", () => process.exit(0));
socket.on("error", (error) => {
  process.stderr.write(`tcp-pipe: ${error.message}\n`);
  process.exit(1);
});
