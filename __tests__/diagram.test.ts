import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FONT, picture, toDot, toMermaid, toSvg } from "../tools/diagram";
import { expectedFlowsOf, surroundingsOf } from "../proof/reachability";
import { README_DIAGRAM, verificationDiagram } from "../tools/readme-diagram";
import { textProblems } from "./helpers/rendered-text";
import { configFrom, CONFIG_DIR, EXAMPLES_DIR, fleetRaw, synthEnvironment, verificationRaw } from "./helpers/stack";

const APP = "verification-app-server";
const PROXY = "verification-proxy";
const SERVICE = "verification-service";
const stackOf = (raw: any) => JSON.parse(synthEnvironment(configFrom(raw)).json);
const productionRaw = () => JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, "production.json"), "utf8"));
const crossAccountRaw = () => JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, "cross-account.json"), "utf8"));
const perAppRaw = () => JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, "per-app-services.json"), "utf8"));
const productionPicture = () => {
  const config = configFrom(productionRaw());
  return picture(stackOf(productionRaw()), expectedFlowsOf(config), surroundingsOf(config));
};
const transitGatewayRaw = () => JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, "transit-gateway.json"), "utf8"));

/** Every element and its attributes, parsed strictly enough to fail on malformed markup. */
function wellFormed(svg: string): void {
  const stack: string[] = [];
  const tags =
    svg
      .replace(/<!--[\s\S]*?-->/g, "")
      .replace(/<\?[\s\S]*?\?>/g, "")
      .replace(/<!DOCTYPE[^>]*>/, "")
      .match(/<[^>]+>/g) ?? [];
  for (const tag of tags) {
    if (tag.startsWith("</")) {
      const name = tag.slice(2, -1).trim();
      if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element`);
    } else if (!tag.endsWith("/>")) stack.push(/^<([\w:-]+)/.exec(tag)![1]);
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(", ")}`);
}

/** The visible texts of an SVG. */
const texts = (svg: string) =>
  [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1].replace(/&#45;/g, "-").replace(/&gt;/g, ">"));

describe("the picture of a stack", () => {
  const expected = [
    { from: APP, to: PROXY, port: 3128, allowed: true },
    { from: APP, to: SERVICE, port: 80, allowed: false },
  ];

  it("draws every VPC with its block and subnets, the peerings, the proxy's address and each allowed flow's port", async () => {
    const svg = await toSvg(toDot("verification", picture(stackOf(verificationRaw()), expected)));
    wellFormed(svg);
    const shown = texts(svg);
    for (const block of ["192.168.0.0/24", "10.0.0.0/24", "172.16.0.0/24", "192.168.0.0/25", "10.0.0.0/25", "172.16.0.0/25"])
      expect(shown).toContain(block);
    expect(shown.filter((t) => t === "peering")).toHaveLength(2);
    expect(shown).toContain("10.0.0.10");
    expect(shown).toEqual(expect.arrayContaining(["tcp 3128", "tcp 80, 8080, 8443", "80 denied (expected)"]));
  });

  it("draws one edge per pair of ends, with every port that takes it", () => {
    const p = picture(stackOf(verificationRaw()), [
      ...expected,
      { from: APP, to: SERVICE, port: 8443, allowed: false },
      { from: APP, to: SERVICE, port: 53, protocol: "udp", allowed: false },
    ]);
    const between = (from: string, to: string) =>
      p.flows.filter(
        (f) =>
          f.from === p.servers.find((s) => s.label.startsWith(`${from}\n`))?.id &&
          f.to === p.servers.find((s) => s.label.startsWith(`${to}\n`))?.id,
      );
    expect(between(PROXY, SERVICE).map((f) => f.label)).toEqual(["tcp 80, 8080, 8443"]);
    expect(between(APP, SERVICE).map((f) => f.label)).toEqual(["80, 8443, 53/udp denied (expected)"]);
  });

  it("draws the resolver endpoint in each of its subnets, and labels each flow with its protocol: DNS over TCP and UDP, a denied UDP flow", () => {
    const p = picture(stackOf(verificationRaw()), [...expected, { from: APP, to: PROXY, port: 53, protocol: "udp", allowed: false }]);
    const subnetOf = (id: string) =>
      p.vpcs.flatMap((v) => v.subnets).find((s) => s.id === p.servers.find((x) => x.id === id)?.parent)?.label;
    const resolver = p.servers.filter((s) => s.label.startsWith("verification-proxy-resolver"));
    expect(resolver.map((s) => s.label)).toEqual([
      "verification-proxy-resolver\nresolver endpoint",
      "verification-proxy-resolver\nresolver endpoint",
    ]);
    expect(resolver.map((s) => subnetOf(s.id)).sort()).toEqual(["ap-northeast-1a\n10.0.0.128/28", "ap-northeast-1c\n10.0.0.144/28"]);
    for (const s of resolver) expect(p.flows.filter((f) => f.from === s.id).map((f) => f.label)).toEqual(["tcp 53; udp 53"]);
    expect(
      p.flows
        .filter((f) => f.kind === "denied")
        .map((f) => f.label)
        .sort(),
    ).toEqual(["53/udp denied (expected)", "80 denied (expected)"]);
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

  it("draws a fleet and its load balancer in each of their subnets, the flows through the load balancer node of each zone", () => {
    const fleet = picture(stackOf(fleetRaw()));
    const subnets = new Map(fleet.vpcs.flatMap((v) => v.subnets).map((s) => [s.id, s.label.split("\n")[0]]));
    const lbs = fleet.servers.filter((s) => s.label.includes("internal NLB"));
    const groups = fleet.servers.filter((s) => s.label.endsWith("fleet (Auto Scaling group)"));
    expect(lbs.map((s) => [subnets.get(s.parent), s.label]).sort()).toEqual([
      ["ap-northeast-1a", "verification-proxy (internal NLB)\n10.0.0.10"],
      ["ap-northeast-1c", "verification-proxy (internal NLB)\n10.0.0.138"],
    ]);
    expect(groups.map((s) => subnets.get(s.parent)).sort()).toEqual(["ap-northeast-1a", "ap-northeast-1c"]);
    const app = fleet.servers.find((s) => s.label.startsWith(`${APP}\n`))!;
    for (const lb of lbs) {
      expect(fleet.flows).toContainEqual({ from: app.id, to: lb.id, label: "tcp 3128", kind: "allowed" });
      // Each load balancer node forwards to the fleet's instances in its own zone.
      const behind = fleet.flows.filter((f) => f.from === lb.id);
      expect(behind.map((f) => [f.label, subnets.get(groups.find((g) => g.id === f.to)!.parent)])).toEqual([
        ["tcp 3128\nclient address kept", subnets.get(lb.parent)],
      ]);
    }
  });

  it("draws the production shapes: existing VPCs by name and id with the user's servers, the gateways, and the services' network beyond Direct Connect by name", () => {
    const production = productionPicture();
    expect(production.vpcs.map((v) => v.label)).toEqual(
      expect.arrayContaining([
        "app\nexisting vpc-0123456789abcdef0\n192.168.0.0/24",
        "batch\nexisting vpc-0fedcba9876543210\n192.168.10.0/24",
      ]),
    );
    // The batch VPC's servers stand behind two route tables: one node all the same.
    expect(
      production.servers
        .filter((s) => s.label.endsWith("\nthe user's servers"))
        .map((s) => [production.vpcs.find((v) => v.id === s.parent)?.label.split("\n")[0], s.label]),
    ).toEqual([
      ["app", "production-app (192.168.0.0/24)\nthe user's servers"],
      ["batch", "production-batch (192.168.10.0/24)\nthe user's servers"],
    ]);
    expect(production.links.map((l) => l.label)).toEqual(
      expect.arrayContaining(["peering", "peering (account 111122223333)", "attached", "associated", "private virtual interface"]),
    );
    expect(production.gateways.map((g) => g.label.split("\n")[0])).toEqual(["virtual private gateway", "Direct Connect gateway"]);
    expect(production.networks.map((n) => n.label)).toEqual(["the provider's network (Direct Connect)\ndx-service (172.31.100.0/24)"]);
    const dx = production.gateways[1].id;
    expect(production.links).toContainEqual({
      from: dx,
      to: production.networks[0].id,
      label: "private virtual interface",
      kind: "gateway",
    });
    // Nothing of the proxy VPC is drawn outside a subnet.
    const proxyVpc = production.vpcs.find((v) => v.label.startsWith("production-proxy\n"))!;
    expect(production.servers.filter((s) => s.parent === proxyVpc.id)).toEqual([]);
    expect(production.servers.filter((s) => proxyVpc.subnets.some((n) => n.id === s.parent))).toHaveLength(6);
  });

  it("draws the production flows: app VPCs -> the load balancer -> the fleet -> the virtual private gateway -> the Direct Connect gateway -> the service, and the denied ones", () => {
    const p = productionPicture();
    const [vgw, dx] = p.gateways.map((g) => g.id);
    const network = p.networks[0].id;
    const ids = (test: (label: string) => boolean) => p.servers.filter((s) => test(s.label)).map((s) => s.id);
    const [app, batch] = [ids((l) => l.startsWith("production-app ")), ids((l) => l.startsWith("production-batch "))].map((x) => x[0]);
    const lbs = ids((l) => l.includes("internal NLB"));
    const fleet = ids((l) => l.endsWith("fleet (Auto Scaling group)"));
    const allowed = p.flows.filter((f) => f.kind === "allowed").map((f) => [f.from, f.to, f.label]);
    expect(allowed).toEqual(
      expect.arrayContaining([
        ...[app, batch].flatMap((from) => lbs.map((lb) => [from, lb, "tcp 3128"])),
        ...fleet.map((f) => [f, vgw, "tcp 443"]),
        [vgw, dx, "tcp 443"],
        [dx, network, "tcp 443"],
      ]),
    );
    expect(allowed).toHaveLength(4 + 2 + 2 + 2);
    const denied = p.flows.filter((f) => f.kind === "denied").map((f) => [f.from, f.to, f.label]);
    expect(denied).toEqual(
      expect.arrayContaining([
        [app, network, "443 denied (expected)"],
        [network, batch, "443 denied (expected)"],
        [network, fleet[0], "3128 denied (expected)"],
        [app, batch, "443 denied (expected)"],
      ]),
    );
    expect(p.flows.filter((f) => f.kind === "broken")).toEqual([]);
  });

  it("draws app -> service through the proxy as blocked when the proxy VPC's route to the gateway is gone", () => {
    const raw = productionRaw();
    const stack = stackOf(raw);
    for (const [key, route] of Object.entries<any>(stack.resource.aws_route))
      if (String(route.gateway_id).includes("aws_vpn_gateway.")) delete stack.resource.aws_route[key];
    const config = configFrom(raw);
    const p = picture(stack, expectedFlowsOf(config), surroundingsOf(config));
    const network = p.networks[0].id;
    expect(
      p.flows.filter((f) => f.kind === "broken").map((f) => [p.servers.find((s) => s.id === f.from)?.label.split("\n")[0], f.to, f.label]),
    ).toEqual([
      ["production-app (192.168.0.0/24)", network, "443 BLOCKED (expected allowed)"],
      ["production-batch (192.168.10.0/24)", network, "443 BLOCKED (expected allowed)"],
    ]);
    expect(p.flows.some((f) => f.kind === "allowed" && f.to === network)).toBe(false);
  });

  it("names the blocks beyond a gateway by the services they hold, and a block no service names by itself", () => {
    const raw = productionRaw();
    raw.services.push({ name: "dx-backup", cidr: "172.31.200.0/24", ports: [443] });
    const named = picture(stackOf(raw), [], { beyondGateway: [{ name: "dx-service (172.31.100.0/24)", cidr: "172.31.100.0/24" }] });
    expect(named.networks[0].label).toBe("the provider's network (Direct Connect)\ndx-service (172.31.100.0/24)\n172.31.200.0/24");
    raw.serviceSide = { type: "virtualPrivateGateway", routing: "propagation" };
    const propagated = picture(stackOf(raw), [], surroundingsOf(configFrom(raw)));
    expect(propagated.networks[0].label).toBe(
      "the provider's network (private virtual interface)\ndx-service (172.31.100.0/24)\ndx-backup (172.31.200.0/24)\nroutes learned over BGP",
    );
    expect(propagated.links).toContainEqual({
      from: propagated.gateways[0].id,
      to: propagated.networks[0].id,
      label: "private virtual interface",
      kind: "gateway",
    });
  });

  it("draws a Transit Gateway as a hub with an attachment per VPC, and flows through the hub and the NAT gateway in its subnet, with what the service sees", () => {
    const tgw = picture(stackOf(transitGatewayRaw()));
    const hub = tgw.gateways[0];
    expect(tgw.gateways.map((g) => g.label)).toEqual(["Transit Gateway\ntransit-gateway-hub\n2 route tables, defaults off"]);
    expect(
      tgw.links
        .filter((l) => l.to === hub.id)
        .map((l) => l.label)
        .sort(),
    ).toEqual(["attachment", "attachment", "attachment (appliance mode)"]);
    const nat = tgw.servers.find((s) => s.label.includes("private NAT gateway"))!;
    expect(tgw.vpcs.flatMap((v) => v.subnets).find((s) => s.id === nat.parent)?.label).toBe("ap-northeast-1a\n10.0.0.0/25");
    const service = tgw.servers.find((s) => s.label.startsWith("transit-gateway-service\n"))!;
    const apps = tgw.servers.filter((s) => /-app2?-server\n/.test(s.label));
    expect(apps).toHaveLength(2);
    const allowed = tgw.flows.filter((f) => f.kind === "allowed");
    expect(allowed).toEqual(
      expect.arrayContaining([
        ...apps.map((a) => ({ from: a.id, to: hub.id, label: "tcp 80, 8443", kind: "allowed" })),
        { from: hub.id, to: nat.id, label: "tcp 80, 8443", kind: "allowed" },
        { from: nat.id, to: service.id, label: "tcp 80, 8443\nseen as 10.0.0.0/25", kind: "allowed" },
      ]),
    );
    expect(allowed).toHaveLength(4);
    // Laid out as the flows go: the apps, the hub, then the proxy VPC that the hub hands them to.
    const proxyVpc = tgw.vpcs.find((v) => v.label.startsWith("transit-gateway-proxy\n"))!;
    expect(toDot("transit-gateway", tgw)).toContain(`${hub.id} -> ${proxyVpc.id} [label="attachment (appliance mode)"`);
  });

  it("notes at the proxy which app VPCs may use a service with from, and labels the flow only the allowlist refuses", () => {
    const config = configFrom(perAppRaw());
    const p = picture(stackOf(perAppRaw()), expectedFlowsOf(config), surroundingsOf(config));
    const proxy = p.servers.find((s) => s.label.startsWith("per-app-services-proxy\n"))!;
    expect(p.notes).toEqual([
      { id: `${proxy.id}_allowlist`, label: "the proxy's allowlist\npayments: only from orders", attachedTo: proxy.id },
    ]);
    const serversOf = (id: string) => [...p.servers, ...p.networks].find((s) => s.id === id)?.label.split("\n")[0];
    expect(p.flows.filter((f) => f.kind === "denied").map((f) => `${serversOf(f.from)} ${f.label}`)).toEqual([
      "per-app-services-reporting (192.168.30.0/24) 443 denied by the proxy's allowlist (expected)",
      "per-app-services-reporting (192.168.30.0/24) 443 denied (expected)",
      "per-app-services-orders (192.168.20.0/24) 443 denied (expected)",
      "the provider's network (Direct Connect) 3128 denied (expected)",
      "per-app-services-orders (192.168.20.0/24) 443 denied (expected)",
    ]);
    expect(toDot(config.name, p)).toContain(`${proxy.id}_allowlist [label="the proxy's allowlist\npayments: only from orders", shape=note`);
    expect(toMermaid(p)).toContain(
      `  ${proxy.id}_allowlist>"the proxy's allowlist<br/>payments: only from orders"]\n  ${proxy.id}_allowlist -.- ${proxy.id}\n`,
    );
    // Created app VPCs go by their Name; without from there is no note.
    const raw = verificationRaw();
    raw.appVpcs.push({
      ...raw.appVpcs[0],
      name: "app2",
      cidr: "192.168.1.0/24",
      subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "192.168.1.0/25" }],
    });
    raw.services[1].from = ["app2"];
    expect(picture(stackOf(raw)).notes.map((n) => n.label)).toEqual(["the proxy's allowlist\napi: only from verification-app2"]);
    expect(picture(stackOf(verificationRaw())).notes).toEqual([]);
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
    fs.writeFileSync(
      blank,
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="white"/></svg>`,
    );
    expect(spawnSync("rsvg-convert", ["-o", path.join(dir, "blank.png"), blank]).status).toBe(0);
    expect(png.length).toBeGreaterThan(5 * fs.statSync(path.join(dir, "blank.png")).size);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe("as a renderer draws it", () => {
    const svgOf = async (raw: any) => {
      const config = configFrom(raw);
      return toSvg(toDot(config.name, picture(stackOf(raw), expectedFlowsOf(config), surroundingsOf(config))));
    };

    beforeAll(() => {
      // Graphviz measured the texts with its table of this font; measuring them in another would judge another picture.
      const r = spawnSync("fc-match", [FONT], { encoding: "utf8" });
      if (r.error) throw new Error(`fc-match could not run (${r.error.message}); install fontconfig`);
      expect(r.stdout).toMatch(new RegExp(FONT));
    });

    it.each([
      ["verification", verificationRaw],
      ["verification-fleet", fleetRaw],
      ["transit-gateway", transitGatewayRaw],
      ["production", productionRaw],
      ["cross-account", crossAccountRaw],
      ["per-app-services", perAppRaw],
      ["privatelink", () => JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, "privatelink.json"), "utf8"))],
    ])(
      "keeps every text of %s inside its box, its cluster and the canvas, off every other text and clear of the edges",
      async (_name, raw) => {
        expect(textProblems(await svgOf(raw()))).toEqual([]);
      },
    );

    it("catches a text laid out for one font and drawn in another: out of its box, and cut at the canvas's edge", async () => {
      const laidOut = (font: string, graph: string) =>
        toSvg(
          `digraph { graph [pad=0]; node [shape=box, fontname="${font}", fontsize=10, margin=0.05]; edge [fontname="${font}"]; ${graph} }`,
        );
      const drawnIn = (svg: string) => svg.replace(/font-family="[^"]*"/g, `font-family="${FONT}"`);
      const node = 'a [label="5f3c2d1e-8a9b-4c7d-9e0f-1a2b3c4d5e6f"];';
      expect(textProblems(drawnIn(await laidOut(FONT, node)))).toEqual([]);
      expect(textProblems(drawnIn(await laidOut("Times", node)))).toEqual([
        expect.stringMatching(/^"5f3c2d1e-8a9b-4c7d-9e0f-1a2b3c4d5e6f" \(node a\) is drawn at .* outside its node's box /),
      ]);
      const edge = 'a -> b [label="5f3c2d1e-8a9b-4c7d-9e0f-1a2b3c4d5e6f"];';
      expect(textProblems(drawnIn(await laidOut(FONT, edge)))).toEqual([]);
      expect(textProblems(drawnIn(await laidOut("Times", edge)))).toEqual([
        expect.stringMatching(/^"5f3c2d1e-8a9b-4c7d-9e0f-1a2b3c4d5e6f" \(edge a->b\) is drawn at .* outside the canvas /),
      ]);
    });

    it("catches an edge drawn across a node's text", async () => {
      const svg = await toSvg(`digraph { rankdir=LR; node [shape=box, fontname="${FONT}"]; a [label="left"]; b [label="right"]; a -> b; }`);
      const [, x, y] = /<text[^>]*x="([-\d.]+)" y="([-\d.]+)"[^>]*>left/.exec(svg)!;
      const [cx, cy] = [Number(x), Number(y) - 3];
      const across = svg.replace(
        /(<g id="edge1" class="edge">[\s\S]*?<path[^>]*\sd=")[^"]*"/,
        `$1M${cx - 30},${cy} C${cx - 10},${cy} ${cx + 10},${cy} ${cx + 30},${cy}"`,
      );
      expect(textProblems(svg)).toEqual([]);
      expect(textProblems(across)).toEqual(['"left" (node a) is crossed by the edge a->b']);
    });

    it("catches a text drawn across the border of a cluster it is not in", async () => {
      const svg = await toSvg(
        `digraph { node [shape=box, fontname="${FONT}"]; subgraph cluster_zone { label="zone"; a [label="inside"]; } b [label="outside"]; }`,
      );
      const frame = /<g id="clust1" class="cluster">[\s\S]*?points="([^"]+)"/
        .exec(svg)![1]
        .split(" ")
        .map((p) => p.split(",").map(Number));
      const right = Math.max(...frame.map(([x]) => x));
      const across = svg.replace(/(<text[^>]*)x="[-\d.]+"([^>]*>outside)/, `$1x="${right}"$2`);
      expect(textProblems(svg)).toEqual([]);
      expect(textProblems(across)).toEqual(
        expect.arrayContaining(['"outside" (node b) is drawn across the border of cluster cluster_zone']),
      );
    });

    it("catches two texts drawn on each other", async () => {
      const svg = await toSvg(`digraph { node [shape=box, fontname="${FONT}"]; a [label="left"]; b [label="right"]; }`);
      const [, x, y] = /<text[^>]*x="([-\d.]+)" y="([-\d.]+)"[^>]*>left/.exec(svg)!;
      const moved = svg.replace(/(<text[^>]*)x="[-\d.]+" y="[-\d.]+"([^>]*>right)/, `$1x="${x}" y="${y}"$2`);
      expect(textProblems(moved)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^"left" \(node a\) and "right" \(node b\) overlap/)]),
      );
    });
  });

  it("is what docs/proof.md shows (run `npm run docs` after changing the verification environment)", async () => {
    expect(fs.readFileSync(README_DIAGRAM, "utf8")).toBe(await verificationDiagram());
  });
});

