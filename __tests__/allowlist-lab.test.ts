import * as fs from "fs";
import * as path from "path";
import { amazonLinuxSyncSettings, renderAllowlistSync } from "../lib/allowlist-sync";
import { allowlistLabPlan, allowlistOf, brokenAllowlist, freePorts, LAB_POLL_SECONDS } from "../proof/allowlist-lab";
import { e2eTopology } from "../proof/e2e-topology";
import { CONFIG_DIR, configFrom, verificationConfig, verificationRaw } from "./helpers/stack";

const fleetFile = () => JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, "verification-fleet.json"), "utf8"));

describe("allowlistLabPlan of the verification environment", () => {
  const plan = allowlistLabPlan(verificationRaw(), "verification.json", LAB_POLL_SECONDS);
  const [added, named, removed, broken, from] = plan.versions;

  it("copies the environment with an app VPC app2 in a free block and the lab's poll interval, and says why it differs", () => {
    expect(plan.env.name).toBe("verification");
    expect(plan.env.appVpcs.map((a) => [a.name, a.cidr])).toEqual([
      ["app", "192.168.0.0/24"],
      ["app2", "192.168.1.0/24"],
    ]);
    expect(plan.app2Cidr).toBe("192.168.1.0/24");
    expect(plan.env.proxy.allowlistPollSeconds).toBe(10);
    expect(plan.pollNote).toMatch(
      /allowlistPollSeconds 10 in the lab's copy, not the environment's 30: five writes at 30 s could take 165 s/,
    );
    expect(plan.initial).toBe(allowlistOf(plan.env));
    expect(plan.initial).toContain("acl localnet src 192.168.1.0/24\n");
  });

  it("writes versions 2 to 6: a port, a service by name, its removal, one Squid refuses, from", () => {
    expect(plan.versions.map((v) => [v.version, v.kind])).toEqual([
      [2, "change"],
      [3, "change"],
      [4, "change"],
      [5, "broken"],
      [6, "change"],
    ]);
    expect(added.text).toContain("acl service_http port 80 8090\n");
    expect(plan.initial).toContain("acl service_http port 80\n");
    expect(named.text).toContain("acl portal_names dstdomain -n portal.service.example\n");
    expect(named.text).toContain("http_access allow !CONNECT portal_names portal_dst portal_http\n");
    expect(removed.text).toBe(added.text);
    expect(from.text).toContain("acl service_from src 192.168.0.0/24\n");
    expect(from.text).toContain("http_access allow !CONNECT service_dst service_http service_from\n");
    expect(from.text).not.toContain("portal");
  });

  it("gives each version that parses a probe whose answer flips, and tells the stand-ins what to serve", () => {
    expect(plan.versions.map((v) => v.probe)).toEqual([
      { from: "app", port: 8090, before: 403, after: 200 },
      { from: "app", host: "portal.service.example", port: 8091, before: 403, after: 200 },
      { from: "app", host: "portal.service.example", port: 8091, before: 200, after: 403 },
      undefined,
      { from: "app2", port: 80, before: 200, after: 403 },
    ]);
    expect(plan.listenPorts).toEqual([8090, 8091]);
    expect(plan.names).toEqual(["portal.service.example"]);
    expect(broken.text).toBe(brokenAllowlist(removed.text));
  });

  it("keeps the environment's own poll interval when asked to, with nothing to explain", () => {
    const own = allowlistLabPlan(verificationRaw(), "verification.json");
    expect(own.pollSeconds).toBe(30);
    expect(own.pollNote).toBeUndefined();
  });
});

