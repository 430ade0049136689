import * as path from "path";
import { LocalBackend, Testing, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { EnvironmentStack } from "../../constructs/environment-stack";
import { FlowLogRole } from "../../constructs/flow-log-role";
import { EnvironmentConfig } from "../../lib/config";
import { loadEnvironmentFile, parseEnvironment } from "../../lib/config";

/** The demo environments that the tests prove (demos/). */
export const CONFIG_DIR = path.join(__dirname, "..", "..", "demos");

/** The repository's examples folder: templates, validated and synthesized in the tests, never by `npx cdktf synth`. */
export const EXAMPLES_DIR = path.join(__dirname, "..", "..", "examples");

/** The raw JSON of the verification environment, a fresh copy each call, to edit in tests. */
export function verificationRaw(): any {
  return JSON.parse(JSON.stringify(require(path.join(CONFIG_DIR, "verification.json"))));
}

/** The verification environment, validated. */
export function verificationConfig(): EnvironmentConfig {
  return loadEnvironmentFile(path.join(CONFIG_DIR, "verification.json"));
}

/** Validates edited raw JSON. */
export function configFrom(raw: unknown): EnvironmentConfig {
  return parseEnvironment(raw, "test.json");
}

/** A local backend, so that terraform init needs no S3. */
export function localBackend(stack: TerraformStack): void {
  new LocalBackend(stack, { path: "terraform.tfstate" });
}

/** Synthesizes an environment into a fresh app; returns the stack and its JSON text. */
export function synthEnvironment(
  config: EnvironmentConfig = verificationConfig(),
  withS3 = false,
): { stack: EnvironmentStack; json: string } {
  const app = Testing.app();
  const stack = new EnvironmentStack(app, config.name, { config, stateBackend: withS3 ? undefined : localBackend });
  return { stack, json: Testing.synth(stack) };
}

/** The resources of one type in synthesized JSON, by logical id. */
export function resourcesOf(json: string, type: string): Record<string, any> {
  return JSON.parse(json).resource?.[type] ?? {};
}

/** The reference text for an attribute of a resource, as it appears in synthesized JSON. */
export function ref(type: string, logicalId: string, attribute = "id"): string {
  return `\${${type}.${logicalId}.${attribute}}`;
}

/** Flow log settings for constructs tested on their own. */
export function testFlowLogs(scope: Construct): { role: FlowLogRole; retentionInDays: number } {
  const existing = scope.node.tryFindChild("FlowLogRole") as FlowLogRole | undefined;
  return { role: existing ?? new FlowLogRole(scope, "FlowLogRole", { name: "test-flow-logs", vpcNamePrefix: "" }), retentionInDays: 7 };
}

/** The verification environment's raw JSON with a second proxy subnet (the resolver endpoint's subnets then) and, unless `fleet` is undefined, a proxy fleet. */
export function fleetRaw(fleet: Record<string, unknown> | undefined = { size: 2 }): any {
  const raw = verificationRaw();
  raw.proxyVpc.subnets = [
    { availabilityZone: "ap-northeast-1a", cidr: "10.0.0.0/25" },
    { availabilityZone: "ap-northeast-1c", cidr: "10.0.0.128/25" },
  ];
  // The second subnet takes the rest of the block: the resolver endpoint uses the two proxy subnets instead.
  if (raw.dns) delete raw.dns.endpointSubnets;
  if (fleet) raw.proxy.fleet = fleet;
  return raw;
}
