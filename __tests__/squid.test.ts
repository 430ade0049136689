import { HOST_SETTINGS_MARKER, renderSquidConf, SquidPolicy, withHostSettings } from "../lib/squid";

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
    expect(lines).toContain("access_log daemon:/var/log/squid/access.log squid");
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
    expect(swapped).toContain("access_log daemon:/lab/access.log squid\npid_filename /lab/squid.pid\n");
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
    const beforeConnect = plain.slice(plain.lastIndexOf("acl localnet"), plain.indexOf("acl CONNECT")).split("\n").slice(1);
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
        "access_log daemon:/l/a.log squid",
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
    expect(bare.slice(bare.lastIndexOf(HOST_SETTINGS_MARKER))).toBe(`${HOST_SETTINGS_MARKER}\naccess_log daemon:/l/a.log squid\n`);
  });

  it("finds the host settings even when they are all there is", () => {
    expect(withHostSettings(`\n${HOST_SETTINGS_MARKER}\nold\n`, { accessLog: "/a" })).toBe(
      `\n${HOST_SETTINGS_MARKER}\naccess_log daemon:/a squid\n`,
    );
  });
});
