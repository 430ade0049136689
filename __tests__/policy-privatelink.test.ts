import * as path from "path";
import { VpcEndpointServiceAllowedPrincipal } from "@cdktf/provider-aws/lib/vpc-endpoint-service-allowed-principal";
import { TerraformStack, Testing } from "cdktf";
import { Construct } from "constructs";
import { checkStack } from "../lib/policy/pack";
import { squidListeners } from "../lib/policy/proxy-targets";
import { POLICY_RULES } from "../lib/policy/rules";
import { renderSquidBase } from "../lib/squid";
import { loadEnvironmentFile } from "../lib/config";
import { resourceViews } from "../lib/tf-json";
import { CONFIG_DIR, synthEnvironment } from "./helpers/stack";
import { endpointService, EndpointServiceShape } from "./helpers/privatelink-fixtures";

/** The problems that one rule finds in what `build` creates in a fresh stack. */
function problems(id: string, build: (scope: Construct) => void): string[] {
  const stack = new TerraformStack(Testing.app(), "s");
  build(stack);
  return checkStack(
    stack,
    POLICY_RULES.filter((r) => r.id === id),
  ).violations.map((v) => v.problem);
}

const REQUIRED = "http_port 3128 require-proxy-header";
const service = (shape: Partial<EndpointServiceShape>) => (s: Construct) =>
  void endpointService(s, { proxyProtocol: true, httpPort: REQUIRED, ...shape });

describe("PX-VPCE-PROXY-PROTOCOL: the endpoint service's target groups and their Squid agree on PROXY protocol v2", () => {
  const rule = "PX-VPCE-PROXY-PROTOCOL";

  it("passes when the target group sends the header and Squid requires it, and when neither does", () => {
    expect(problems(rule, service({}))).toEqual([]);
    expect(problems(rule, service({ proxyProtocol: false, httpPort: "http_port 3128" }))).toEqual([]);
  });

  it("names a target group that sends the header to a Squid that does not require it (the reverse)", () => {
    expect(problems(rule, service({ httpPort: "http_port 3128" }))).toEqual([
      expect.stringMatching(
        /^target group G sends PROXY protocol v2 but the Squid of aws_launch_template\.T does not require the header on port 3128: Squid would read the header as the start of a request/,
      ),
    ]);
  });

  it("reads attached instances' plain user data as well as launch templates' base64", () => {
    expect(problems(rule, service({ targets: "instance" }))).toEqual([]);
    expect(problems(rule, service({ targets: "instance", proxyProtocol: false }))).toEqual([
      expect.stringMatching(
        /target group G does not send PROXY protocol v2 .* the Squid of aws_instance\.P requires the header on port 3128/,
      ),
    ]);
  });

  it("reads an http_port line with an address, and judges only Squid's listener on the target group's port", () => {
    expect(problems(rule, service({ proxyProtocol: false, httpPort: "http_port 10.0.0.10:3128 require-proxy-header" }))).toHaveLength(1);
    // A Squid that listens elsewhere is no target of this group: nothing to judge.
    expect(problems(rule, service({ proxyProtocol: false, httpPort: "http_port 8080 require-proxy-header" }))).toEqual([]);
  });
});

describe("PX-VPCE-NO-WILDCARD-PRINCIPAL: only named principals", () => {
  const rule = "PX-VPCE-NO-WILDCARD-PRINCIPAL";

  it("passes accounts, roles and principals built from references", () => {
    expect(
      problems(
        rule,
        service({ principals: ["arn:aws:iam::111122223333:root", "arn:aws:iam::${data.aws_caller_identity.me.account_id}:root"] }),
      ),
    ).toEqual([]);
  });

  it('names "*" and an ARN with a wildcard account', () => {
    expect(problems(rule, service({ principals: ["arn:aws:iam::111122223333:root", "arn:aws:iam::*:root"] }))).toEqual([
      'allowed_principals lists "arn:aws:iam::*:root": any AWS account could create an endpoint to the proxy and use it at once',
    ]);
  });

  it("checks principals added one by one (aws_vpc_endpoint_service_allowed_principal)", () => {
    const add = (principalArn: string) => (s: Construct) =>
      void new VpcEndpointServiceAllowedPrincipal(s, "P", { vpcEndpointServiceId: "vpce-svc-1", principalArn });
    expect(problems(rule, add("arn:aws:iam::111122223333:role/app"))).toEqual([]);
    expect(problems(rule, add("*"))).toEqual([expect.stringMatching(/^principal_arn is "\*": any AWS account/)]);
  });
});

describe("squidListeners", () => {
  it("reads the http_port lines of the project's own squid.conf, and none from comments", () => {
    const conf = renderSquidBase({ environment: "e", port: 3128 });
    expect(squidListeners(conf)).toEqual([{ port: 3128, options: [] }]);
    expect(squidListeners(`# http_port 3128 require-proxy-header\n  http_port [::1]:3129 require-proxy-header name=x\n`)).toEqual([
      { port: 3129, options: ["require-proxy-header", "name=x"] },
    ]);
  });
});

describe("the privatelink demo", () => {
  const json = () => JSON.parse(synthEnvironment(loadEnvironmentFile(path.join(CONFIG_DIR, "privatelink.json"))).json);
  /** The problems `id` finds in synthesized JSON, judged as the pack judges a stack. */
  const judge = (id: string, stack: any): string[] => {
    const resources = resourceViews(stack);
    const view = { resourcesOf: (type: string) => resources.filter((r) => r.type === type) };
    const rule = POLICY_RULES.find((r) => r.id === id)!;
    return resources
      .filter((r) => rule.resourceTypes.includes(r.type))
      .map((r) => rule.check(r, view))
      .filter((p): p is string => p !== undefined);
  };

  it("complies: named principals, and a target group that sends the header Squid's user data requires", () => {
    const stack = json();
    expect(Object.keys(stack.resource.aws_vpc_endpoint_service)).toHaveLength(1);
    expect(judge("PX-VPCE-NO-WILDCARD-PRINCIPAL", stack)).toEqual([]);
    expect(judge("PX-VPCE-PROXY-PROTOCOL", stack)).toEqual([]);
  });

  it("breaks PX-VPCE-PROXY-PROTOCOL when its target group stops sending the header, and the principals rule with a *", () => {
    const stack = json();
    for (const group of Object.values<any>(stack.resource.aws_lb_target_group)) group.proxy_protocol_v2 = false;
    expect(judge("PX-VPCE-PROXY-PROTOCOL", stack)).toEqual([
      expect.stringMatching(/does not send PROXY protocol v2 .* the Squid of aws_launch_template\.\S+ requires the header on port 3128/),
    ]);
    for (const service of Object.values<any>(stack.resource.aws_vpc_endpoint_service)) service.allowed_principals.push("*");
    expect(judge("PX-VPCE-NO-WILDCARD-PRINCIPAL", stack)).toHaveLength(1);
  });
});
