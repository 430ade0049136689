// A bounded HTTP load client for `npm run bench`, run inside a lab namespace:
//   node bench-http-client.js <host> <port> <url> <requests> <concurrency> <seconds>
// It sends GET <url> to host:port (a proxy when url is absolute and host is the proxy) over
// keep-alive connections, stops after <requests> requests or <seconds>, whichever comes first,
// and prints {"requests", "errors", "seconds", "rps", "p50Ms", "p99Ms"} as JSON.
"use strict";
const http = require("http");

const [host, port, url, requests, concurrency, seconds] = process.argv.slice(2);
const total = Number(requests);
const deadline = Date.now() + Number(seconds) * 1000;
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const latencies = [];
let sent = 0;
let errors = 0;
const started = process.hrtime.bigint();

function one() {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const req = http.request({ host, port: Number(port), path: url, agent, timeout: 5000 }, (res) => {
      res.resume();
      res.on("end", () => {
        if (res.statusCode === 200) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        else errors++;
        resolve();
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => {
      errors++;
      resolve();
    });
    req.end();
  });
}

async function worker() {
  while (sent < total && Date.now() < deadline) {
    sent++;
    await one();
  }
}

Promise.all(Array.from({ length: Number(concurrency) }, worker)).then(() => {
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] : null);
  agent.destroy();
  console.log(
    JSON.stringify({
      requests: latencies.length,
      errors,
      seconds: elapsed,
      rps: latencies.length / elapsed,
      p50Ms: pct(50),
      p99Ms: pct(99),
    }),
  );
});
