import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { picture, toDot, toMermaid, toSvg } from "../tools/diagram";
import { README_DIAGRAM, verificationDiagram } from "../tools/readme-diagram";
import { configFrom, EXAMPLES_DIR, fleetRaw, synthEnvironment, verificationRaw } from "./helpers/stack";

const APP = "verification-app-server";
const PROXY = "verification-proxy";
const SERVICE = "verification-service";
const stackOf = (raw: any) => JSON.parse(synthEnvironment(configFrom(raw)).json);

/** Every element and its attributes, parsed strictly enough to fail on malformed markup. */
function wellFormed(svg: string): void {
  const stack: string[] = [];
  const tags = svg.replace(/<!--[\s\S]*?-->/g, "").replace(/<\?[\s\S]*?\?>/g, "").replace(/<!DOCTYPE[^>]*>/, "").match(/<[^>]+>/g) ?? [];
  for (const tag of tags) {
    if (tag.startsWith("</")) {
      const name = tag.slice(2, -1).trim();
      if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element`);
    } else if (!tag.endsWith("/>")) stack.push(/^<([\w:-]+)/.exec(tag)![1]);
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(", ")}`);
}

/** The visible texts of an SVG. */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1].replace(/&#45;/g, "-").replace(/&gt;/g, ">"));

describe("the picture of a stack", () => {
  const expected = [
    { from: APP, to: PROXY, port: 3128, allowed: true },
    { from: APP, to: SERVICE, port: 80, allowed: false },
  ];

  it("draws every VPC with its block and subnets, the peerings, the proxy's address and each allowed flow's port", async () => {
    const svg = await toSvg(toDot("verification", picture(stackOf(verificationRaw()), expected)));
    wellFormed(svg);
    const shown = texts(svg);
    for (const block of ["192.168.0.0/24", "10.0.0.0/24", "172.16.0.0/24", "192.168.0.0/25", "10.0.0.0/25", "172.16.0.0/25"]) expect(shown).toContain(block);
    expect(shown.filter((t) => t === "peering")).toHaveLength(2);
    expect(shown).toContain("10.0.0.10");
    expect(shown).toEqual(expect.arrayContaining(["tcp 3128", "tcp 80", "tcp 8443", "80 denied (expected)"]));
  });

  it("draws the resolver endpoint across its subnets, and labels each flow with its protocol: DNS over TCP and UDP, a denied UDP flow", () => {
    const p = picture(stackOf(verificationRaw()), [...expected, { from: APP, to: SERVICE, port: 53, protocol: "udp", allowed: false }]);
    expect(p.servers.find((s) => s.label.startsWith("verification-proxy-resolver"))?.label).toBe("verification-proxy-resolver\nresolver endpoint in 10.0.0.128/28, 10.0.0.144/28");
    const resolverFlows = p.flows.filter((f) => f.kind === "allowed" && f.label.endsWith(" 53")).map((f) => f.label);
    expect(resolverFlows.sort()).toEqual(["tcp 53", "udp 53"]);
    expect(p.flows.filter((f) => f.kind === "denied").map((f) => f.label)).toEqual(["80 denied (expected)", "53/udp denied (expected)"]);
  });

  it("draws a flow whose route is gone as blocked, in its own style", () => {
    const raw = stackOf(verificationRaw());
    const route = Object.keys(raw.resource.aws_route).find((k) => k.includes("App-app_Peering_AccepterRoutes"))!;
    delete raw.resource.aws_route[route];
    const p = picture(raw, expected);
    expect(p.flows).toContainEqual(expect.objectContaining({ label: "3128 BLOCKED (expected allowed)", kind: "broken" }));
    expect(p.flows.some((f) => f.kind === "allowed" && f.label === "tcp 3128")).toBe(false);
    expect(toDot("x", p)).toMatch(/label="3128 BLOCKED \(expected allowed\)", color="#c62828"/);
  });

  it("draws a fleet behind its load balancer, and a production side with existing VPCs and gateways", () => {
    const fleet = picture(stackOf(fleetRaw()));
    const lb = fleet.servers.find((s) => s.label.includes("internal NLB"));
    expect(lb?.label).toContain("10.0.0.10, 10.0.0.138");
    expect(fleet.flows).toContainEqual(expect.objectContaining({ to: lb?.id, label: "tcp 3128" }));
    expect(fleet.flows).toContainEqual(expect.objectContaining({ from: lb?.id, label: "tcp 3128, client address kept" }));

    const production = picture(stackOf(JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, "production.json"), "utf8"))));
    expect(production.vpcs.map((v) => v.label)).toEqual(expect.arrayContaining(["existing vpc-0123456789abcdef0\n192.168.0.0/24", "existing vpc-0fedcba9876543210\n192.168.10.0/24"]));
    expect(production.links.map((l) => l.label)).toEqual(expect.arrayContaining(["peering", "peering (account 111122223333)", "attached", "associated"]));
    expect(production.gateways.map((g) => g.label.split("\n")[0])).toEqual(["virtual private gateway", "Direct Connect gateway"]);
  });

  it("draws a Transit Gateway as a hub with an attachment per VPC, the NAT gateway in its subnet, and what the service sees", () => {
    const tgw = picture(stackOf(JSON.parse(fs.readFileSync(path.join(__dirname, "..", "demos", "transit-gateway.json"), "utf8"))));
    expect(tgw.gateways.map((g) => g.label)).toEqual(["Transit Gateway\ntransit-gateway-hub\n2 route tables, defaults off"]);
    expect(tgw.links.filter((l) => l.to === tgw.gateways[0].id).map((l) => l.label).sort()).toEqual(["attachment", "attachment", "attachment (appliance mode)"]);
    const nat = tgw.servers.find((s) => s.label.includes("private NAT gateway"));
    expect(tgw.vpcs.flatMap((v) => v.subnets).find((s) => s.id === nat?.parent)?.label).toBe("ap-northeast-1a\n10.0.0.0/25");
    expect(tgw.flows.filter((f) => f.kind === "allowed").map((f) => f.label)).toEqual(expect.arrayContaining(["tcp 80 via NAT (seen as 10.0.0.0/25)"]));
    expect(tgw.flows.filter((f) => f.kind === "allowed").every((f) => f.label.includes("via NAT"))).toBe(true);
  });

  it("writes a Mermaid text with the same VPCs and flows", () => {
    const text = toMermaid(picture(stackOf(verificationRaw()), expected));
    expect(text.startsWith("flowchart LR\n")).toBe(true);
    expect(text).toContain('"verification-proxy<br/>10.0.0.0/24"');
    expect(text).toMatch(/-->\|"tcp 3128"\|/);
    expect(text).toMatch(/-\.->\|"80 denied \(expected\)"\|/);
  });

  it("renders with a real renderer (rsvg-convert) to a PNG that is not empty", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-"));
    const svgFile = path.join(dir, "stack.svg");
    fs.writeFileSync(svgFile, await toSvg(toDot("verification", picture(stackOf(verificationRaw()), expected))));
    const r = spawnSync("rsvg-convert", ["-o", path.join(dir, "stack.png"), svgFile], { encoding: "utf8" });
    if (r.error) throw new Error(`rsvg-convert could not run (${r.error.message}); install it with apt-get install librsvg2-bin`);
    expect(r.status).toBe(0);
    const png = fs.readFileSync(path.join(dir, "stack.png"));
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    expect(width).toBeGreaterThan(300);
    expect(height).toBeGreaterThan(150);
    // Not an empty image: a blank canvas of the same size compresses to a small fraction of it.
    const blank = path.join(dir, "blank.svg");
    fs.writeFileSync(blank, `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="white"/></svg>`);
    expect(spawnSync("rsvg-convert", ["-o", path.join(dir, "blank.png"), blank]).status).toBe(0);
    expect(png.length).toBeGreaterThan(5 * fs.statSync(path.join(dir, "blank.png")).size);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("is what the README shows (run `npm run docs` after changing the verification environment)", async () => {
    expect(fs.readFileSync(README_DIAGRAM, "utf8")).toBe(await verificationDiagram());
  });
});
