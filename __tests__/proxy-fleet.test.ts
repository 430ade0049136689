import * as path from "path";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { Testing } from "cdktf";
import { EnvironmentStack } from "../constructs/environment-stack";
import { ProxyFleet } from "../constructs/egress/proxy-fleet";
import { parseAllowlist } from "../lib/allowlist-policy";
import { loadEnvironmentFile } from "../lib/config";
import { enforcePolicy } from "../lib/policy/pack";
import { CONFIG_DIR, configFrom, EXAMPLES_DIR, fleetRaw, localBackend, resourcesOf, synthEnvironment } from "./helpers/stack";

/** The verification environment with a fleet of two, and `fleet`'s settings. */
const fleetOf = (fleet: Record<string, unknown> = {}) => fleetRaw({ size: 2, ...fleet });

describe("a proxy fleet", () => {
  const { json } = synthEnvironment(configFrom(fleetOf({ deregistrationDelaySeconds: 120 })));
  const parsed = JSON.parse(json);
  const one = (type: string) => {
    const all = Object.values(resourcesOf(json, type));
    expect(all).toHaveLength(1);
    return all[0];
  };
  const rulesOf = (groupName: string) => {
    const [id] = Object.entries(resourcesOf(json, "aws_security_group")).find(([, g]) => g.name === groupName) ?? [];
    const ref = `\${aws_security_group.${id}.id}`;
    return {
      ingress: Object.values(resourcesOf(json, "aws_vpc_security_group_ingress_rule")).filter((r) => r.security_group_id === ref),
      egress: Object.values(resourcesOf(json, "aws_vpc_security_group_egress_rule")).filter((r) => r.security_group_id === ref),
      ref,
    };
  };

  it("puts an internal Network Load Balancer in front, with a fixed address in each proxy subnet and cross-zone balancing", () => {
    expect(json).toHaveResourceWithProperties(Lb, {
      internal: true,
      load_balancer_type: "network",
      enable_cross_zone_load_balancing: true,
    });
    expect(one("aws_lb").subnet_mapping.map((m: any) => m.private_ipv4_address)).toEqual(["10.0.0.10", "10.0.0.138"]);
  });

  it("forwards the proxy port over TCP to a target group that keeps client addresses, checks health and drains", () => {
    expect(json).toHaveResourceWithProperties(LbListener, {
      port: 3128,
      protocol: "TCP",
      default_action: [expect.objectContaining({ type: "forward" })],
    });
    expect(json).toHaveResourceWithProperties(LbTargetGroup, {
      protocol: "TCP",
      port: 3128,
      target_type: "instance",
      preserve_client_ip: "true",
      deregistration_delay: "120",
      health_check: expect.objectContaining({
        enabled: true,
        protocol: "TCP",
        port: "traffic-port",
        interval: 10,
        timeout: 10,
        healthy_threshold: 2,
        unhealthy_threshold: 2,
      }),
    });
  });

  it("keeps the health check's timeout within a short interval, as AWS requires", () => {
    const short = JSON.parse(synthEnvironment(configFrom(fleetOf({ healthCheckIntervalSeconds: 5 }))).json);
    expect((Object.values(short.resource.aws_lb_target_group)[0] as any).health_check).toEqual(
      expect.objectContaining({ interval: 5, timeout: 5 }),
    );
  });

  it("runs the proxies in an Auto Scaling group over both zones, healthy by the load balancer, refreshed from the template's latest version", () => {
    expect(json).toHaveResourceWithProperties(AutoscalingGroup, {
      min_size: 2,
      max_size: 2,
      desired_capacity: 2,
      health_check_type: "ELB",
      health_check_grace_period: 300,
    });
    const group = one("aws_autoscaling_group");
    expect(group.vpc_zone_identifier).toHaveLength(2);
    expect(group.launch_template.version).toMatch(/^\$\{aws_launch_template\.\w+\.latest_version\}$/);
    expect(group.launch_template.version).not.toBe("$Latest");
    expect(group.instance_refresh).toEqual({
      strategy: "Rolling",
      preferences: { min_healthy_percentage: 100, max_healthy_percentage: 200 },
    });
    expect(group.target_group_arns).toEqual([expect.stringMatching(/^\$\{aws_lb_target_group\.\w+\.arn\}$/)]);
  });

  it("tags the group with the environment's owner tags (default tags do not reach a group), given to its proxies too", () => {
    const tags = Object.fromEntries(one("aws_autoscaling_group").tag.map((t: any) => [t.key, [t.value, t.propagate_at_launch]]));
    expect(tags).toEqual({
      Project: ["proxy-over-peering", true],
      Environment: ["verification", true],
      ManagedBy: ["cdktf", true],
      Name: ["verification-proxy", true],
    });
    expect(parsed.provider.aws[0].default_tags[0].tags).toEqual({
      Project: "proxy-over-peering",
      Environment: "verification",
      ManagedBy: "cdktf",
    });
  });

  it("launches proxies with IMDSv2, an encrypted gp3 root volume, the proxy role and the same user data and allowlist as the single proxy", () => {
    const template = one("aws_launch_template");
    expect(template.metadata_options).toEqual({ http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 1 });
    expect(template.block_device_mappings[0].ebs).toEqual(expect.objectContaining({ encrypted: "true", volume_type: "gp3" }));
    expect(template.iam_instance_profile.name).toMatch(/aws_iam_instance_profile\.ProxyRole/);
    const userData = Buffer.from(template.user_data, "base64").toString("utf8");
    expect(userData).not.toContain("acl localnet");
    expect(userData).toContain("dnf install -y squid");
    expect(userData).toContain('"log_group_name": "/proxy-over-peering/verification/squid-access"');
    const singleRaw = fleetRaw();
    delete singleRaw.proxy.fleet;
    const single = synthEnvironment(configFrom(singleRaw));
    const singleProxy = Object.values(resourcesOf(single.json, "aws_instance")).find((i) => i.tags.Name === "verification-proxy");
    expect(userData).toBe(singleProxy.user_data);
    expect(one("aws_ssm_parameter").value).toContain("acl localnet src 192.168.0.0/24\n");
    expect(one("aws_ssm_parameter").value).toBe(Object.values(resourcesOf(single.json, "aws_ssm_parameter"))[0].value);
  });

  it("gives the proxies' role a read of the allowlist parameter alone, and a log group for its updates", () => {
    const read = Object.values(resourcesOf(json, "aws_iam_role_policy")).filter((p) => /ProxyRole/.test(p.role));
    expect(read).toHaveLength(1);
    expect(JSON.parse(read[0].policy).Statement).toEqual([
      {
        Effect: "Allow",
        Action: ["ssm:GetParameter"],
        Resource: [expect.stringMatching(/^\$\{aws_ssm_parameter\.Proxy_Allowlist_\w+\.arn\}$/)],
      },
    ]);
    const groups = Object.values(resourcesOf(json, "aws_cloudwatch_log_group")).map((g) => [g.name, g.retention_in_days]);
    expect(groups).toContainEqual(["/proxy-over-peering/verification/squid-allowlist", 365]);
  });

  it("lets the load balancer take the proxy port from the app VPCs only, and the proxies take it only from the load balancer", () => {
    const lb = rulesOf("verification-proxy-lb");
    expect(lb.ingress.map((r) => [r.cidr_ipv4, r.from_port])).toEqual([["192.168.0.0/24", 3128]]);
    const proxies = rulesOf("verification-proxy");
    expect(proxies.ingress).toHaveLength(1);
    // Client addresses are preserved, so a rule by CIDR would also admit app servers that skip the
    // load balancer; the rule names the load balancer's group instead.
    expect(proxies.ingress[0]).toEqual(expect.objectContaining({ referenced_security_group_id: lb.ref, from_port: 3128 }));
    expect(proxies.ingress[0].cidr_ipv4).toBeUndefined();
    expect(proxies.egress.map((r) => [r.cidr_ipv4, r.from_port]).filter(([c]) => c === "172.16.0.0/24")).toEqual([
      ["172.16.0.0/24", 8080],
      ["172.16.0.0/24", 80],
      ["172.16.0.0/24", 8443],
    ]);
  });

  it("gives app servers the load balancer's DNS name, which no single zone carries, and lets them reach each of its addresses", () => {
    const appInstance = Object.values(resourcesOf(json, "aws_instance")).find((i) => i.user_data.startsWith("<powershell>"));
    expect(appInstance.user_data).toMatch(/\$proxy = '\$\{aws_lb\.\w+\.dns_name\}:3128'/);
    const app = rulesOf("verification-app-server");
    expect(
      app.egress
        .filter((r) => r.from_port === 3128)
        .map((r) => r.cidr_ipv4)
        .sort(),
    ).toEqual(["10.0.0.10/32", "10.0.0.138/32"]);
    expect(parsed.output.proxy_url.value).toMatch(/^http:\/\/\$\{aws_lb\.\w+\.dns_name\}:3128$/);
    expect(parsed.output.proxy_load_balancer_addresses.value).toEqual(["10.0.0.10", "10.0.0.138"]);
  });

  it("alarms on unhealthy proxies instead of recovering one instance", () => {
    const alarms = Object.values(resourcesOf(json, "aws_cloudwatch_metric_alarm"));
    expect(alarms.map((a) => [a.alarm_name, a.namespace, a.metric_name])).toEqual([
      ["verification-proxy-unhealthy-hosts", "AWS/NetworkELB", "UnHealthyHostCount"],
    ]);
    expect(Object.values(resourcesOf(json, "aws_instance"))).toHaveLength(2);
  });

  it("complies with the policy pack without suppressions", () => {
    const app = Testing.app();
    new EnvironmentStack(app, "verification", { config: configFrom(fleetOf()), stateBackend: localBackend });
    expect(enforcePolicy(app)).toEqual([]);
  });
});

