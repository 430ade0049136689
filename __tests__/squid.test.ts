import {
  ACCESS_LOG_FIELDS,
  ACCESS_LOG_FORMAT,
  ALLOWLIST_FILE,
  APP_VPC_NOTE,
  HOST_SETTINGS_MARKER,
  includeAllowlistFrom,
  inlineAllowlist,
  renderAllowlist,
  renderSquidBase,
  renderSquidConf,
  splitSquidConf,
  SQUID_MAX_FILEDESCRIPTORS,
  SquidPolicy,
  withHostSettings,
} from "../lib/squid";
import { execFileSync, spawnSync } from "child_process";
import * as nodeFs from "fs";
import * as os from "os";
import * as nodePath from "path";

const policy: SquidPolicy = {
  environment: "verification",
  port: 3128,
  clients: [
    { name: "app", cidr: "192.168.0.0/24" },
    { name: "batch", cidr: "100.64.0.0/24" },
  ],
  destinations: [
    {
      name: "service",
      cidr: "172.16.0.0/24",
      ports: [
        { port: 80, carries: "http" },
        { port: 8443, carries: "tls" },
      ],
    },
    { name: "api", cidr: "203.0.113.0/28", ports: [{ port: 443, carries: "tls" }] },
  ],
};

/** The directive lines, without comments and blank lines. */
function directives(conf: string): string[] {
  return conf.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
}

