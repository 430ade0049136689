// The capacity bench's load client, run inside a lab namespace; prints one JSON line with its own CPU time.
//   node capacity-client.js http <proxy> <port> <url> <connections> <seconds> [close]
//     GETs through the proxy on <connections> keep-alive connections (or, with "close", a new connection per request).
//   node capacity-client.js hold <proxy> <port> <target host:port> <count> <per second> <seconds> <ready file>
//     opens <count> CONNECT tunnels (at most <per second> new a second), touches <ready file> when all have answered,
//     holds them until <seconds> have passed, then counts those still open.
//   node capacity-client.js churn <proxy> <port> <target host:port> <per second> <seconds> <max open>
//     opens <per second> CONNECT tunnels a second (open loop), each closed by the client once the proxy answers 200.
// Raw sockets and a tiny response parser keep the client's CPU low beside the proxy's; every run is bounded in time.
"use strict";
const fs = require("fs");
const net = require("net");

const [mode, proxyHost, proxyPort, ...rest] = process.argv.slice(2);
const port = Number(proxyPort);
const cpuStart = process.cpuUsage();
const started = process.hrtime.bigint();
const elapsedSeconds = () => Number(process.hrtime.bigint() - started) / 1e9;
const TIMEOUT_MS = 5000;

/** The p-th percentile of sorted values, in milliseconds, or null for none. */
function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : null;
}

function report(fields, latencies) {
  latencies.sort((a, b) => a - b);
  const cpu = process.cpuUsage(cpuStart);
  const seconds = elapsedSeconds();
  console.log(
    JSON.stringify({
      ...fields,
      seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    }),
  );
  process.exit(0);
}

/** One HTTP response's end in `buffer` (headers and Content-Length body), or -1 while incomplete; status in `out`. */
function responseEnd(buffer, out) {
  const head = buffer.indexOf("\r\n\r\n");
  if (head < 0) return -1;
  const headers = buffer.toString("latin1", 0, head);
  const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headers)?.[1] ?? 0);
  if (buffer.length < head + 4 + length) return -1;
  out.status = Number(headers.slice(9, 12));
  out.close = /\r\nconnection:\s*close/i.test(headers);
  return head + 4 + length;
}

/** Plain HTTP through the proxy: keep-alive connections, or a new one per request. */
function http([url, connections, seconds, close]) {
  const deadline = Date.now() + Number(seconds) * 1000;
  const host = url.startsWith("/") ? `${proxyHost}:${port}` : new URL(url).host;
  const request = Buffer.from(`GET ${url} HTTP/1.1\r\nHost: ${host}\r\n${close ? "Connection: close\r\n" : ""}\r\n`);
  const latencies = [];
  let errors = 0;
  let running = Number(connections);
  const finish = () =>
    --running === 0 && report({ requests: latencies.length, errors, rps: latencies.length / elapsedSeconds() }, latencies);
  function connection() {
    if (Date.now() >= deadline) return finish();
    const socket = net.connect(port, proxyHost);
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0);
    let t0 = process.hrtime.bigint();
    let failed = false;
    const fail = () => {
      if (failed) return;
      failed = true;
      errors++;
      socket.destroy();
      setTimeout(connection, 10);
    };
    socket.setTimeout(TIMEOUT_MS, fail);
    socket.on("error", fail);
    socket.on("close", () => !failed && close === undefined && fail());
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk) => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      const out = {};
      const end = responseEnd(buffer, out);
      if (end < 0) return;
      if (out.status === 200) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      else errors++;
      buffer = buffer.subarray(end);
      if (close || out.close) {
        failed = true;
        socket.destroy();
        return connection();
      }
      if (Date.now() >= deadline) {
        failed = true;
        socket.destroy();
        return finish();
      }
      t0 = process.hrtime.bigint();
      socket.write(request);
    });
  }
  for (let i = 0; i < Number(connections); i++) connection();
}

