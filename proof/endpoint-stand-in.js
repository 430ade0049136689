/**
 * A stand-in for an interface endpoint and the endpoint service's load balancer together: accepts the app's connections
 * on `--listen`, connects to Squid from `--source` (the load balancer's address) and first sends a PROXY protocol v2
 * header with the app's address and TLV 0xEA (subtype 0x01, then `--endpoint-id`), as AWS's endpoint and NLB do.
 * Usage: node proof/endpoint-stand-in.js --listen ADDR:PORT --proxy ADDR:PORT --source ADDR --endpoint-id vpce-...
 */
"use strict";
const net = require("net");

/** The 12 bytes that open every PROXY protocol v2 header. */
const SIGNATURE = Buffer.from("0d0a0d0a000d0a515549540a", "hex");
/** PP2_TYPE_AWS and its subtype PP2_SUBTYPE_AWS_VPCE_ID. */
const PP2_TYPE_AWS = 0xea;
const PP2_SUBTYPE_AWS_VPCE_ID = 0x01;

const ipv4Bytes = (address) => {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new Error(`${address} is not an IPv4 address`);
  return Buffer.from(parts);
};

/** The PROXY v2 header of a TCP over IPv4 connection (command PROXY), with the AWS endpoint TLV when `endpointId` is given. */
function proxyV2Header({ source, sourcePort, destination, destinationPort, endpointId }) {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sourcePort, 0);
  ports.writeUInt16BE(destinationPort, 2);
  const tlvs = [];
  if (endpointId !== undefined) {
    const value = Buffer.concat([Buffer.from([PP2_SUBTYPE_AWS_VPCE_ID]), Buffer.from(endpointId, "ascii")]);
    const head = Buffer.from([PP2_TYPE_AWS, 0, 0]);
    head.writeUInt16BE(value.length, 1);
    tlvs.push(head, value);
  }
  const body = Buffer.concat([ipv4Bytes(source), ipv4Bytes(destination), ports, ...tlvs]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length);
  // 0x21: version 2, command PROXY; 0x11: AF_INET, STREAM.
  return Buffer.concat([SIGNATURE, Buffer.from([0x21, 0x11]), length, body]);
}

const hostPort = (text, what) => {
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(text ?? "");
  if (!m) throw new Error(`${what} must be ADDRESS:PORT, got ${JSON.stringify(text)}`);
  return { host: m[1], port: Number(m[2]) };
};

/** Accepts on `listen`, relays each connection to `proxy` from `source` behind a PROXY v2 header; resolves once listening. */
function startStandIn({ listen, proxy, source, endpointId }) {
  const server = net.createServer((app) => {
    const upstream = net.connect({ host: proxy.host, port: proxy.port, localAddress: source });
    const header = proxyV2Header({
      source: app.remoteAddress.replace(/^::ffff:/, ""),
      sourcePort: app.remotePort,
      destination: listen.host,
      destinationPort: listen.port,
      endpointId,
    });
    upstream.write(header);
    app.pipe(upstream).pipe(app);
    const close = () => {
      app.destroy();
      upstream.destroy();
    };
    app.on("error", close);
    upstream.on("error", close);
  });
  return new Promise((resolve, reject) => server.once("error", reject).listen(listen.port, listen.host, () => resolve(server)));
}

module.exports = { proxyV2Header, startStandIn, SIGNATURE };

if (require.main === module) {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const endpointId = opt("--endpoint-id");
  if (!endpointId || !opt("--source")) {
    console.error("usage: node proof/endpoint-stand-in.js --listen ADDR:PORT --proxy ADDR:PORT --source ADDR --endpoint-id vpce-...");
    process.exit(2);
  }
  startStandIn({
    listen: hostPort(opt("--listen"), "--listen"),
    proxy: hostPort(opt("--proxy"), "--proxy"),
    source: opt("--source"),
    endpointId,
  })
    .then(() => console.log(`listening on ${opt("--listen")} for endpoint ${endpointId}`))
    .catch((e) => {
      console.error(e.message);
      process.exit(1);
    });
}