describe("deletion protection of the fleet's load balancer", () => {
  const reason = "a test environment that is torn down after each run";
  const unprotected = () => ({
    ...fleetOf({ deletionProtection: false }),
    policySuppressions: [{ rule: "PX-ELB-DELETION-PROTECTION", path: "Proxy", reason }],
  });

  it("is on by default", () => {
    const { json } = synthEnvironment(configFrom(fleetOf()));
    expect(json).toHaveResourceWithProperties(Lb, { internal: true, enable_deletion_protection: true });
  });

  it("is off when the setting says so and the file says why, and the policy pack reports that reason", () => {
    const config = configFrom(unprotected());
    expect(synthEnvironment(config).json).toHaveResourceWithProperties(Lb, { internal: true, enable_deletion_protection: false });
    const app = Testing.app();
    new EnvironmentStack(app, "verification", { config, stateBackend: localBackend });
    expect(enforcePolicy(app)).toEqual([{ rule: "PX-ELB-DELETION-PROTECTION", reason, path: "verification/Proxy/LoadBalancer" }]);
  });

  it("refuses to turn it off without a reason, naming the setting and the suppression to add", () => {
    expect(() => configFrom(fleetOf({ deletionProtection: false }))).toThrow(
      /^ {2}- `proxy\.fleet\.deletionProtection` = false: is false, so a destroy or a replacement deletes the load balancer that every app server goes through; leave it out \(on\), or say why in policySuppressions: \{ "rule": "PX-ELB-DELETION-PROTECTION", "path": "Proxy", "reason": "\.\.\." \}$/m,
    );
  });

  it("is off in the verification demo, which the rehearsal destroys, and on in the production example", () => {
    const demo = loadEnvironmentFile(path.join(CONFIG_DIR, "verification-fleet.json"));
    expect(demo.proxy.fleet?.deletionProtection).toBe(false);
    expect(demo.policySuppressions.map((s) => s.rule)).toEqual(["PX-ELB-DELETION-PROTECTION"]);
    expect(loadEnvironmentFile(path.join(EXAMPLES_DIR, "production.json")).proxy.fleet?.deletionProtection).toBe(true);
  });
});

