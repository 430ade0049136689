import * as fs from "fs";
import * as path from "path";
import { addressRange, AllowlistDecision, decide, describeDecision, parseAllowlist } from "../lib/allowlist-policy";
import { parseEnvironment } from "../lib/config";
import { renderedAllowlist } from "../operations/allowlist/render";
import { renderAllowlist } from "../lib/squid";

const ROOT = path.join(__dirname, "..");

/** demos/verification.json with a second app VPC, app2 (192.168.1.0/24), changed by `edit`. */
function verification(edit: (raw: any) => void = () => undefined) {
  const raw = JSON.parse(fs.readFileSync(path.join(ROOT, "demos", "verification.json"), "utf8"));
  raw.appVpcs.push({ name: "app2", cidr: "192.168.1.0/24", subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "192.168.1.0/25" }] });
  edit(raw);
  return parseEnvironment(raw, "verification with app2");
}

/** The number of the line of `text` that reads `line`. */
function lineOf(text: string, line: string): number {
  const at = text.split("\n").findIndex((l) => l.trim() === line);
  if (at < 0) throw new Error(`no line "${line}" in:\n${text}`);
  return at + 1;
}

const APP = "192.168.0.10";
const APP2 = "192.168.1.10";
const SERVICE = "172.16.0.10";

