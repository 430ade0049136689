import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  ALLOWLIST_MAX_BYTES,
  ALLOWLIST_SYNC_EXIT,
  allowlistSizeProblem,
  amazonLinuxSyncSettings,
  renderAllowlistSync,
  squidPolicyOf,
} from "../lib/allowlist-sync";
import { parseEnvironment } from "../lib/config";
import { ALLOWLIST_EVENTS, allowlistParameterName } from "../lib/naming";
import { renderAllowlist } from "../lib/squid";
import { configFrom, EXAMPLES_DIR, fleetRaw, resourcesOf, synthEnvironment, verificationRaw } from "./helpers/stack";

/** Every resource of synthesized JSON as its JSON text, by "type.logicalId". */
function resourceTexts(json: string): Map<string, string> {
  const texts = new Map<string, string>();
  for (const [type, byId] of Object.entries(JSON.parse(json).resource ?? {}))
    for (const [id, body] of Object.entries(byId as Record<string, unknown>)) texts.set(`${type}.${id}`, JSON.stringify(body));
  return texts;
}

/** The resources whose JSON differs between two syntheses (added, removed or changed), as "type.logicalId". */
function changedResources(before: string, after: string): string[] {
  const [a, b] = [resourceTexts(before), resourceTexts(after)];
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
}

const typesOf = (keys: readonly string[]) => [...new Set(keys.map((k) => k.split(".")[0]))].sort();

/** The day-two edits of `services` the proxies must take without a new instance. */
const EDITS: Record<string, (raw: any) => void> = {
  "a service added by name on a port already relayed": (raw) =>
    raw.services.push({ name: "files", cidr: "172.16.0.0/24", domains: ["files.service.example"], ports: [8080] }),
  "a port added to a service": (raw) => raw.services[0].ports.push(8081),
  "from set on a service": (raw) => (raw.services[0].from = ["app"]),
  "a service removed": (raw) => raw.services.pop(),
};

/**
 * What may change, by edit, besides the allowlist parameter: the proxies' relay rule for a block and port (its
 * description names the services), and where a port comes or goes, the verification stand-in service, which listens
 * on every service port (its instance and the rule that admits the proxy VPC on that port).
 */
const ALSO_CHANGES: Record<string, string[]> = {
  "a service added by name on a port already relayed": ["aws_vpc_security_group_egress_rule"],
  "a port added to a service": ["aws_instance", "aws_vpc_security_group_egress_rule", "aws_vpc_security_group_ingress_rule"],
  "from set on a service": [],
  "a service removed": ["aws_instance", "aws_vpc_security_group_egress_rule", "aws_vpc_security_group_ingress_rule"],
};

describe.each([
  ["verification (one proxy)", verificationRaw],
  ["verification-fleet (a fleet)", () => fleetRaw()],
])("a change of services in %s", (_label, raw) => {
  const before = synthEnvironment(configFrom(raw())).json;

  it.each(Object.keys(EDITS))("%s changes the allowlist parameter and never a proxy's instance, template or group", (edit) => {
    const changed = raw();
    EDITS[edit](changed);
    const after = synthEnvironment(configFrom(changed)).json;
    const keys = changedResources(before, after);
    expect(typesOf(keys)).toEqual(["aws_ssm_parameter", ...ALSO_CHANGES[edit]].sort());
    expect(keys.filter((k) => /^aws_(launch_template|autoscaling_group|lb|iam_|cloudwatch_)/.test(k))).toEqual([]);
    // The only instance that may change is the verification stand-in service, never a proxy.
    expect(keys.filter((k) => k.startsWith("aws_instance.")).every((k) => k.startsWith("aws_instance.ServiceSide_"))).toBe(true);
    expect(keys.filter((k) => k.includes("_egress_rule.")).every((k) => /egress_rule\.Proxy_(Server_)?SecurityGroup_Out-/.test(k))).toBe(
      true,
    );
  });
});

describe("a service in a new block behind Direct Connect (the production example)", () => {
  const prod = () => JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, "production.json"), "utf8"));

  it("adds the proxy VPC's route to the block and the proxies' relay rule, besides the parameter, and nothing else", () => {
    const before = synthEnvironment(parseEnvironment(prod(), "production.json")).json;
    const raw = prod();
    raw.services.push({ name: "far", cidr: "198.51.100.0/28", ports: [443] });
    const keys = changedResources(before, synthEnvironment(parseEnvironment(raw, "production.json")).json);
    expect(typesOf(keys)).toEqual(["aws_route", "aws_ssm_parameter", "aws_vpc_security_group_egress_rule"]);
    expect(keys.filter((k) => k.startsWith("aws_route."))).toEqual([expect.stringMatching(/198_51_100_0_28/)]);
  });
});

