// A bounded, steady HTTP client for the labs: one GET through the proxy per new connection, then one JSON line of results.
// It stops at the request count, the seconds, or once the stop file (optional) exists.
//   node steady-client.js <proxy host> <proxy port> <url> <max requests> <seconds> <pause ms> [stop file]
"use strict";
const fs = require("fs");
const http = require("http");

const [host, port, url, maxRequests, seconds, pauseMs, stopFile] = process.argv.slice(2);
const started = Date.now();
const deadline = started + Number(seconds) * 1000;
const failures = [];
let requests = 0;
let lastSuccessMs = null;
let slowestMs = 0;

function one() {
  return new Promise((resolve) => {
    const req = http.request(
      { host, port: Number(port), path: url, agent: false, timeout: 2000, headers: { Connection: "close" } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode === 200));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(false));
    req.end();
  });
}

(async () => {
  while (requests < Number(maxRequests) && Date.now() < deadline && !(stopFile && fs.existsSync(stopFile))) {
    const at = Date.now() - started;
    requests++;
    const ok = await one();
    slowestMs = Math.max(slowestMs, Date.now() - started - at);
    if (ok) lastSuccessMs = at;
    else failures.push(at);
    await new Promise((resolve) => setTimeout(resolve, Number(pauseMs)));
  }
  console.log(
    JSON.stringify({
      requests,
      failed: failures.length,
      firstFailureMs: failures.length ? failures[0] : null,
      lastFailureMs: failures.length ? failures[failures.length - 1] : null,
      lastSuccessMs,
      seconds: (Date.now() - started) / 1000,
      startedAt: started,
      slowestMs,
      failuresMs: failures.slice(0, 20),
    }),
  );
})();
