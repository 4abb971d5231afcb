// Istio's tcp-echo-server (samples/tcp-echo/src/main.go), for Istio's samples/tcp-echo manifests:
// `tcp-echo-server PORT[,PORT…] PREFIX` listens on every port ($HOST, default all addresses) and
// answers each line a client sends with `PREFIX <line>`; a last line without a newline is not
// answered, as upstream. Plain TCP: what a TCP service of the mesh looks like to its sidecars.
import { createServer, type Socket } from "node:net";

const [portList = "9000", prefix = "hello"] = process.argv.slice(2);
const host = process.env.HOST ?? "0.0.0.0";

function echo(socket: Socket): void {
  let pending = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf("\n")) !== -1) {
      socket.write(`${prefix} ${pending.slice(0, nl + 1)}`);
      pending = pending.slice(nl + 1);
    }
  });
  socket.on("end", () => socket.end());
  socket.on("error", () => socket.destroy());
}

for (const p of portList.split(",")) {
  const port = Number(p.trim());
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write(`tcp-echo-server: "${p}" is not a port\n`);
    process.exit(2);
  }
  createServer(echo).listen(port, host, () => process.stdout.write(`listening on ${host}:${port}\n`));
}