describe("the allowlist parameter", () => {
  const raw = verificationRaw();
  raw.appVpcs.push({ name: "app2", cidr: "192.168.1.0/24", subnets: [{ availabilityZone: "ap-northeast-1c", cidr: "192.168.1.0/24" }] });
  raw.services[1].from = ["app"];
  const config = configFrom(raw);
  const { json } = synthEnvironment(config);
  const [parameter] = Object.values(resourcesOf(json, "aws_ssm_parameter"));

  it("is one String parameter in Intelligent-Tiering, named after the environment, holding the rendered allowlist", () => {
    expect(Object.keys(resourcesOf(json, "aws_ssm_parameter"))).toHaveLength(1);
    expect(parameter).toEqual(
      expect.objectContaining({ name: allowlistParameterName("verification"), type: "String", tier: "Intelligent-Tiering" }),
    );
    expect(parameter.value).toBe(renderAllowlist(squidPolicyOf(config)));
  });

  it("renders the per-app rules: a service with from matches those app VPCs' blocks only", () => {
    const lines = (parameter.value as string).split("\n");
    expect(lines).toContain("acl api_from src 192.168.0.0/24");
    expect(lines).toContain("http_access allow !CONNECT api_names api_dst api_http api_from");
    expect(lines).toContain("http_access allow !CONNECT service_dst service_http");
    expect(lines).toContain("note app_vpc verification-app app_verification-app");
    expect(lines).toContain("note app_vpc verification-app2 app_verification-app2");
  });

  it("leaves the proxies' security group admitting every app VPC: the allowlist decides", () => {
    const ingress = Object.values(resourcesOf(json, "aws_vpc_security_group_ingress_rule")).filter((r) => r.from_port === 3128);
    expect(ingress.map((r) => r.cidr_ipv4).sort()).toEqual(["192.168.0.0/24", "192.168.1.0/24"]);
  });

  it("names each app VPC by its VPC name in the policy, from included", () => {
    const policy = squidPolicyOf(config);
    expect(policy.clients.map((c) => c.name)).toEqual(["verification-app", "verification-app2"]);
    expect(policy.destinations.map((d) => d.from)).toEqual([undefined, ["verification-app"]]);
  });

  it("is refused at synthesis past 8 KB, saying how many services and domains made it", () => {
    const big = verificationRaw();
    for (let i = 0; i < 40; i++) {
      big.services.push({
        name: `partner-${i}`,
        cidr: "172.16.0.0/24",
        domains: [0, 1, 2, 3].map((n) => `host-${n}.partner-${i}.service.example`),
        ports: [8080],
      });
    }
    expect(() => synthEnvironment(configFrom(big))).toThrow(
      /^services: the allowlist rendered from 42 services \(162 domains\) and 1 app VPCs is \d+ bytes, more than the 8192 bytes \(8 KB\) an SSM parameter holds; merge services/,
    );
  });

  it("measures the limit in bytes, at exactly 8 KB", () => {
    const policy = squidPolicyOf(configFrom(verificationRaw()));
    expect(allowlistSizeProblem("x".repeat(ALLOWLIST_MAX_BYTES), policy)).toBeUndefined();
    expect(allowlistSizeProblem("x".repeat(ALLOWLIST_MAX_BYTES + 1), policy)).toMatch(/is 8193 bytes/);
    expect(allowlistSizeProblem("é".repeat(ALLOWLIST_MAX_BYTES / 2 + 1), policy)).toMatch(/is 8194 bytes/);
  });
});

describe("the proxies' user data", () => {
  const userDataOf = (raw: any) => {
    const { json } = synthEnvironment(configFrom(raw));
    return Object.values(resourcesOf(json, "aws_instance")).find((i) => i.tags.Name === "verification-proxy").user_data as string;
  };

  it("installs the poller for the environment's parameter, on the environment's poll interval", () => {
    const raw = verificationRaw();
    raw.proxy.allowlistPollSeconds = 45;
    const userData = userDataOf(raw);
    expect(userData).toContain(`--name '${allowlistParameterName("verification")}'`);
    expect(userData).toContain("\nOnUnitActiveSec=45s\n");
    expect(userData).toContain("\ninclude /etc/squid/allowlist.conf\n");
    expect(userData).not.toMatch(/acl |http_access allow|172\.16\.0\.0/);
  });
});