describe("allowlistLabPlan of other environments", () => {
  it("names the added service in service.example where the environment forwards no domain (the fleet)", () => {
    const plan = allowlistLabPlan(fleetFile(), "verification-fleet.json", LAB_POLL_SECONDS);
    expect(plan.names).toEqual(["portal.service.example"]);
    expect(plan.env.proxy.fleet?.size).toBe(2);
    expect(plan.versions[4].text).toContain("acl service_from src 192.168.0.0/24\n");
  });

  it("moves app2 to the next free block and picks another service name when portal is taken", () => {
    const raw = verificationRaw();
    raw.appVpcs.push({ name: "other", cidr: "192.168.1.0/24", subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "192.168.1.0/24" }] });
    raw.services.push({ name: "portal", cidr: "172.16.0.0/24", ports: [9000] });
    const plan = allowlistLabPlan(raw, "test.json", LAB_POLL_SECONDS);
    expect(plan.app2Cidr).toBe("192.168.2.0/24");
    expect(plan.names).toEqual(["portal2.service.example"]);
    expect(plan.listenPorts).toEqual([8090, 8091]);
  });

  it("refuses an environment that has an app VPC named app2 already", () => {
    const raw = verificationRaw();
    raw.appVpcs.push({ name: "app2", cidr: "192.168.5.0/24", subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "192.168.5.0/24" }] });
    expect(() => allowlistLabPlan(raw, "test.json")).toThrow(/adds an app VPC named app2, and the environment has one already/);
  });
});

describe("brokenAllowlist and freePorts", () => {
  it("puts an access rule naming an undefined ACL before the last line, deny all", () => {
    expect(brokenAllowlist("acl localnet src 10.0.0.0/8\nhttp_access allow localnet\nhttp_access deny all\n")).toBe(
      "acl localnet src 10.0.0.0/8\nhttp_access allow localnet\nhttp_access allow lab_undefined_acl\nhttp_access deny all\n",
    );
  });

  it("skips the ports the services use, 80, 443 and 8081", () => {
    const raw = verificationRaw();
    raw.services[0].ports.push(8090, 8092);
    expect(freePorts(configFrom(raw), 3)).toEqual([8091, 8093, 8094]);
  });
});

describe("e2eTopology with a second app VPC", () => {
  it("places app2 at its subnet's fourth address and links it to the proxy with routes to each other's blocks only", () => {
    const topology = e2eTopology(allowlistLabPlan(verificationRaw(), "verification.json").env);
    expect(topology.hosts.app2).toBe("192.168.1.4");
    expect(topology.links).toContainEqual({ a: "app2", b: "proxy", aRoutes: ["10.0.0.0/24"], bRoutes: ["192.168.1.0/24"] });
    expect(e2eTopology(verificationConfig()).hosts.app2).toBeUndefined();
  });
});

describe("squid-allowlist-sync's hold of new connections, which the lab proves against real Squid", () => {
  const at = (script: string, text: string) => {
    const i = script.indexOf(text);
    expect(i).toBeGreaterThanOrEqual(0);
    return i;
  };

  it("is on for Amazon Linux 2023: SYNs to Squid's port dropped from before the reconfigure until a new listener replaces the old", () => {
    expect(amazonLinuxSyncSettings("/p/verification/squid-allowlist").holdNewConnections).toBe(true);
    const script = renderAllowlistSync(amazonLinuxSyncSettings("/p/verification/squid-allowlist"));
    expect(script).toContain("hold=1\n");
    expect(script).toContain("tcp dport %s tcp flags & (syn | ack) == syn drop");
    expect(at(script, "\n  hold_new_connections\n")).toBeLessThan(at(script, '$(run_squid -f "$squid_conf" -k reconfigure 2>&1)'));
    expect(at(script, "-k reconfigure 2>&1) && release_new_connections")).toBeGreaterThan(at(script, "\n  hold_new_connections\n"));
    expect(script).toContain("for i in $(seq 1 100); do");
  });

  it("is off unless asked for, so a script run outside a proxy's own namespace never touches the firewall", () => {
    const script = renderAllowlistSync({ ...amazonLinuxSyncSettings("/p/x"), holdNewConnections: undefined });
    expect(script).toContain("hold=0\n");
    expect(script).toContain('[ "$hold" = 1 ] && command -v nft >/dev/null || return 0');
  });
});