describe("the picture of a PrivateLink stack", () => {
  const raw = () => JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, "privatelink.json"), "utf8"));
  const pictured = () => {
    const config = configFrom(raw());
    return picture(stackOf(raw()), expectedFlowsOf(config), surroundingsOf(config));
  };
  const clusterOf = (p: ReturnType<typeof pictured>, id: string) => {
    const parent = p.servers.find((s) => s.id === id)!.parent;
    return p.vpcs.find((v) => v.id === parent || v.subnets.some((s) => s.id === parent))!.label.split("\n")[0];
  };

  it("draws an interface endpoint in each app VPC, linked to the endpoint service beside the load balancer it fronts, and no peering to an app VPC", () => {
    const p = pictured();
    const endpoints = p.servers.filter((s) => /\ninterface endpoint in /.test(s.label));
    expect(endpoints.map((e) => [clusterOf(p, e.id), e.label]).sort()).toEqual([
      ["privatelink-app1", "privatelink-app1-proxy-endpoint\ninterface endpoint in ap-northeast-1a, ap-northeast-1c"],
      ["privatelink-app2", "privatelink-app2-proxy-endpoint\ninterface endpoint in ap-northeast-1a, ap-northeast-1c"],
    ]);
    const service = p.servers.find((s) => s.label.includes("\nVPC endpoint service\n"))!;
    expect(service.label).toBe("privatelink-proxy-service\nVPC endpoint service\n1 allowed principal");
    expect(clusterOf(p, service.id)).toBe("privatelink-proxy");
    const links = (label: string) => p.links.filter((l) => l.label === label);
    expect(
      links("PrivateLink")
        .map((l) => [l.from, l.to])
        .sort(),
    ).toEqual(endpoints.map((e) => [e.id, service.id]).sort());
    const lbs = p.servers.filter((s) => s.label.includes("internal NLB"));
    expect(
      links("fronts")
        .map((l) => l.to)
        .sort(),
    ).toEqual(lbs.map((l) => l.id).sort());
    // The only peering joins the proxy VPC and the stand-in service's VPC.
    const appVpcs = p.vpcs.filter((v) => /^privatelink-app\d\n/.test(v.label)).map((v) => v.id);
    expect(appVpcs).toHaveLength(2);
    expect(p.links.filter((l) => l.kind === "peering")).toHaveLength(1);
    expect(p.links.flatMap((l) => [l.from, l.to]).filter((id) => appVpcs.includes(id))).toEqual([]);
  });

  it("draws each app's flow through its own endpoint and the endpoint service to the load balancer, and says what the proxy sees", () => {
    const p = pictured();
    const service = p.servers.find((s) => s.label.includes("\nVPC endpoint service\n"))!;
    for (const app of ["app1", "app2"]) {
      const server = p.servers.find((s) => s.label.startsWith(`privatelink-${app}-server\n`))!;
      const endpoint = p.servers.find((s) => s.label.startsWith(`privatelink-${app}-proxy-endpoint\n`))!;
      expect(p.flows.filter((f) => f.from === server.id && f.kind === "allowed")).toEqual([
        { from: server.id, to: endpoint.id, label: "tcp 3128", kind: "allowed" },
      ]);
      expect(p.flows.filter((f) => f.from === endpoint.id)).toEqual([
        { from: endpoint.id, to: service.id, label: "tcp 3128", kind: "allowed" },
      ]);
    }
    expect(p.flows.filter((f) => f.from === service.id).map((f) => p.servers.find((s) => s.id === f.to)!.label.split("\n")[0])).toEqual([
      "privatelink-proxy (internal NLB)",
      "privatelink-proxy (internal NLB)",
    ]);
    const lbToFleet = p.flows.filter((f) => p.servers.find((s) => s.id === f.from)?.label.includes("internal NLB"));
    expect(new Set(lbToFleet.map((f) => f.label))).toEqual(new Set(["tcp 3128\nclient in the PROXY protocol v2 header"]));
  });
});