describe("squid-allowlist-sync, as text", () => {
  const script = renderAllowlistSync(amazonLinuxSyncSettings("/proxy-over-peering/verification/squid-allowlist"));
  const at = (text: string) => {
    const i = script.indexOf(text);
    expect(i).toBeGreaterThanOrEqual(0);
    return i;
  };

  it("fetches the version and text of its one parameter, in the instance's region", () => {
    expect(script).toContain(
      `aws ssm get-parameter --region "$(imds placement/region)" --name '/proxy-over-peering/verification/squid-allowlist' --query 'Parameter.[Version,Value]' --output text`,
    );
    expect(script).toContain("X-aws-ec2-metadata-token");
  });

  it("writes the new version beside the live file and parses it before it renames it over the live one, then reconfigures", () => {
    expect(at('>"$new"')).toBeLessThan(at('parsed=$(run_squid -k parse -f "$candidate" 2>&1)'));
    expect(at('parsed=$(run_squid -k parse -f "$candidate" 2>&1)')).toBeLessThan(at('mv -f "$new" "$live"'));
    expect(at('mv -f "$new" "$live"')).toBeLessThan(at('run_squid -f "$squid_conf" -k reconfigure'));
  });

  it("leaves the live file alone when the parse fails: that branch removes the new file and exits before the swap", () => {
    const failed = script.slice(at("if ! parsed="), at('rm -f "$candidate"\nmv -f'));
    expect(failed).toContain('rm -f "$new" "$candidate"');
    expect(failed).toContain(`exit ${ALLOWLIST_SYNC_EXIT.refused}`);
    expect(failed).not.toContain("mv ");
  });

  it("records each outcome as one JSON line with event, version, instance and detail", () => {
    expect(script).toContain(`printf '{"event":"%s","version":%s,"instance":"%s","detail":"%s"}\\n'`);
    expect(script).toContain(`event ${ALLOWLIST_EVENTS.applied} "$version"`);
    expect(script).toContain(`event ${ALLOWLIST_EVENTS.refused} "$version"`);
  });

  it("holds no Terraform template syntax and refuses a parameter name SSM would refuse", () => {
    expect(script).not.toMatch(/[$%]\{/);
    expect(() => amazonLinuxSyncSettings("/x/it's")).toThrow(/holds characters SSM refuses/);
  });
});

/** A fake squid: records its arguments; -k parse fails for a config whose included file holds BROKEN; -k check fails unless "running" exists. */
const FAKE_SQUID = `#!/bin/bash
dir=$(dirname "$(dirname "$0")")
echo "$*" >>"$dir/squid-calls"
conf=""; k=""
while [ $# -gt 0 ]; do case "$1" in -f) conf=$2; shift;; -k) k=$2; shift;; esac; shift; done
if [ "$k" = parse ]; then
  inc=$(awk '/^include /{print $2}' "$conf")
  if grep -q BROKEN "$inc"; then echo "2026/12/05 07:25:44| FATAL: Bungled $inc line 2: http_access allow \\"nosuch\\\\acl\\"" >&2; exit 1; fi
fi
if [ "$k" = check ] && [ ! -e "$dir/running" ]; then exit 1; fi
exit 0
`;

describe("squid-allowlist-sync, run against a fake squid and a file standing in for SSM", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "allowlist-sync-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, "bin"));
  fs.writeFileSync(path.join(dir, "bin", "squid"), FAKE_SQUID, { mode: 0o755 });
  const file = (name: string) => path.join(dir, name);
  const live = file("allowlist.conf");
  fs.writeFileSync(file("squid.conf"), `http_port 3128\ninclude ${live}\ncache deny all\n`);
  fs.writeFileSync(live, "http_access deny all\n");
  const script = renderAllowlistSync({
    fetch: `cat ${file("parameter")}`,
    instanceId: "echo i-0123456789abcdef0",
    squid: "squid -n allowlist-test",
    squidConf: file("squid.conf"),
    allowlistFile: live,
    stateDir: file("state"),
    updateLog: file("log/updates.log"),
  });
  fs.writeFileSync(file("sync"), script, { mode: 0o755 });

  /** Publishes `text` as `version` of the stand-in parameter, in the AWS CLI's text output. */
  const publish = (version: number | string, text: string) => fs.writeFileSync(file("parameter"), `${version}\t${text}`);
  const run = () => {
    const r = spawnSync("bash", [file("sync")], {
      encoding: "utf8",
      timeout: 20_000,
      env: { ...process.env, PATH: `${file("bin")}:${process.env.PATH}` },
    });
    return r.status;
  };
  const events = () =>
    fs.existsSync(file("log/updates.log"))
      ? fs
          .readFileSync(file("log/updates.log"), "utf8")
          .trimEnd()
          .split("\n")
          .map((l) => JSON.parse(l))
      : [];
  const calls = () => (fs.existsSync(file("squid-calls")) ? fs.readFileSync(file("squid-calls"), "utf8").trimEnd().split("\n") : []);
  const v1 = "acl localnet src 192.168.0.0/24\nhttp_access allow localnet\nhttp_access deny all\n";
  const v3 = "acl localnet src 192.168.0.0/24 192.168.1.0/24\nhttp_access allow localnet\nhttp_access deny all\n";

  it("applies a first version while Squid is stopped: the live file holds it, nothing is left beside it", () => {
    publish(1, v1);
    expect(run()).toBe(0);
    expect(fs.readFileSync(live, "utf8")).toBe(v1);
    expect(events()).toEqual([
      {
        event: "applied",
        version: 1,
        instance: "i-0123456789abcdef0",
        detail: "written; Squid is not running and reads it when it starts",
      },
    ]);
    expect(calls()).toEqual([
      `-n allowlist-test -k parse -f ${file("squid.conf.candidate")}`,
      `-n allowlist-test -f ${file("squid.conf")} -k check`,
    ]);
    expect(fs.readdirSync(dir).filter((f) => /\.new$|\.candidate$/.test(f))).toEqual([]);
  });

  it("does nothing for the version it applied: no parse, no log line", () => {
    const before = calls().length;
    expect(run()).toBe(0);
    expect(calls()).toHaveLength(before);
    expect(events()).toHaveLength(1);
  });

  it("refuses a version Squid does not parse, keeps the live file, and logs it once with Squid's reason", () => {
    fs.writeFileSync(file("running"), "");
    publish(2, `${v1}BROKEN\n`);
    expect(run()).toBe(ALLOWLIST_SYNC_EXIT.refused);
    expect(run()).toBe(ALLOWLIST_SYNC_EXIT.refused);
    expect(fs.readFileSync(live, "utf8")).toBe(v1);
    const refused = events().filter((e) => e.event === "refused");
    expect(refused).toHaveLength(1);
    expect(refused[0]).toEqual({
      event: "refused",
      version: 2,
      instance: "i-0123456789abcdef0",
      detail: `squid -k parse refused it; the live allowlist stays. FATAL: Bungled ${live}.new line 2: http_access allow "nosuch\\acl"`,
    });
    expect(calls().some((c) => c.includes("reconfigure"))).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => /\.new$|\.candidate$/.test(f))).toEqual([]);
  });

  it("applies the next good version and reconfigures the running Squid", () => {
    publish(3, v3);
    expect(run()).toBe(0);
    expect(fs.readFileSync(live, "utf8")).toBe(v3);
    expect(events()[events().length - 1]).toEqual({
      event: "applied",
      version: 3,
      instance: "i-0123456789abcdef0",
      detail: "Squid reconfigured and running",
    });
    expect(calls().slice(-4)).toEqual([
      `-n allowlist-test -k parse -f ${file("squid.conf.candidate")}`,
      `-n allowlist-test -f ${file("squid.conf")} -k check`,
      `-n allowlist-test -f ${file("squid.conf")} -k reconfigure`,
      `-n allowlist-test -f ${file("squid.conf")} -k check`,
    ]);
  });

  it("exits for a retry, logging nothing, when the fetch fails or prints no version", () => {
    const logged = events().length;
    fs.rmSync(file("parameter"));
    expect(run()).toBe(ALLOWLIST_SYNC_EXIT.fetchFailed);
    publish("ParameterNotFound", v1);
    expect(run()).toBe(ALLOWLIST_SYNC_EXIT.fetchFailed);
    expect(events()).toHaveLength(logged);
    expect(fs.readFileSync(live, "utf8")).toBe(v3);
  });

  it("refuses a version when squid.conf does not include the live file, which it could not check", () => {
    fs.writeFileSync(file("squid.conf"), "http_port 3128\n");
    publish(4, v1);
    expect(run()).toBe(ALLOWLIST_SYNC_EXIT.refused);
    expect(events()[events().length - 1]).toEqual(
      expect.objectContaining({ event: "refused", version: 4, detail: expect.stringMatching(/has no line 'include /) }),
    );
    expect(fs.readFileSync(live, "utf8")).toBe(v3);
  });
});