describe("the allowlist rendered from demos/verification.json with app2 (no from)", () => {
  const text = renderedAllowlist(verification());
  const allowlist = parseAllowlist(text);
  const at = (line: string) => ({ number: lineOf(text, line), text: line });
  const decided = (d: AllowlistDecision) => (d.verdict === "depends" ? d : { verdict: d.verdict, line: d.line });

  it("reads every ACL line of a name into one ACL, in order, and the http_access lines ending in deny all", () => {
    expect(allowlist.acls.get("localnet")).toMatchObject({ type: "src", values: ["192.168.0.0/24", "192.168.1.0/24"] });
    expect(allowlist.acls.get("api_names")).toMatchObject({ type: "dstdomain", flags: ["-n"] });
    expect(allowlist.rules.map((r) => r.line.text)).toEqual([
      "http_access deny !Safe_ports",
      "http_access deny CONNECT !SSL_ports",
      "http_access deny link_local",
      "http_access deny !localnet",
      "http_access allow !CONNECT service_dst service_http",
      "http_access allow CONNECT service_dst service_tls",
      "http_access allow !CONNECT api_names api_dst api_http",
      "http_access deny all",
    ]);
  });

  it("allows each app VPC the service's plain port and its TLS port by CONNECT, naming the allow line", () => {
    for (const client of [APP, APP2]) {
      expect(decided(decide(allowlist, { client, method: "GET", host: SERVICE, port: 80 }))).toEqual({
        verdict: "allowed",
        line: at("http_access allow !CONNECT service_dst service_http"),
      });
      expect(decided(decide(allowlist, { client, method: "CONNECT", host: SERVICE, port: 8443 }))).toEqual({
        verdict: "allowed",
        line: at("http_access allow CONNECT service_dst service_tls"),
      });
    }
  });

  it("denies by the first matching deny line: an unsafe port, CONNECT to a plain port, link-local, an outsider", () => {
    const deny = (request: Parameters<typeof decide>[1]) => decided(decide(allowlist, request));
    expect(deny({ client: APP, method: "GET", host: SERVICE, port: 22 })).toEqual({
      verdict: "denied",
      line: at("http_access deny !Safe_ports"),
    });
    expect(deny({ client: APP, method: "CONNECT", host: SERVICE, port: 80 })).toEqual({
      verdict: "denied",
      line: at("http_access deny CONNECT !SSL_ports"),
    });
    expect(deny({ client: APP, method: "GET", host: "169.254.169.254", port: 80 })).toEqual({
      verdict: "denied",
      line: at("http_access deny link_local"),
    });
    expect(deny({ client: "10.9.9.9", method: "GET", host: SERVICE, port: 80 })).toEqual({
      verdict: "denied",
      line: at("http_access deny !localnet"),
    });
  });

  it("allows a listed name (or a name under a listed domain) only when it resolves into the block", () => {
    const named = (host: string, resolved?: string[]) => decide(allowlist, { client: APP, method: "GET", host, port: 8080, resolved });
    const api = at("http_access allow !CONNECT api_names api_dst api_http");
    expect(decided(named("api.service.example", [SERVICE]))).toEqual({ verdict: "allowed", line: api });
    expect(decided(named("API.Service.Example.", [SERVICE]))).toEqual({ verdict: "allowed", line: api });
    expect(decided(named("x.internal.service.example", [SERVICE]))).toEqual({ verdict: "allowed", line: api });
    expect(decided(named("internal.service.example", [SERVICE]))).toEqual({ verdict: "allowed", line: api });
    const elsewhere = named("api.service.example", ["172.16.1.10"]);
    expect(decided(elsewhere)).toEqual({ verdict: "denied", line: at("http_access deny all") });
    expect(elsewhere).toMatchObject({ nearest: { line: api, failed: ["api_dst"] } });
    expect(describeDecision(allowlist, elsewhere)).toBe(
      `denied by line ${at("http_access deny all").number}: http_access deny all; the nearest allow line, line ${api.number}: ${api.text}, lacks api_dst (dst 172.16.0.0/24)`,
    );
  });

  it("never lets a bare address or an unlisted name stand for a named service (dstdomain -n looks nothing up)", () => {
    const byAddress = decide(allowlist, { client: APP, method: "GET", host: SERVICE, port: 8080 });
    expect(byAddress).toMatchObject({ verdict: "denied", line: at("http_access deny all"), nearest: { failed: ["api_names"] } });
    const unlisted = decide(allowlist, { client: APP, method: "GET", host: "other.service.example", port: 8080, resolved: [SERVICE] });
    expect(unlisted).toMatchObject({ verdict: "denied", line: at("http_access deny all") });
  });

  it("says a named request depends on DNS when the addresses are not given, with each outcome's line", () => {
    const d = decide(allowlist, { client: APP, method: "GET", host: "api.service.example", port: 8080 });
    expect(d).toMatchObject({
      verdict: "depends",
      line: at("http_access deny link_local"),
      ifMatched: { verdict: "denied", line: at("http_access deny link_local") },
      otherwise: {
        verdict: "depends",
        line: at("http_access allow !CONNECT api_names api_dst api_http"),
        ifMatched: { verdict: "allowed" },
        otherwise: { verdict: "denied", line: at("http_access deny all") },
      },
    });
    const api = at("http_access allow !CONNECT api_names api_dst api_http");
    expect(describeDecision(allowlist, d)).toMatch(
      new RegExp(
        `^depends on the addresses api\\.service\\.example resolves to: ` +
          `denied by line ${at("http_access deny link_local").number}: http_access deny link_local if one is in link_local \\(dst 169\\.254\\.0\\.0/16 fe80::/10 fd00:ec2::254\\); ` +
          `allowed by line ${api.number}: ${api.text} if one is in api_dst \\(dst 172\\.16\\.0\\.0/24\\); ` +
          `otherwise denied by line ${at("http_access deny all").number}: http_access deny all`,
      ),
    );
  });

  it("gives one verdict when both outcomes of an unknown agree, with the line of each", () => {
    const d = decide(allowlist, { client: "10.9.9.9", method: "GET", host: "api.service.example", port: 8080 });
    expect(d).toMatchObject({
      verdict: "denied",
      either: { ifMatched: at("http_access deny link_local"), otherwise: at("http_access deny !localnet") },
    });
    expect(describeDecision(allowlist, d)).toMatch(
      /^denied whatever the addresses api\.service\.example resolves to \(by line \d+: http_access deny link_local if one is in link_local .*; otherwise by line \d+: http_access deny !localnet\)$/,
    );
  });

  it("takes blocks for the host and for a name's addresses: some address in them, as the reachability analysis asks", () => {
    expect(decide(allowlist, { client: APP, method: "GET", host: "172.16.0.0/25", port: 80 }).verdict).toBe("allowed");
    expect(decide(allowlist, { client: APP, method: "GET", host: "172.16.1.0/24", port: 80 }).verdict).toBe("denied");
    expect(decide(allowlist, { client: APP, method: "GET", host: "172.16.0.0/23", port: 80 })).toMatchObject({
      verdict: "depends",
      on: "which address of 172.16.0.0/23 is asked for",
    });
    const named = (resolved: string[]) =>
      decide(allowlist, { client: APP, method: "GET", host: "api.service.example", port: 8080, resolved });
    expect([named(["172.16.0.0/26"]).verdict, named(["10.0.0.0/8"]).verdict, named(["172.16.1.9", "172.16.0.9"]).verdict]).toEqual([
      "allowed",
      "denied",
      "allowed",
    ]);
    expect(() => named(["nowhere"])).toThrow(/the resolved address "nowhere" of api\.service\.example is not an address or block/);
  });

  it("takes a block as the client: every address of it, or a verdict depending on which address", () => {
    expect(decide(allowlist, { client: "192.168.0.0/24", method: "GET", host: SERVICE, port: 80 }).verdict).toBe("allowed");
    expect(decide(allowlist, { client: "192.168.0.0/23", method: "GET", host: SERVICE, port: 80 }).verdict).toBe("allowed");
    const wide = decide(allowlist, { client: "192.168.0.0/22", method: "GET", host: SERVICE, port: 80 });
    expect(wide).toMatchObject({
      verdict: "depends",
      line: at("http_access deny !localnet"),
      on: expect.stringMatching(/which address of 192\.168\.0\.0\/22/),
    });
  });
});