describe("a proxy fleet behind an endpoint service (privateLink)", () => {
  const raw = JSON.parse(JSON.stringify(require(path.join(CONFIG_DIR, "privatelink.json"))));
  const app = Testing.app();
  const stack = new EnvironmentStack(app, "privatelink", { config: configFrom(raw), stateBackend: localBackend });
  const json = Testing.synth(stack);

  it("offers its load balancer to the endpoint service and learns each app VPC's endpoint", () => {
    expect(stack.egress.privateLink).toBeDefined();
    const [service] = Object.values(resourcesOf(json, "aws_vpc_endpoint_service"));
    expect(service.network_load_balancer_arns).toEqual([expect.stringMatching(/^\$\{aws_lb\.Proxy_LoadBalancer_\w+\.arn\}$/)]);
    const allowlist = Object.values(resourcesOf(json, "aws_ssm_parameter"))[0].value as string;
    expect(allowlist.match(/\$\{aws_vpc_endpoint\.App-app[12]_ProxyEndpoint_\w+\.id\}/g)).toHaveLength(4);
  });

  it("sends PROXY protocol v2 from the load balancer's own addresses, which Squid alone trusts", () => {
    expect(json).toHaveResourceWithProperties(LbTargetGroup, { proxy_protocol_v2: true, preserve_client_ip: "false" });
    const template = Object.values(resourcesOf(json, "aws_launch_template"))[0];
    expect(Buffer.from(template.user_data, "base64").toString("utf8")).toContain("acl load_balancer src 10.0.0.10 10.0.0.138");
  });

  it("admits no app block on the load balancer's group, whose rules PrivateLink traffic skips", () => {
    expect(json).toHaveResourceWithProperties(Lb, { enforce_security_group_inbound_rules_on_private_link_traffic: "off" });
    const groups = resourcesOf(json, "aws_security_group");
    const [id] = Object.entries(groups).find(([, g]) => g.name === "privatelink-proxy-lb")!;
    const ingress = Object.values(resourcesOf(json, "aws_vpc_security_group_ingress_rule")).filter(
      (r) => r.security_group_id === `\${aws_security_group.${id}.id}`,
    );
    expect(ingress).toEqual([]);
  });

  it("renders the effective squid.conf with given endpoint ids, for labs, which Squid's rules read as one client per endpoint", () => {
    const fleet = stack.proxy as ProxyFleet;
    const conf = fleet.squidConfWithEndpoints({
      "privatelink-app1": "vpce-0aaaaaaaaaaaaaaa1",
      "privatelink-app2": "vpce-0aaaaaaaaaaaaaaa2",
    });
    expect(conf).toContain("acl app_privatelink-app1 note vpc_endpoint %01vpce-0aaaaaaaaaaaaaaa1");
    expect(conf).toContain("acl app_privatelink-app2 note vpc_endpoint %01vpce-0aaaaaaaaaaaaaaa2");
    expect(conf).toContain("http_port 3128 require-proxy-header");
    expect(conf).not.toContain("${");
    expect(() => parseAllowlist(conf)).not.toThrow();
  });

  it("is a fleet without an endpoint service elsewhere, whose target group keeps client addresses and sends no header", () => {
    const { json: plain } = synthEnvironment(configFrom(fleetOf()));
    expect(JSON.stringify(resourcesOf(plain, "aws_lb_target_group"))).not.toContain("proxy_protocol_v2");
    expect(JSON.stringify(resourcesOf(plain, "aws_lb"))).not.toContain("enforce_security_group_inbound_rules_on_private_link_traffic");
  });
});
