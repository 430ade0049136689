/**
 * The capacity bench's parts that need no root: the narrowed port ranges, the lab's environment, and the load
 * client itself against small stand-ins on loopback (a client that miscounts would make every figure wrong).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { capacityEnvironment, NARROW_PORTS, narrowRange, SINK_PORT } from "../proof/capacity-lab";
import { PROXY_PORT_RANGE } from "../lib/proxy-kernel";
import { verificationRaw } from "./helpers/stack";

const CLIENT = path.join(__dirname, "..", "proof", "capacity-client.js");

/** Runs the load client to its end; its JSON line. */
function runClient(args: readonly (string | number)[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLIENT, ...args.map(String)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`client exited ${code}: ${err}`))));
  });
}

/** Listens on a free loopback port; resolves with the port and a close function. */
function listen(server: net.Server): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>(
            (done) => (server.close(() => done()), (server as { closeAllConnections?: () => void }).closeAllConnections?.()),
          ),
      }),
    ),
  );
}

/** A CONNECT stand-in: answers every CONNECT with `status` and keeps the connection open; counts what it saw. */
function connectProxy(status: number) {
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.once("data", (chunk) => {
      seen.push(chunk.toString("latin1").split("\r\n")[0]);
      socket.write(`HTTP/1.1 ${status} ${status === 200 ? "Connection established" : "Forbidden"}\r\n\r\n`);
    });
  });
  return { server, seen, sockets };
}

describe("the narrowed port ranges of the port budget", () => {
  const ranges = [0, 1, 2, 3, 4, 5].map(narrowRange);

  it("hold NARROW_PORTS ports each, apart from one another and below the project's range, so no earlier step left TIME_WAIT there", () => {
    for (const r of ranges) {
      expect(r.last - r.first + 1).toBe(NARROW_PORTS);
      expect(r.last).toBeLessThan(PROXY_PORT_RANGE.first);
      expect(r.first).toBeGreaterThan(3128);
    }
    for (let i = 1; i < ranges.length; i++) expect(ranges[i].first).toBe(ranges[i - 1].last + 1);
  });
});

describe("the capacity lab's environment", () => {
  it("adds the sink's port to the first service as a TLS port, so that Squid allows CONNECT to it, and leaves the file as it was", () => {
    const raw = verificationRaw();
    const before = JSON.stringify(raw);
    const env = capacityEnvironment(raw, "demos/verification.json");
    expect(env.services[0].ports).toContainEqual({ port: SINK_PORT, carries: "tls" });
    expect(JSON.stringify(raw)).toBe(before);
  });
});

describe("the capacity load client", () => {
  it("counts answered plain HTTP requests sent in proxy form, and counts other statuses as errors", async () => {
    const paths: string[] = [];
    let status = 200;
    const server = http.createServer((req, res) => {
      paths.push(req.url ?? "");
      res.writeHead(status, { "Content-Length": "2" }).end("ok");
    });
    const { port, close } = await listen(server);
    try {
      const ok = await runClient(["http", "127.0.0.1", port, "http://service.lab:80/", 2, 1]);
      expect(ok.errors).toBe(0);
      expect(ok.requests).toBeGreaterThan(0);
      expect(paths.length).toBeGreaterThanOrEqual(ok.requests as number);
      expect(new Set(paths)).toEqual(new Set(["http://service.lab:80/"]));
      status = 503;
      const refused = await runClient(["http", "127.0.0.1", port, "http://service.lab:80/", 1, 1, "close"]);
      expect(refused.requests).toBe(0);
      expect(refused.errors).toBeGreaterThan(0);
    } finally {
      await close();
    }
  });

  it("holds every tunnel the proxy answers with 200 and reports them still open at the end", async () => {
    const proxy = connectProxy(200);
    const { port, close } = await listen(proxy.server);
    const ready = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "capacity-")), "ready");
    try {
      const r = await runClient(["hold", "127.0.0.1", port, "172.16.0.10:9443", 50, 1000, 1, ready]);
      expect(r).toMatchObject({ opened: 50, failed: 0, lost: 0, stillOpen: 50 });
      expect(fs.readFileSync(ready, "utf8")).toBe("50 0\n");
      expect(new Set(proxy.seen)).toEqual(new Set(["CONNECT 172.16.0.10:9443 HTTP/1.1"]));
    } finally {
      await close();
    }
  });

  it("counts a tunnel the proxy refuses as a failure, and the successes before the first one", async () => {
    const proxy = connectProxy(403);
    const { port, close } = await listen(proxy.server);
    try {
      const r = await runClient(["churn", "127.0.0.1", port, "172.16.0.10:9443", 50, 1, 100]);
      expect(r.ok).toBe(0);
      expect(r.failed).toBeGreaterThan(0);
      expect(r.okAtFirstFailure).toBe(0);
      expect(r.errors).toEqual({ "status 403": r.failed });
    } finally {
      await close();
    }
  });

  it("counts every churned tunnel the proxy answers with 200 as a success", async () => {
    const proxy = connectProxy(200);
    const { port, close } = await listen(proxy.server);
    try {
      const r = await runClient(["churn", "127.0.0.1", port, "172.16.0.10:9443", 50, 1, 100]);
      expect(r.failed).toBe(0);
      expect(r.ok).toBeGreaterThan(0);
      expect(r.okAtFirstFailure).toBeNull();
      expect(proxy.seen.length).toBeGreaterThanOrEqual(r.ok as number);
    } finally {
      await close();
    }
  });
});
