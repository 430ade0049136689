/** The PrivateLink lab's parts that need no root: the endpoint stand-in's PROXY v2 header and relay on loopback, and the lab's copy of the demo. */
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { parseEnvironment } from "../lib/config";
import { privateLinkLabEnv } from "../proof/privatelink-lab";
const { proxyV2Header, startStandIn, SIGNATURE } = require("../proof/endpoint-stand-in.js");

describe("the endpoint stand-in's PROXY protocol v2 header", () => {
  it("writes the signature, version 2 PROXY over TCP/IPv4, both addresses and ports, then TLV 0xEA with subtype 01 and the id", () => {
    const header: Buffer = proxyV2Header({
      source: "192.168.0.4",
      sourcePort: 40000,
      destination: "192.168.0.5",
      destinationPort: 3128,
      endpointId: "vpce-0abc",
    });
    expect(header.subarray(0, 12).toString("hex")).toBe("0d0a0d0a000d0a515549540a");
    expect(header.subarray(0, 12).equals(SIGNATURE)).toBe(true);
    expect([header[12], header[13]]).toEqual([0x21, 0x11]);
    expect(header.readUInt16BE(14)).toBe(header.length - 16);
    expect([...header.subarray(16, 20)]).toEqual([192, 168, 0, 4]);
    expect([...header.subarray(20, 24)]).toEqual([192, 168, 0, 5]);
    expect([header.readUInt16BE(24), header.readUInt16BE(26)]).toEqual([40000, 3128]);
    expect(header[28]).toBe(0xea);
    expect(header.readUInt16BE(29)).toBe(1 + "vpce-0abc".length);
    expect(header[31]).toBe(0x01);
    expect(header.subarray(32).toString("ascii")).toBe("vpce-0abc");
  });

  it("has no TLV without an endpoint id, and refuses an address that is not IPv4", () => {
    const bare: Buffer = proxyV2Header({ source: "10.0.0.1", sourcePort: 1, destination: "10.0.0.2", destinationPort: 2 });
    expect(bare.length).toBe(16 + 12);
    expect(() => proxyV2Header({ source: "::1", sourcePort: 1, destination: "10.0.0.2", destinationPort: 2 })).toThrow(
      /not an IPv4 address/,
    );
  });
});

describe("the endpoint stand-in on loopback", () => {
  it("sends the header with the app's address before the app's bytes, and relays the answer back", async () => {
    let received = Buffer.alloc(0);
    const proxy = net.createServer((socket) => {
      socket.on("data", (d) => {
        received = Buffer.concat([received, d]);
        if (received.includes("ping")) socket.end("pong");
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", () => resolve()));
    const proxyPort = (proxy.address() as net.AddressInfo).port;
    const standIn: net.Server = await startStandIn({
      listen: { host: "127.0.0.1", port: 0 },
      proxy: { host: "127.0.0.1", port: proxyPort },
      source: "127.0.0.1",
      endpointId: "vpce-0123",
    });
    const listenPort = (standIn.address() as net.AddressInfo).port;
    try {
      const answer = await new Promise<{ text: string; localPort: number }>((resolve, reject) => {
        const app = net.connect({ host: "127.0.0.1", port: listenPort, localAddress: "127.0.0.2" }, () => app.write("ping"));
        let text = "";
        app.on("data", (d) => (text += d));
        app.on("end", () => resolve({ text, localPort: app.localPort! }));
        app.on("error", reject);
        setTimeout(() => reject(new Error("no answer within 5 s")), 5000).unref();
      });
      expect(answer.text).toBe("pong");
      expect(received.subarray(0, 12).equals(SIGNATURE)).toBe(true);
      expect([...received.subarray(16, 20)]).toEqual([127, 0, 0, 2]);
      expect(received.readUInt16BE(24)).toBe(answer.localPort);
      expect(received.subarray(32, 41).toString("ascii")).toBe("vpce-0123");
      expect(received.subarray(received.length - 4).toString()).toBe("ping");
    } finally {
      standIn.close();
      proxy.close();
    }
  });
});

describe("the lab's copy of the privatelink demo", () => {
  it("adds a service on the first service's block that only the first app VPC may use, and stays a valid environment", () => {
    const raw = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "demos", "privatelink.json"), "utf8"));
    const copy = privateLinkLabEnv(raw, 8080);
    const env = parseEnvironment(copy, "privatelink (the lab's copy)");
    expect(env.services.at(-1)).toMatchObject({ name: "only-first", cidr: "172.16.0.0/24", from: ["app1"] });
    expect(env.appVpcs.map((a) => a.cidr)).toEqual(["192.168.0.0/24", "192.168.0.0/24"]);
    expect(() => privateLinkLabEnv({ ...raw, appVpcs: raw.appVpcs.slice(0, 1) }, 8080)).toThrow(/needs two app VPCs/);
  });
});
