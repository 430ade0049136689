// One CONNECT tunnel held open through the proxy: TLS to the service over it, then a GET on the same connection every
// pause (HTTP keep-alive) until the stop file exists or the seconds pass. Prints one JSON line of results.
//   node tunnel-client.js <proxy host> <proxy port> <service host> <service TLS port> <seconds> <pause ms> <stop file>
"use strict";
const fs = require("fs");
const net = require("net");
const tls = require("tls");

const [proxyHost, proxyPort, host, port, seconds, pauseMs, stopFile] = process.argv.slice(2);
const started = Date.now();
const deadline = started + Number(seconds) * 1000;
const responses = [];
let closedAtMs = null;
let error = null;

/** Resolves with the bytes of one HTTP response read from `socket` (headers, then Content-Length bytes of body). */
function readResponse(socket) {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = Number(/content-length:\s*(\d+)/i.exec(buffer.subarray(0, end).toString())?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      done();
      resolve({ status: Number(buffer.subarray(9, 12).toString()), bytes: buffer.length });
    };
    const onClose = () => (done(), reject(new Error("the tunnel closed")));
    const done = () => (socket.off("data", onData), socket.off("close", onClose));
    socket.on("data", onData);
    socket.on("close", onClose);
  });
}

/** Opens the tunnel: CONNECT, the proxy's 200, then TLS to the service (its certificate is made for the lab). */
async function openTunnel() {
  const raw = net.connect(Number(proxyPort), proxyHost);
  raw.setTimeout(5000, () => raw.destroy(new Error("no answer within 5 s")));
  await new Promise((resolve, reject) => (raw.once("connect", resolve), raw.once("error", reject)));
  raw.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
  const answer = await new Promise((resolve, reject) => {
    let text = "";
    const onData = (d) => {
      text += d.toString("latin1");
      if (!text.includes("\r\n\r\n")) return;
      raw.off("data", onData);
      resolve(text);
    };
    raw.on("data", onData);
    raw.once("error", reject);
  });
  if (!/^HTTP\/1\.[01] 200/.test(answer)) throw new Error(`CONNECT answered ${answer.split("\r\n")[0]}`);
  raw.setTimeout(0);
  const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
  await new Promise((resolve, reject) => (secure.once("secureConnect", resolve), secure.once("error", reject)));
  secure.on("close", () => (closedAtMs = Date.now() - started));
  return secure;
}

(async () => {
  try {
    const socket = await openTunnel();
    while (Date.now() < deadline && !fs.existsSync(stopFile)) {
      socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      const r = await readResponse(socket);
      responses.push({ atMs: Date.now() - started, status: r.status, bytes: r.bytes });
      await new Promise((resolve) => setTimeout(resolve, Number(pauseMs)));
    }
    socket.destroy();
  } catch (e) {
    error = e.message;
  }
  console.log(JSON.stringify({ startedAt: started, responses, closedAtMs: error ? closedAtMs : null, error }));
})();