/** Opens one CONNECT tunnel; calls back with (error, socket, milliseconds to the proxy's 200). */
function tunnel(target, done) {
  const t0 = process.hrtime.bigint();
  const socket = net.connect(port, proxyHost);
  let answered = false;
  let buffer = "";
  const fail = (why) => {
    if (answered) return;
    answered = true;
    socket.destroy();
    done(why);
  };
  socket.setTimeout(TIMEOUT_MS, () => fail("timeout"));
  socket.on("error", (e) => fail(e.code || "error"));
  socket.on("close", () => fail("closed"));
  socket.on("connect", () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
  socket.on("data", (chunk) => {
    if (answered) return;
    buffer += chunk.toString("latin1");
    if (!buffer.includes("\r\n\r\n")) return;
    if (!/^HTTP\/1\.[01] 200/.test(buffer)) return fail(`status ${buffer.slice(9, 12)}`);
    answered = true;
    socket.setTimeout(0);
    done(null, socket, Number(process.hrtime.bigint() - t0) / 1e6);
  });
}

/** Opens `count` tunnels at a bounded rate and holds them; reports how many opened and how many were still open at the end. */
function hold([target, count, perSecond, seconds, readyFile]) {
  const total = Number(count);
  const latencies = [];
  const open = new Set();
  const errors = {};
  let failed = 0;
  let started = 0;
  let answered = 0;
  let lost = 0;
  const answer = () => {
    if (++answered === total) fs.writeFileSync(readyFile, `${latencies.length} ${failed}\n`);
  };
  const timer = setInterval(() => {
    for (let i = 0; i < Number(perSecond) / 100 && started < total; i++) {
      started++;
      tunnel(target, (error, socket, ms) => {
        if (error) {
          failed++;
          errors[error] = (errors[error] ?? 0) + 1;
        } else {
          latencies.push(ms);
          open.add(socket);
          socket.on("close", () => open.delete(socket) && lost++);
          socket.on("error", () => undefined);
        }
        answer();
      });
    }
    if (started >= total) clearInterval(timer);
  }, 10);
  setTimeout(
    () => {
      clearInterval(timer);
      const stillOpen = open.size;
      for (const s of open) s.destroy();
      report({ opened: latencies.length, failed, errors, lost, stillOpen }, latencies);
    },
    Number(seconds) * 1000,
  );
}

/** Opens tunnels at a fixed rate, each closed by the client after the 200; counts successes and failures per second. */
function churn([target, perSecond, seconds, maxOpen]) {
  const latencies = [];
  const okPerSecond = [];
  const failedPerSecond = [];
  const errors = {};
  let inFlight = 0;
  let firstFailureSeconds = null;
  let okAtFirstFailure = null;
  let due = 0;
  const begin = Date.now();
  const timer = setInterval(() => {
    due = Math.floor(((Date.now() - begin) / 1000) * Number(perSecond)) - (latencies.length + failedTotal() + inFlight);
    for (let i = 0; i < due && inFlight < Number(maxOpen); i++) {
      inFlight++;
      const second = Math.floor((Date.now() - begin) / 1000);
      tunnel(target, (error, socket, ms) => {
        inFlight--;
        if (error) {
          failedPerSecond[second] = (failedPerSecond[second] ?? 0) + 1;
          errors[error] = (errors[error] ?? 0) + 1;
          firstFailureSeconds ??= (Date.now() - begin) / 1000;
          okAtFirstFailure ??= latencies.length;
        } else {
          latencies.push(ms);
          okPerSecond[second] = (okPerSecond[second] ?? 0) + 1;
          socket.destroy();
        }
      });
    }
  }, 5);
  const failedTotal = () => failedPerSecond.reduce((n, x) => n + (x ?? 0), 0);
  setTimeout(
    () => {
      clearInterval(timer);
      const fill = (a) => Array.from({ length: Math.ceil(Number(seconds)) }, (_, i) => a[i] ?? 0);
      setTimeout(
        () =>
          report(
            {
              ok: latencies.length,
              failed: failedTotal(),
              errors,
              firstFailureSeconds,
              okAtFirstFailure,
              okPerSecond: fill(okPerSecond),
              failedPerSecond: fill(failedPerSecond),
            },
            latencies,
          ),
        Math.min(TIMEOUT_MS, 1000),
      );
    },
    Number(seconds) * 1000,
  );
}

const modes = { http, hold, churn };
if (!modes[mode]) {
  console.error(`capacity-client: unknown mode ${mode}; use http, hold or churn`);
  process.exit(2);
}
modes[mode](rest);