describe("renderSquidConf", () => {
  const conf = renderSquidConf(policy);
  const lines = directives(conf);

  it("listens on the configured port", () => {
    expect(lines).toContain("http_port 3128");
  });

  it("names every app VPC in localnet, including ranges outside RFC 1918", () => {
    expect(lines).toContain("acl localnet src 192.168.0.0/24");
    expect(lines).toContain("acl localnet src 100.64.0.0/24");
    expect(lines.filter((l) => l.startsWith("acl localnet"))).toHaveLength(2);
  });

  it("allows each destination only on its own ports: plain requests to its HTTP ports, CONNECT to its TLS ports", () => {
    expect(lines).toContain("acl service_dst dst 172.16.0.0/24");
    expect(lines).toContain("acl service_http port 80");
    expect(lines).toContain("acl service_tls port 8443");
    expect(lines).toContain("http_access allow !CONNECT service_dst service_http");
    expect(lines).toContain("http_access allow CONNECT service_dst service_tls");
    expect(lines).toContain("http_access allow CONNECT api_dst api_tls");
    expect(lines.some((l) => l.startsWith("acl api_http"))).toBe(false);
  });

  it("asks a named service for one of its names AND an address in its block, on each kind of port; an address-only service for the address alone", () => {
    const named = directives(
      renderSquidConf({
        ...policy,
        destinations: [
          ...policy.destinations,
          {
            name: "portal",
            cidr: "198.51.100.0/28",
            domains: ["portal.partner.example", ".files.partner.example"],
            ports: [
              { port: 8080, carries: "http" },
              { port: 443, carries: "tls" },
            ],
          },
        ],
      }),
    );
    expect(named).toContain("acl portal_names dstdomain -n portal.partner.example .files.partner.example");
    expect(named).toContain("acl portal_dst dst 198.51.100.0/28");
    // The name first: a cheap string match before dst's DNS lookup.
    expect(named).toContain("http_access allow !CONNECT portal_names portal_dst portal_http");
    expect(named).toContain("http_access allow CONNECT portal_names portal_dst portal_tls");
    expect(named).toContain("http_access allow !CONNECT service_dst service_http");
    expect(named.filter((l) => l.includes("_names"))).toHaveLength(3);
    expect(lines.some((l) => l.includes("_names"))).toBe(false);
  });

  it("allows CONNECT exactly to the services' TLS ports, and to none when no service carries TLS", () => {
    expect(lines).toContain("acl SSL_ports port 443 8443");
    const plainOnly = directives(
      renderSquidConf({ ...policy, destinations: [{ name: "web", cidr: "172.16.0.0/24", ports: [{ port: 80, carries: "http" }] }] }),
    );
    expect(plainOnly.some((l) => l.startsWith("acl SSL_ports"))).toBe(false);
    expect(plainOnly).toContain("http_access deny CONNECT");
  });

  it("denies unsafe ports, CONNECT off the TLS ports, link-local and outsiders before any allow, and everything last", () => {
    const access = lines.filter((l) => l.startsWith("http_access"));
    expect(access.slice(0, 4)).toEqual([
      "http_access deny !Safe_ports",
      "http_access deny CONNECT !SSL_ports",
      "http_access deny link_local",
      "http_access deny !localnet",
    ]);
    expect(access[access.length - 1]).toBe("http_access deny all");
    expect(access.filter((l) => l.includes("allow"))).toHaveLength(3);
  });

  it("counts the services' ports among the safe ports", () => {
    expect(lines).toContain("acl Safe_ports port 80 443 8443");
  });

  it("covers the metadata service on IPv4 and IPv6", () => {
    const linkLocal = lines.find((l) => l.startsWith("acl link_local dst"));
    expect(linkLocal).toContain("169.254.0.0/16");
    expect(linkLocal).toContain("fd00:ec2::254");
  });

  it("caches nothing and hides the clients' addresses", () => {
    expect(lines).toEqual(expect.arrayContaining(["cache deny all", "via off", "forwarded_for delete"]));
  });

  it("avoids ACL names that Squid 6 predefines", () => {
    expect(conf).not.toMatch(/to_linklocal|to_localhost/);
  });

  it("puts comments on lines of their own", () => {
    expect(lines.filter((l) => l.includes("#"))).toEqual([]);
  });

  it("writes host settings only where the host gives them", () => {
    expect(lines).toContain("access_log daemon:/var/log/squid/access.log squid_app_vpc");
    expect(conf).not.toMatch(/pid_filename|dns_nameservers/);
    const test = directives(
      renderSquidConf(policy, {
        accessLog: "/t/access.log",
        pidFile: "/t/squid.pid",
        dnsNameservers: ["127.0.0.1"],
        shutdownLifetimeSeconds: 1,
      }),
    );
    expect(test).toEqual(expect.arrayContaining(["pid_filename /t/squid.pid", "dns_nameservers 127.0.0.1", "shutdown_lifetime 1 seconds"]));
  });

  it("keeps the access policy identical across hosts", () => {
    const policyLines = (conf: string) => directives(conf).filter((l) => /^(acl|http_access|http_port|cache |via|forwarded_for)/.test(l));
    expect(policyLines(renderSquidConf(policy, { accessLog: "/elsewhere.log" }))).toEqual(policyLines(conf));
  });

  it("refuses a policy with no clients or no destinations", () => {
    expect(() => renderSquidConf({ ...policy, clients: [] })).toThrow(/no clients/);
    expect(() => renderSquidConf({ ...policy, destinations: [] })).toThrow(/no destinations/);
  });

  it("swaps host settings without touching a byte of the access policy", () => {
    const swapped = withHostSettings(conf, { accessLog: "/lab/access.log", pidFile: "/lab/squid.pid" });
    const policyOf = (c: string) => c.slice(0, c.indexOf(HOST_SETTINGS_MARKER));
    expect(policyOf(swapped)).toBe(policyOf(conf));
    expect(swapped).toContain("access_log daemon:/lab/access.log squid_app_vpc\npid_filename /lab/squid.pid\n");
    expect(swapped).not.toContain("/var/log/squid");
    expect(() => withHostSettings("http_port 3128\n", { accessLog: "/x" })).toThrow(/no "# Host settings\." section/);
  });
});

