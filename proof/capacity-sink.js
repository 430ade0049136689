// The capacity lab's stand-in service for tunnels: accepts TCP connections on <address> <port> and holds each until
// its peer closes, then closes its own side (so the proxy, which closes first, keeps the TIME_WAIT).
//   node capacity-sink.js <address> <port>
"use strict";
const net = require("net");

const [address, port] = process.argv.slice(2);
const server = net.createServer((socket) => {
  socket.on("error", () => socket.destroy());
  socket.on("end", () => socket.end());
  socket.resume();
});
server.maxConnections = 200000;
server.listen({ host: address, port: Number(port), backlog: 4096 }, () => console.log("listening"));
