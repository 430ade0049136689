import * as path from "path";
import { loadEnvironmentFile } from "../lib/config";
import { outputNames, serverNames } from "../lib/naming";
import { flowPlans } from "../operations/verify/analyzer";
import { AppResult } from "../operations/verify/commands";
import { judge } from "../operations/verify/judge";
import { parseSquidLine, SquidLine } from "../operations/verify/squid-log";
import { DeployedState, parseState } from "../operations/verify/state";
import { verifyTargets } from "../operations/verify/targets";

const env = loadEnvironmentFile(path.join(__dirname, "..", "demos", "privatelink.json"));
const NONCE = "abc123";
/** Both app servers have the same address: their VPCs share 192.168.0.0/24. */
const ADDRESS = "192.168.0.10";
const DNS = {
  app1: "vpce-0a1-app1.vpce-svc-0b2.ap-northeast-1.vpce.amazonaws.com",
  app2: "vpce-0c3-app2.vpce-svc-0b2.ap-northeast-1.vpce.amazonaws.com",
};
const state: DeployedState = {
  outputs: {
    [outputNames.appServerId("app1")]: "i-0000000000000app1",
    [outputNames.appServerId("app2")]: "i-0000000000000app2",
    [outputNames.appProxyEndpointDns("app1")]: DNS.app1,
    [outputNames.appProxyEndpointDns("app2")]: DNS.app2,
    [outputNames.proxyUrl]: "http://internal-lb.elb.amazonaws.com:3128",
    [outputNames.proxyAccessLogGroup]: "/proxy-over-peering/privatelink/squid-access",
  },
  addresses: [],
  instancesByName: {
    [serverNames.appServer("privatelink", "app1")]: { id: "i-0000000000000app1", privateIp: ADDRESS },
    [serverNames.appServer("privatelink", "app2")]: { id: "i-0000000000000app2", privateIp: ADDRESS },
  },
  instancesById: {
    "i-0000000000000app1": { id: "i-0000000000000app1", privateIp: ADDRESS },
    "i-0000000000000app2": { id: "i-0000000000000app2", privateIp: ADDRESS },
  },
  idsByType: {},
  endpointIdsByDns: { [DNS.app1]: "vpce-0a1", [DNS.app2]: "vpce-0c3" },
  serial: 1,
};

/** What an app server reports: each request through its own endpoint, answered; no direct connection. */
function results(app: "app1" | "app2", proxy = `http://${DNS[app]}:${env.proxy.port}/`): AppResult[] {
  const targets = verifyTargets(env, state);
  return [
    ...targets.requests.map((r): AppResult => ({
      kind: "proxied",
      url: `${r.url.replace(/\/$/, "")}/verify-${NONCE}`,
      status: 404,
      proxy,
    })),
    ...targets.requests.map((r): AppResult => ({ kind: "direct", host: r.direct.host, port: r.direct.port, connected: false })),
  ];
}

/** Squid's line for each request of `app`, with its app VPC column. */
function squidLines(app: "app1" | "app2"): SquidLine[] {
  return verifyTargets(env, state).requests.map((r) => {
    const url = new URL(r.url);
    const logged =
      url.protocol === "https:" ? `CONNECT ${url.hostname}:${url.port || 443}` : `GET ${r.url.replace(/\/$/, "")}/verify-${NONCE}`;
    const line = parseSquidLine(
      `1767225600.101 4 ${ADDRESS} TCP_MISS/200 512 ${logged} - HIER_DIRECT/172.16.0.10 text/plain privatelink-${app}`,
    );
    if (!line) throw new Error(`unparsed ${logged}`);
    return line;
  });
}

describe("npm run verify behind PrivateLink", () => {
  it("expects each app server's proxy setting to be its own VPC's endpoint, and names its VPC for Squid's log", () => {
    const targets = verifyTargets(env, state);
    expect(targets.apps.map((a) => [a.name, a.vpcName, a.proxyUrl])).toEqual([
      ["app1", "privatelink-app1", `http://${DNS.app1}:${env.proxy.port}`],
      ["app2", "privatelink-app2", `http://${DNS.app2}:${env.proxy.port}`],
    ]);
  });

  it("passes when both servers go through their endpoints and Squid logged each VPC's requests", () => {
    const checks = judge(verifyTargets(env, state), {
      nonce: NONCE,
      apps: { app1: results("app1"), app2: results("app2") },
      squid: [...squidLines("app1"), ...squidLines("app2")],
    });
    expect(checks.filter((c) => !c.pass)).toEqual([]);
    expect(checks.filter((c) => c.name.startsWith("Squid's log"))).toHaveLength(2 * verifyTargets(env, state).requests.length);
  });

  it("fails app2's Squid checks when only app1's lines exist, though they have app2's address, and a setting pointing at the load balancer", () => {
    const checks = judge(verifyTargets(env, state), {
      nonce: NONCE,
      apps: { app1: results("app1"), app2: results("app2", "http://internal-lb.elb.amazonaws.com:3128/") },
      squid: squidLines("app1"),
    });
    const failed = checks.filter((c) => !c.pass);
    const requests = verifyTargets(env, state).requests.length;
    expect(failed.filter((c) => c.name.startsWith("Squid's log: app2"))).toHaveLength(requests);
    expect(failed.filter((c) => c.name.startsWith("Squid's log: app1"))).toHaveLength(0);
    expect(failed.filter((c) => c.name.startsWith("app2 -> ")).map((c) => c.evidence)).toEqual(
      Array(requests).fill(
        `the machine's proxy setting sends it to http://internal-lb.elb.amazonaws.com:3128/, not http://${DNS.app2}:${env.proxy.port}`,
      ),
    );
  });

  it("has Reachability Analyzer end an app's path to the proxy at its own VPC's endpoint, never at the proxy in another VPC", () => {
    const plans = flowPlans(env, state, ["i-0000000000000prox"], (f) => `${f.from} -> ${f.to}:${f.port}`);
    const toProxy = plans.filter((p) => p.label.endsWith("-> proxy:3128"));
    expect(toProxy.map((p) => [p.label, p.hops.map((h) => `${h.source} -> ${h.destination}:${h.port}`)])).toEqual([
      ["app1 -> proxy:3128", ["i-0000000000000app1 -> vpce-0a1:3128"]],
      ["app2 -> proxy:3128", ["i-0000000000000app2 -> vpce-0c3:3128"]],
      ["service -> proxy:3128", []],
    ]);
    const unknown = flowPlans(env, { ...state, endpointIdsByDns: {} }, ["i-0000000000000prox"], (f) => `${f.from} -> ${f.to}`);
    expect(unknown[0].skipped).toBe("app VPC app1's interface endpoint to the proxy is not in the state");
  });

  it("reads each interface endpoint's id by its first DNS name from the state file", () => {
    const endpoint = (name: string, id: string, dns: string[]) => ({
      mode: "managed",
      type: "aws_vpc_endpoint",
      name,
      instances: [{ attributes: { id, dns_entry: dns.map((dns_name) => ({ dns_name, hosted_zone_id: "Z1" })) } }],
    });
    const parsed = parseState(
      JSON.stringify({
        version: 4,
        serial: 3,
        resources: [endpoint("a", "vpce-0a1", [DNS.app1, `ap-northeast-1a-${DNS.app1}`]), endpoint("b", "vpce-0c3", [DNS.app2])],
      }),
    );
    expect(parsed.endpointIdsByDns).toEqual({ [DNS.app1]: "vpce-0a1", [DNS.app2]: "vpce-0c3" });
  });
});
