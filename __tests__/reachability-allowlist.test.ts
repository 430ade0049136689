import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig, loadEnvironmentFile } from "../lib/config";
import { allowlistParameterName } from "../lib/naming";
import {
  allowlistJudgement,
  allowlistOf,
  analyzeReachability,
  expectedFlowsOf,
  flowLabel,
  flowMismatches,
  isAllowlistBlock,
  surroundingsOf,
  verdictFor,
} from "../proof/reachability";
import { CONFIG_DIR, configFrom, EXAMPLES_DIR, synthEnvironment, verificationRaw } from "./helpers/stack";

const PER_APP = path.join(EXAMPLES_DIR, "per-app-services.json");
const perAppRaw = () => JSON.parse(fs.readFileSync(PER_APP, "utf8"));

/** The analysis of an environment's synthesized stack. */
function analysed(env: EnvironmentConfig) {
  return { report: analyzeReachability(JSON.parse(synthEnvironment(env).json), surroundingsOf(env)) };
}

const flowNamed = (env: EnvironmentConfig, label: string) => {
  const flow = expectedFlowsOf(env).find((f) => flowLabel(f) === label);
  if (!flow) throw new Error(`no flow ${label} in ${expectedFlowsOf(env).map(flowLabel).join(", ")}`);
  return flow;
};

describe("the proxy's allowlist in the reachability analysis (examples/per-app-services.json)", () => {
  const env = loadEnvironmentFile(PER_APP);
  const { report } = analysed(env);
  const paymentsFrom = (app: string) =>
    flowNamed(
      env,
      `per-app-services-${app} (192.168.${app === "orders" ? 20 : 30}.0/24) -> payments (172.31.100.0/24):443 via per-app-services-proxy`,
    );

  it("reads the allowlist from the stack's SSM parameter", () => {
    expect(report.allowlist?.parameter).toBe(allowlistParameterName("per-app-services"));
    expect(report.allowlist?.environment).toBe("per-app-services");
    expect(report.allowlist?.text).toMatch(/^acl payments_from src 192\.168\.20\.0\/24$/m);
  });

  it("meets every expected flow, the one from an app VPC outside the service's from denied", () => {
    expect(flowMismatches(report, expectedFlowsOf(env))).toEqual([]);
  });

  it("denies reporting the payments service by the proxy alone, naming the deciding line and what the allow line lacks", () => {
    const denied = verdictFor(report, paymentsFrom("reporting"))!;
    expect(denied.allowed).toBe(false);
    // Both connections get through; only the allowlist refuses.
    expect(denied.reasons.filter(isAllowlistBlock)).toHaveLength(1);
    expect(denied.reasons.filter((r) => r.startsWith("BLOCKED: "))).toEqual([
      expect.stringMatching(
        /^BLOCKED: per-app-services-proxy's allowlist \(SSM parameter \/proxy-over-peering\/per-app-services\/squid-allowlist\) allows no request from 192\.168\.30\.0\/24 to 172\.31\.100\.0\/24 on 443; the nearest, CONNECT payments\.provider\.example:443 from 192\.168\.30\.0\/24 \(payments\.provider\.example resolving into 172\.31\.100\.0\/24\), is denied by line \d+: http_access deny all; the nearest allow line, line \d+: http_access allow CONNECT payments_names payments_dst payments_tls payments_from, lacks payments_from \(src 192\.168\.20\.0\/24\)$/,
      ),
    ]);
    const allowed = verdictFor(report, paymentsFrom("orders"))!;
    expect(allowed.allowed).toBe(true);
    expect(allowed.reasons.at(-1)).toMatch(
      /allows CONNECT payments\.provider\.example:443 from 192\.168\.20\.0\/24 .*: allowed by line \d+: http_access allow CONNECT payments_names payments_dst payments_tls payments_from$/,
    );
  });

  it("would let reporting through without from, and the expectation would then fail", () => {
    const raw = perAppRaw();
    delete raw.services[0].from;
    const open = configFrom(raw);
    const mismatches = flowMismatches(analysed(open).report, expectedFlowsOf(open));
    expect(mismatches.map((m) => flowLabel(m.flow))).toEqual([
      "per-app-services-reporting (192.168.30.0/24) -> payments (172.31.100.0/24):443 via per-app-services-proxy",
    ]);
  });

  it("finds no request allowed by a port the allowlist does not open, even when the security groups would", () => {
    const from = report.endpoints.find((e) => e.name.startsWith("per-app-services-orders"))!;
    const to = report.endpoints.find((e) => e.name.startsWith("payments"))!;
    expect(allowlistJudgement(report.allowlist!, "proxy", from, to, 443).allowed).toBe(true);
    const closed = allowlistJudgement(report.allowlist!, "proxy", from, to, 8443);
    expect(closed.allowed).toBe(false);
    expect(closed.reasons[0]).toMatch(/is denied by line \d+: http_access deny !Safe_ports$/);
  });
});

describe("the allowlist in the verification demo with app2 (api only for app)", () => {
  const raw = verificationRaw();
  raw.appVpcs.push({
    ...raw.appVpcs[0],
    name: "app2",
    cidr: "192.168.1.0/24",
    subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "192.168.1.0/25" }],
  });
  raw.services[1].from = ["app"];
  const env = configFrom(raw);
  const { report } = analysed(env);
  const through = (app: string, port: number) =>
    verdictFor(report, {
      from: `verification-${app}-server`,
      to: "verification-service",
      port,
      allowed: true,
      via: { name: "verification-proxy", port: 3128 },
    })!;

  it("lets app2's server use the service open to all, and refuses it api (8080) with the reason", () => {
    expect([
      through("app", 8080).allowed,
      through("app2", 8080).allowed,
      through("app2", 80).allowed,
      through("app2", 8443).allowed,
    ]).toEqual([true, false, true, true]);
    expect(through("app2", 8080).reasons.at(-1)).toMatch(
      /GET api\.service\.example:8080 from 192\.168\.1\.\S+ .* lacks api_from \(src 192\.168\.0\.0\/24\)$/,
    );
  });
});

describe("allowlistOf", () => {
  it("finds none where the egress runs no Squid (private NAT)", () => {
    const env = loadEnvironmentFile(path.join(CONFIG_DIR, "transit-gateway.json"));
    const json = JSON.parse(synthEnvironment(env).json);
    expect(allowlistOf(json)).toBeUndefined();
    expect(analyzeReachability(json, surroundingsOf(env)).allowlist).toBeUndefined();
  });

  it("refuses two allowlist parameters and a value it cannot read", () => {
    const parameter = (name: string, value: unknown) => ({ name, value });
    const two = {
      resource: { aws_ssm_parameter: { a: parameter(allowlistParameterName("x"), ""), b: parameter(allowlistParameterName("y"), "") } },
    };
    expect(() => allowlistOf(two)).toThrow(/the stack has 2 allowlist parameters/);
    const token = { resource: { aws_ssm_parameter: { a: parameter(allowlistParameterName("x"), { ref: 1 }) } } };
    expect(() => allowlistOf(token)).toThrow(/has no literal value to analyse/);
    const other = { resource: { aws_ssm_parameter: { a: parameter("/proxy-over-peering/x/other", "http_access deny all") } } };
    expect(allowlistOf(other)).toBeUndefined();
  });
});