describe("the allowlist rendered with from", () => {
  const env = verification((raw) => (raw.services[1].from = ["app"]));
  const text = renderedAllowlist(env);
  const allowlist = parseAllowlist(text);
  const apiLine = allowlist.rules.find((r) => r.acls.some((a) => a.name === "api_names"));

  it("lets app use the service only app may use, and tells app2 it is denied with the allow line it lacks", () => {
    const request = (client: string) =>
      decide(allowlist, { client, method: "GET", host: "api.service.example", port: 8080, resolved: [SERVICE] });
    expect(request(APP)).toMatchObject({ verdict: "allowed", line: apiLine!.line });
    const denied = request(APP2);
    expect(denied).toMatchObject({ verdict: "denied", line: { number: lineOf(text, "http_access deny all") } });
    expect(denied.verdict === "denied" && denied.nearest?.line).toEqual(apiLine!.line);
    expect(describeDecision(allowlist, denied)).toMatch(/lacks \w+ \(src 192\.168\.0\.0\/24\)$/);
  });

  it("still lets app2 use the services open to every app VPC", () => {
    expect(decide(allowlist, { client: APP2, method: "CONNECT", host: SERVICE, port: 8443 }).verdict).toBe("allowed");
  });
});

describe("Squid's rules beyond the rendered text", () => {
  it("does the opposite of the last line when none matches, and denies with no http_access line at all", () => {
    const allowOnly = parseAllowlist("acl app src 10.0.0.0/8\nhttp_access allow app\n");
    expect(decide(allowOnly, { client: "11.0.0.1", method: "GET", host: "1.2.3.4", port: 80 })).toMatchObject({
      verdict: "denied",
      byDefault: true,
      line: { number: 2 },
    });
    const denyOnly = parseAllowlist("acl bad src 10.0.0.0/8\nhttp_access deny bad\n");
    expect(decide(denyOnly, { client: "11.0.0.1", method: "GET", host: "1.2.3.4", port: 80 })).toMatchObject({
      verdict: "allowed",
      byDefault: true,
    });
    expect(decide(parseAllowlist("http_port 3128\n"), { client: "11.0.0.1", method: "GET", host: "1.2.3.4", port: 80 })).toMatchObject({
      verdict: "denied",
      byDefault: true,
    });
  });

  it("reads port ranges, methods, dotted masks, address ranges, continued lines and the predefined ACLs", () => {
    const a = parseAllowlist(
      [
        "acl high port 1025-65535",
        "acl post method POST",
        "acl lan src 10.1.0.0/255.255.0.0",
        "acl pair src 10.2.0.1-10.2.0.2",
        "http_access allow post lan \\",
        "  high",
        "http_access allow pair !to_localhost",
        "http_access deny all",
      ].join("\n"),
    );
    expect(a.rules[0]).toMatchObject({ line: { number: 5, text: "http_access allow post lan    high" } });
    const r = (client: string, method: string, port: number, host = "10.9.0.1") => decide(a, { client, method, host, port }).verdict;
    expect([r("10.1.2.3", "POST", 8080), r("10.1.2.3", "post", 80), r("10.1.2.3", "GET", 8080)]).toEqual(["allowed", "denied", "denied"]);
    expect([r("10.2.0.2", "GET", 80), r("10.2.0.3", "GET", 80), r("10.2.0.2", "GET", 80, "127.0.0.1")]).toEqual([
      "allowed",
      "denied",
      "denied",
    ]);
  });

  it("asks for reverse DNS where dstdomain has no -n and the host is an address", () => {
    const a = parseAllowlist("acl names dstdomain .example.com\nhttp_access allow names\nhttp_access deny all\n");
    expect(decide(a, { client: "10.0.0.1", method: "GET", host: "10.0.0.9", port: 80 })).toMatchObject({
      verdict: "depends",
      on: "the reverse DNS name of 10.0.0.9",
      when: "it is in names (dstdomain .example.com)",
    });
  });

  it("refuses what Squid refuses, and ACL types it does not decide, naming the line", () => {
    expect(() => parseAllowlist("http_access allow nobody\n")).toThrow(
      /^line 1 \(http_access allow nobody\): ACL nobody is not defined above/,
    );
    expect(() => parseAllowlist("acl x src 10.0.0.0/8\nacl x port 80\n")).toThrow(/^line 2 .*already of type src \(line 1\)/);
    expect(() => parseAllowlist("acl ua browser Mozilla\nhttp_access allow ua\n")).toThrow(
      /ACL ua is of type browser; this evaluator decides src, dst/,
    );
    expect(() => parseAllowlist("http_access permit all\n")).toThrow(/"permit" is not allow or deny/);
    expect(() =>
      decide(parseAllowlist("acl x src nowhere\nhttp_access allow x\n"), { client: "1.1.1.1", method: "GET", host: "a", port: 1 }),
    ).toThrow(/acl x src: "nowhere" is not an address/);
  });

  it("reads IPv4 and IPv6 addresses, blocks and masks as ranges", () => {
    expect(addressRange("10.0.0.0/24")).toEqual({ v6: false, lo: 167772160n, hi: 167772415n });
    expect(addressRange("10.0.0.7/24")).toEqual({ v6: false, lo: 167772160n, hi: 167772415n });
    expect(addressRange("fe80::/10")).toMatchObject({ v6: true, lo: 0xfe80n << 112n });
    expect(addressRange("10.0.0.0/33")).toBeUndefined();
    expect(addressRange("not-an-address")).toBeUndefined();
  });
});