describe("the whole squid.conf, as reviewed", () => {
  // The file under fixtures/ is the rendered configuration as a reviewer approved it; any change to
  // the policy's text shows up here first.
  const fs = require("fs") as typeof import("fs");
  const path = require("path") as typeof import("path");

  it("renders exactly the reviewed configuration for two clients, a plain and TLS service and a TLS-only one", () => {
    expect(renderSquidConf(policy)).toBe(fs.readFileSync(path.join(__dirname, "fixtures", "squid-verification.conf"), "utf8"));
  });

  it("denies CONNECT outright, and names no TLS ACL, when no service carries TLS", () => {
    const plain = renderSquidConf({
      ...policy,
      destinations: [{ name: "web", cidr: "172.16.0.0/24", ports: [{ port: 8080, carries: "http" }] }],
    });
    const policyPart = plain.slice(plain.indexOf("acl CONNECT"), plain.indexOf("# A relay"));
    expect(policyPart.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual([
      "acl CONNECT method CONNECT",
      "acl link_local dst 169.254.0.0/16 fe80::/10 fd00:ec2::254",
      "acl web_dst dst 172.16.0.0/24",
      "acl web_http port 8080",
      "http_access deny !Safe_ports",
      "http_access deny CONNECT",
      "http_access deny link_local",
      "http_access deny !localnet",
      "http_access allow !CONNECT web_dst web_http",
      "http_access deny all",
    ]);
    const beforeConnect = plain.slice(plain.lastIndexOf("note "), plain.indexOf("acl CONNECT")).split("\n").slice(1);
    expect(beforeConnect.filter((l) => l && !l.startsWith("#"))).toEqual(["acl Safe_ports port 80 443 8080"]);
  });

  it("lists several ports of a kind in one ACL, and the safe ports in ascending order", () => {
    const many = renderSquidConf({
      ...policy,
      destinations: [
        {
          name: "x",
          cidr: "172.16.0.0/24",
          ports: [
            { port: 8444, carries: "tls" },
            { port: 82, carries: "http" },
            { port: 8443, carries: "tls" },
            { port: 81, carries: "http" },
          ],
        },
      ],
    });
    expect(many).toContain("\nacl x_http port 82 81\n");
    expect(many).toContain("\nacl x_tls port 8444 8443\n");
    expect(many).toContain("\nacl SSL_ports port 8443 8444\n");
    expect(many).toContain("\nacl Safe_ports port 80 81 82 443 8443 8444\n");
  });

  it("writes every host setting given, in order, and only those", () => {
    const conf = withHostSettings(renderSquidConf(policy), {
      accessLog: "/l/a.log",
      cacheLog: "/l/c.log",
      pidFile: "/l/p",
      coredumpDir: "/l",
      dnsNameservers: ["127.0.0.1", "10.0.0.2"],
      visibleHostname: "p.lab",
      shutdownLifetimeSeconds: 1,
    });
    expect(conf.slice(conf.lastIndexOf(HOST_SETTINGS_MARKER))).toBe(
      [
        HOST_SETTINGS_MARKER,
        "access_log daemon:/l/a.log squid_app_vpc",
        "cache_log /l/c.log",
        "pid_filename /l/p",
        "coredump_dir /l",
        "dns_nameservers 127.0.0.1 10.0.0.2",
        "visible_hostname p.lab",
        "shutdown_lifetime 1 seconds",
        "",
      ].join("\n"),
    );
    const bare = withHostSettings(renderSquidConf(policy), { accessLog: "/l/a.log" });
    expect(bare.slice(bare.lastIndexOf(HOST_SETTINGS_MARKER))).toBe(`${HOST_SETTINGS_MARKER}\naccess_log daemon:/l/a.log squid_app_vpc\n`);
  });

  it("finds the host settings even when they are all there is", () => {
    expect(withHostSettings(`\n${HOST_SETTINGS_MARKER}\nold\n`, { accessLog: "/a" })).toBe(
      `\n${HOST_SETTINGS_MARKER}\naccess_log daemon:/a squid_app_vpc\n`,
    );
  });
});

describe("the base squid.conf and the allowlist it includes", () => {
  const base = renderSquidBase(policy);
  const allowlist = renderAllowlist(policy);

  it("keeps everything that comes from app VPCs and services out of the base", () => {
    const other = renderSquidBase({ environment: policy.environment, port: policy.port });
    expect(other).toBe(base);
    for (const text of ["192.168.0.0/24", "172.16.0.0/24", "acl ", "http_access", "note "]) expect(base).not.toContain(text);
    expect(directives(base).slice(0, 3)).toEqual([
      "http_port 3128",
      "logformat squid_app_vpc %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt %note{app_vpc}",
      `include ${ALLOWLIST_FILE}`,
    ]);
    expect(directives(base)).toContain(`access_log daemon:/var/log/squid/access.log ${ACCESS_LOG_FORMAT}`);
  });

  it("writes the app VPC note in the argument-after form, which Terraform does not read as a template directive", () => {
    expect(base).not.toMatch(/[$%]\{/);
  });

  it("holds every ACL, note and access rule in the allowlist, one directive per line, deny all last", () => {
    const lines = directives(allowlist);
    expect(lines.every((l) => /^(acl|note|http_access) /.test(l))).toBe(true);
    expect(lines[lines.length - 1]).toBe("http_access deny all");
    expect(allowlist.endsWith("http_access deny all\n")).toBe(true);
  });

  it("annotates each request with the app VPC whose block it came from", () => {
    const lines = directives(allowlist);
    expect(lines).toEqual(
      expect.arrayContaining([
        "acl app_app src 192.168.0.0/24",
        `note ${APP_VPC_NOTE} app app_app`,
        "acl app_batch src 100.64.0.0/24",
        `note ${APP_VPC_NOTE} batch app_batch`,
      ]),
    );
    // A note names an ACL defined before it.
    expect(lines.indexOf("acl app_batch src 100.64.0.0/24")).toBeLessThan(lines.indexOf(`note ${APP_VPC_NOTE} batch app_batch`));
  });

  it("names the access log's columns: the native format's ten, then the app VPC", () => {
    const format = directives(base)
      .find((l) => l.startsWith("logformat"))!
      .split(" ")
      .slice(2);
    expect(format).toHaveLength(ACCESS_LOG_FIELDS.length);
    expect(ACCESS_LOG_FIELDS[ACCESS_LOG_FIELDS.length - 1]).toBe(APP_VPC_NOTE);
    expect(format[format.length - 1]).toBe(`%note{${APP_VPC_NOTE}}`);
  });

  it("inlines the allowlist in place of the include, and splits the result back into both parts", () => {
    const conf = inlineAllowlist(base, allowlist);
    expect(conf).toBe(renderSquidConf(policy));
    expect(conf).not.toContain(`include ${ALLOWLIST_FILE}`);
    expect(splitSquidConf(conf)).toEqual({ base, allowlist });
    const swapped = withHostSettings(conf, { accessLog: "/lab/a.log" });
    expect(splitSquidConf(swapped).allowlist).toBe(allowlist);
    expect(() => splitSquidConf(base)).toThrow(/holds no allowlist/);
    expect(() => inlineAllowlist("http_port 3128\n", allowlist)).toThrow(/no line "include \/etc\/squid\/allowlist.conf"/);
  });

  it("points the include at another file for hosts that keep the allowlist elsewhere", () => {
    const moved = includeAllowlistFrom(base, "/lab/allowlist.conf");
    expect(moved.split("\n")).toContain("include /lab/allowlist.conf");
    expect(moved).not.toContain(`include ${ALLOWLIST_FILE}`);
    expect(() => includeAllowlistFrom("http_port 3128\n", "/x")).toThrow(/no line "include/);
  });
});

describe("services for some app VPCs only (from)", () => {
  const only = (from?: string[]): SquidPolicy => ({
    ...policy,
    destinations: [
      { ...policy.destinations[0], from },
      { name: "portal", cidr: "198.51.100.0/28", domains: ["portal.partner.example"], ports: [{ port: 8080, carries: "http" }], from },
    ],
  });

  it("matches the source blocks of the app VPCs named, on every allow line of the service", () => {
    const lines = directives(renderAllowlist(only(["batch"])));
    expect(lines).toContain("acl service_from src 100.64.0.0/24");
    expect(lines).toContain("acl portal_from src 100.64.0.0/24");
    expect(lines).toContain("http_access allow !CONNECT service_dst service_http service_from");
    expect(lines).toContain("http_access allow CONNECT service_dst service_tls service_from");
    expect(lines).toContain("http_access allow !CONNECT portal_names portal_dst portal_http portal_from");
    const both = directives(renderAllowlist(only(["app", "batch"])));
    expect(both).toContain("acl service_from src 192.168.0.0/24 100.64.0.0/24");
  });

  it("renders the same lines as before where no service names from", () => {
    const lines = directives(renderAllowlist(only(undefined)));
    expect(lines.some((l) => l.includes("_from"))).toBe(false);
    expect(lines).toContain("http_access allow !CONNECT service_dst service_http");
  });

  it("refuses an app VPC that is no client, a name Squid would cut and two ACLs of one name", () => {
    expect(() => renderAllowlist(only(["nope"]))).toThrow(
      /destination service names client nope in from, which is no client; name one of app, batch/,
    );
    expect(() => renderAllowlist({ ...policy, clients: [{ name: "x".repeat(60), cidr: "10.1.0.0/24" }] })).toThrow(
      /longer than the 63 characters Squid accepts/,
    );
    expect(() =>
      renderAllowlist({
        ...policy,
        clients: [...policy.clients, { name: "dst", cidr: "10.2.0.0/24" }],
        destinations: [{ name: "app", cidr: "172.16.0.0/24", ports: [{ port: 80, carries: "http" }] }],
      }),
    ).toThrow(/the ACL name app_dst is both a src and a dst ACL/);
  });
});

describe("capacity settings in squid.conf", () => {
  const conf = renderSquidConf(policy);

  it("asks for as many descriptors as the user data lets Squid's unit open, and keeps connections reused", () => {
    const lines = directives(conf);
    expect(lines).toContain(`max_filedescriptors ${SQUID_MAX_FILEDESCRIPTORS}`);
    expect(lines).toContain("server_persistent_connections on");
    expect(lines).toContain("client_persistent_connections on");
    expect(lines.indexOf(`max_filedescriptors ${SQUID_MAX_FILEDESCRIPTORS}`)).toBeLessThan(
      lines.findIndex((l) => l.startsWith("access_log ")),
    );
  });

  it("is accepted by the installed Squid's own parser (squid -k parse), capacity lines included", () => {
    const squid = ["/usr/sbin/squid", ...(process.env.PATH ?? "").split(nodePath.delimiter).map((d) => nodePath.join(d, "squid"))].find(
      (f) => nodeFs.existsSync(f),
    );
    if (!squid) throw new Error("squid is not installed, and this test runs its parser: install it (sudo bash .ci/install-daemons)");
    const dir = nodeFs.mkdtempSync(nodePath.join(os.tmpdir(), "squid-parse-"));
    try {
      const file = nodePath.join(dir, "squid.conf");
      const host = {
        accessLog: nodePath.join(dir, "access.log"),
        cacheLog: nodePath.join(dir, "cache.log"),
        pidFile: nodePath.join(dir, "squid.pid"),
      };
      nodeFs.writeFileSync(file, withHostSettings(conf, host));
      const out = execFileSync(squid, ["-k", "parse", "-f", file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      expect(out).not.toMatch(/FATAL|ERROR/);
      // A directive Squid did not know would fail the parse; a misspelt value of a known one only warns.
      const broken = withHostSettings(conf.replace("server_persistent_connections on", "server_persistent_connections maybe"), host);
      nodeFs.writeFileSync(file, broken);
      expect(() => execFileSync(squid, ["-k", "parse", "-f", file], { stdio: "pipe" })).toThrow();
    } finally {
      nodeFs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("behind PrivateLink: the PROXY header required, app VPCs told apart by endpoint", () => {
  /** Two app VPCs of one block, each behind its own interface endpoint; the load balancer has an address per zone. */
  const privateLink: SquidPolicy = {
    environment: "privatelink",
    port: 3128,
    proxyProtocol: { trustedSources: ["10.0.0.10", "10.0.0.20"] },
    clients: [
      { name: "orders", cidr: "192.168.0.0/24", endpointId: "${aws_vpc_endpoint.orders_endpoint_0123.id}" },
      { name: "billing", cidr: "192.168.0.0/24", endpointId: "vpce-0a1b2c3d4e5f60718" },
    ],
    destinations: [
      { name: "service", cidr: "172.16.0.0/24", ports: [{ port: 80, carries: "http" }] },
      { name: "api", cidr: "172.16.0.0/24", ports: [{ port: 8443, carries: "tls" }], from: ["orders"] },
    ],
  };
  const conf = renderSquidConf(privateLink);
  const lines = directives(conf);

  it("requires the header on the port and believes it from the load balancer's addresses only", () => {
    expect(lines).toContain("http_port 3128 require-proxy-header");
    expect(lines).toContain("acl load_balancer src 10.0.0.10 10.0.0.20");
    expect(lines.filter((l) => l.startsWith("proxy_protocol_access"))).toEqual([
      "proxy_protocol_access allow load_balancer",
      "proxy_protocol_access deny all",
    ]);
    expect(directives(renderSquidBase(privateLink))).toEqual(directives(splitSquidConf(conf).base));
  });

  it("matches each app VPC by its endpoint's TLV (Terraform references verbatim), never by its block", () => {
    expect(lines).toContain('acl endpoint_id annotate_transaction vpc_endpoint="%proxy_protocol::>h{234}"');
    expect(lines.filter((l) => l.startsWith("acl localnet"))).toEqual([
      "acl localnet note vpc_endpoint %01${aws_vpc_endpoint.orders_endpoint_0123.id}",
      "acl localnet note vpc_endpoint %01vpce-0a1b2c3d4e5f60718",
    ]);
    expect(lines).toContain("acl app_orders note vpc_endpoint %01${aws_vpc_endpoint.orders_endpoint_0123.id}");
    expect(lines).toContain("note app_vpc billing app_billing");
    expect(lines).toContain("acl api_from note vpc_endpoint %01${aws_vpc_endpoint.orders_endpoint_0123.id}");
    expect(lines.filter((l) => / src 192\.168\./.test(l))).toEqual([]);
  });

  it("annotates every request with its endpoint before any other access line decides", () => {
    const access = lines.filter((l) => l.startsWith("http_access"));
    expect(access[0]).toBe("http_access deny endpoint_id !all");
    expect(access.slice(1, 5)).toEqual([
      "http_access deny !Safe_ports",
      "http_access deny CONNECT !SSL_ports",
      "http_access deny link_local",
      "http_access deny !localnet",
    ]);
    expect(access).toContain("http_access allow CONNECT api_dst api_tls api_from");
  });

  it("refuses clients without an endpoint behind PrivateLink, endpoints without it, and ids or sources that are none", () => {
    const [orders, billing] = privateLink.clients;
    const { proxyProtocol, ...direct } = privateLink;
    expect(proxyProtocol).toBeDefined();
    expect(() => renderAllowlist({ ...privateLink, clients: [orders, { name: "billing", cidr: billing.cidr }] })).toThrow(
      /client billing has no endpointId, but Squid requires the PROXY header/,
    );
    expect(() => renderAllowlist(direct)).toThrow(/client orders has endpointId \$\{aws_vpc_endpoint.*without proxyProtocol/);
    expect(() => renderAllowlist({ ...privateLink, clients: [orders, { ...billing, endpointId: "vpce 0a1b" }] })).toThrow(
      /client billing has endpointId "vpce 0a1b", which is no VPC endpoint id/,
    );
    expect(() => renderSquidBase({ ...privateLink, proxyProtocol: { trustedSources: [] } })).toThrow(/trustedSources is empty/);
    expect(() => renderSquidBase({ ...privateLink, proxyProtocol: { trustedSources: ["nlb.internal"] } })).toThrow(
      /trustedSources holds "nlb.internal", which is no address or block/,
    );
  });

  it("is accepted by the installed Squid's own parser (squid -k parse) without a warning of its own", () => {
    const squid = ["/usr/sbin/squid", ...(process.env.PATH ?? "").split(nodePath.delimiter).map((d) => nodePath.join(d, "squid"))].find(
      (f) => nodeFs.existsSync(f),
    );
    if (!squid) throw new Error("squid is not installed, and this test runs its parser: install it (sudo bash .ci/install-daemons)");
    const dir = nodeFs.mkdtempSync(nodePath.join(os.tmpdir(), "squid-parse-"));
    try {
      const file = nodePath.join(dir, "squid.conf");
      const host = {
        accessLog: nodePath.join(dir, "access.log"),
        cacheLog: nodePath.join(dir, "cache.log"),
        pidFile: nodePath.join(dir, "squid.pid"),
      };
      // Terraform resolves the reference before a proxy reads the allowlist; Squid parses an id in its place.
      nodeFs.writeFileSync(
        file,
        withHostSettings(conf.replaceAll("${aws_vpc_endpoint.orders_endpoint_0123.id}", "vpce-0123456789abcdef0"), host),
      );
      const parsed = spawnSync(squid, ["-k", "parse", "-f", file], { encoding: "utf8" });
      expect(parsed.status).toBe(0);
      // via off warns in every rendering; nothing else may.
      const warnings = `${parsed.stdout}${parsed.stderr}`.split("\n").filter((l) => /FATAL|ERROR|WARNING/.test(l));
      expect(warnings.filter((l) => !l.includes("WARNING: HTTP requires the use of Via"))).toEqual([]);
      expect(parsed.stderr).toContain("Processing: proxy_protocol_access allow load_balancer");
    } finally {
      nodeFs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