describe("the allowlist behind PrivateLink: app VPCs of one block told apart by endpoint", () => {
  const text = renderAllowlist({
    environment: "privatelink",
    port: 3128,
    proxyProtocol: { trustedSources: ["10.0.0.10"] },
    clients: [
      { name: "app", cidr: "192.168.0.0/24", endpointId: "${aws_vpc_endpoint.app.id}" },
      { name: "app2", cidr: "192.168.0.0/24", endpointId: "vpce-0a1b2c3d4e5f60718" },
    ],
    destinations: [
      { name: "service", cidr: "172.16.0.0/24", ports: [{ port: 80, carries: "http" }] },
      { name: "api", cidr: "172.16.0.0/24", ports: [{ port: 8080, carries: "http" }], from: ["app"] },
    ],
  });
  const allowlist = parseAllowlist(text);
  const request = (endpointId: string | undefined, port: number) => ({ client: APP, method: "GET", host: SERVICE, port, endpointId });

  it("reads the endpoint's annotation and the note ACLs on it", () => {
    expect(allowlist.acls.get("endpoint_id")).toMatchObject({
      type: "annotate_transaction",
      values: ['vpc_endpoint="%proxy_protocol::>h{234}"'],
    });
    expect(allowlist.acls.get("localnet")).toMatchObject({
      type: "note",
      values: ["vpc_endpoint", "%01${aws_vpc_endpoint.app.id}", "vpc_endpoint", "%01vpce-0a1b2c3d4e5f60718"],
    });
  });

  it("gives one address two verdicts by the endpoint it came through, as from says", () => {
    expect(describeDecision(allowlist, decide(allowlist, request("${aws_vpc_endpoint.app.id}", 8080)))).toBe(
      `allowed by line ${lineOf(text, "http_access allow !CONNECT api_dst api_http api_from")}: http_access allow !CONNECT api_dst api_http api_from`,
    );
    const denied = decide(allowlist, request("vpce-0a1b2c3d4e5f60718", 8080));
    expect(denied).toMatchObject({ verdict: "denied", line: { text: "http_access deny all" }, nearest: { failed: ["api_from"] } });
    expect(decide(allowlist, request("vpce-0a1b2c3d4e5f60718", 80))).toMatchObject({ verdict: "allowed" });
  });

  it("denies a request through another endpoint, or with no endpoint TLV, as an outsider", () => {
    for (const endpointId of ["vpce-0ffffffffffffffff", undefined])
      expect(decide(allowlist, request(endpointId, 80))).toMatchObject({ verdict: "denied", line: { text: "http_access deny !localnet" } });
  });

  it("annotates only from the first place of a line, where Squid always reaches it, and expands only the endpoint TLV", () => {
    const base = 'acl ep annotate_transaction vpc_endpoint="%proxy_protocol::>h{234}"\nacl seen note vpc_endpoint %01vpce-1\n';
    expect(() => parseAllowlist(`${base}http_access allow seen ep\n`)).toThrow(/ACL ep \(annotate_transaction\) is not first on its line/);
    expect(() => parseAllowlist('acl ep annotate_transaction who="%>a"\nhttp_access allow ep\n')).toThrow(
      /expands %proxy_protocol::>h\{234\} only/,
    );
    expect(() => parseAllowlist("acl n note -m vpc_endpoint a\nhttp_access allow n\n")).toThrow(/needs an annotation name and no flags/);
    // A note ACL before the annotating line sees no annotation; a literal value is set as written.
    const order = parseAllowlist(`${base}http_access allow seen\nhttp_access deny ep !all\nhttp_access allow seen\nhttp_access deny all\n`);
    expect(decide(order, { ...request("vpce-1", 80) })).toMatchObject({ verdict: "allowed", line: { number: 5 } });
    const literal = parseAllowlist(
      "acl mark annotate_transaction tier=gold\nacl gold note tier gold\nacl any note tier\nhttp_access allow mark gold any\n",
    );
    expect(decide(literal, request(undefined, 80))).toMatchObject({ verdict: "allowed", line: { number: 4 } });
  });
});
