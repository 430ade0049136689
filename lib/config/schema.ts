/**
 * The schema of an environment file (`environments/<name>.json`). One zod schema gives the TypeScript
 * type, the validation with messages that name the setting, and `environments/schema.json` for editors.
 */
import { closest, distance } from "fastest-levenshtein";
import { z } from "zod";
import { cidrProblem, isIpv4Address } from "../cidr";
import { architectureOf, instanceTypeProblem } from "./instance-types";
import { PORT_CARRIES, portEntryProblem } from "./port-entries";
import { AWS_REGIONS } from "./regions";
import { FLEET_SIZE_BELOW_TWO, FLEET_SIZE_NOT_WHOLE, principalProblem } from "./rules";
import { POLICY_RULE_IDS } from "../policy/rules";
import { loadBalancerDeletionProtection } from "../policy/rules/elb/deletion-protection";

const DELETION_PROTECTION_RULE = loadBalancerDeletionProtection.id;

/** Amazon Linux 2023, x86_64, from the public SSM parameters. */
export const AMAZON_LINUX_2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
/** Amazon Linux 2023, arm64 (Graviton), from the public SSM parameters. */
export const AMAZON_LINUX_2023_ARM64_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";
/** Windows Server 2022, English, from the public SSM parameters. */
export const WINDOWS_SERVER_2022_PARAMETER = "/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base";
/** How often a proxy checks for a new allowlist unless `proxy.allowlistPollSeconds` says otherwise. */
export const DEFAULT_ALLOWLIST_POLL_SECONDS = 30;
/** Where the proxy's address sits in its subnet unless `proxy.privateIp` says otherwise. */
export const DEFAULT_PROXY_HOST_OFFSET = 10;

const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,22}[a-z0-9]$/, {
    message: "must be 2 to 24 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen",
  })
  .describe("A short name used in construct ids and Name tags.");

const region = z
  .string()
  .superRefine((value, ctx) => {
    if (AWS_REGIONS.includes(value)) return;
    const near = closest(value, [...AWS_REGIONS]);
    const hint = distance(value, near) <= 3 ? `did you mean "${near}"?` : "write one such as ap-northeast-1";
    ctx.addIssue({ code: "custom", message: `is not an AWS region; ${hint}` });
  })
  .describe("An AWS region, such as ap-northeast-1.");

const cidr = z
  .string()
  .superRefine((value, ctx) => {
    const problem = cidrProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .describe("An IPv4 CIDR block with no host bits set, such as 10.0.0.0/24.");

/** AWS accepts VPC and subnet blocks from /16 to /28. */
const awsBlock = cidr.superRefine((value, ctx) => {
  if (cidrProblem(value)) return;
  const prefix = Number(value.split("/")[1]);
  if (prefix < 16 || prefix > 28) {
    ctx.addIssue({ code: "custom", message: `has a /${prefix} prefix; AWS accepts VPC and subnet sizes from /16 to /28` });
  }
});

const port = z
  .number({ message: "must be a port number (a whole number from 1 to 65535)" })
  .int({ message: "must be a whole number from 1 to 65535" })
  .min(1, { message: "is out of range; ports go from 1 to 65535" })
  .max(65535, { message: "is out of range; ports go from 1 to 65535" });

const availabilityZone = z
  .string()
  .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, { message: "is not an availability zone name; write one such as ap-northeast-1a" });

const subnet = z
  .strictObject({
    availabilityZone: availabilityZone.describe("The availability zone of the subnet; it must be in the environment's region."),
    cidr: awsBlock.describe("The subnet's block, inside the VPC's block and disjoint from the VPC's other subnets."),
  })
  .describe("A private subnet. Instances are placed in the VPC's first subnet.");

const vpcFields = {
  cidr: awsBlock.describe("The VPC's IPv4 block (/16 to /28)."),
  subnets: z.array(subnet).min(1, { message: "is empty; give at least one subnet" }).describe("The VPC's private subnets."),
  sessionManagerEndpoints: z
    .boolean()
    .default(false)
    .describe("Create interface endpoints for ssm, ssmmessages and ec2messages so Session Manager works without internet access."),
};

const vpc = z.strictObject(vpcFields);

const ssmParameter = z.string().regex(/^\/[A-Za-z0-9_.\-/]+$/, {
  message: "is not an SSM parameter name; it starts with / such as /aws/service/ami-amazon-linux-latest/...",
});

/**
 * An instance type from the EC2 API's own list (the AWS SDK's), with the one most likely meant.
 * Editors get the shape of a type from the JSON Schema's pattern; loading checks the list.
 */
const instanceType = z
  .string()
  .superRefine((value, ctx) => {
    const problem = instanceTypeProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .meta({ pattern: "^[a-z][a-z0-9-]*\\.[a-z0-9-]+$" });

/** What `amiParameter` holds, for the server `what`. */
const amiParameterText = (what: string) => `The SSM parameter that holds the ${what}'s AMI id (public parameters are kept current by AWS).`;

/** A Linux server's image: by default Amazon Linux 2023 for its instance type's architecture (see withLinuxImage). */
const linuxAmiParameter = (what: string) =>
  ssmParameter
    .optional()
    .describe(
      `${amiParameterText(what)} Default: Amazon Linux 2023 for the instance type's architecture, ${AMAZON_LINUX_2023_PARAMETER}, or ${AMAZON_LINUX_2023_ARM64_PARAMETER} for a Graviton type (t4g, m7g, c7gn, ...).`,
    );

/** The settings every server has, with its own kind of image setting. */
function instanceFields<A extends z.ZodType>(defaults: { instanceType: string; rootVolumeSizeGiB: number }, what: string, amiParameter: A) {
  return {
    instanceType: instanceType.default(defaults.instanceType).describe(`The EC2 instance type of the ${what}.`),
    amiParameter,
    rootVolumeSizeGiB: z
      .number()
      .int({ message: "must be a whole number of GiB" })
      .min(8, { message: "is below 8 GiB, smaller than any AMI this project uses" })
      .max(16384, { message: "is above the 16384 GiB that gp3 allows" })
      .default(defaults.rootVolumeSizeGiB)
      .describe(`The root volume's size in GiB (gp3, encrypted); at least the AMI's own size.`),
    detailedMonitoring: z.boolean().default(true).describe("One-minute CloudWatch metrics for the instance."),
  };
}

/** Amazon Linux 2023 for an instance type's architecture. */
export function amazonLinux2023Parameter(instanceType: string): string {
  return architectureOf(instanceType) === "arm64" ? AMAZON_LINUX_2023_ARM64_PARAMETER : AMAZON_LINUX_2023_PARAMETER;
}

/** A Linux server with its image filled in: the file's, or Amazon Linux 2023 for its type's architecture. */
function withLinuxImage<T extends { instanceType: string; amiParameter?: string }>(server: T): T & { amiParameter: string } {
  return { ...server, amiParameter: server.amiParameter ?? amazonLinux2023Parameter(server.instanceType) };
}

const linuxServerDefaults = { instanceType: "t3.micro", rootVolumeSizeGiB: 8 };

/** A whole number setting within the bounds AWS accepts. */
function bounded(what: string, min: number, max: number) {
  return z
    .number({ message: `must be a whole number of ${what} from ${min} to ${max}` })
    .int({ message: `must be a whole number of ${what} from ${min} to ${max}` })
    .min(min, { message: `is below ${min}; AWS accepts ${min} to ${max} ${what}` })
    .max(max, { message: `is above ${max}; AWS accepts ${min} to ${max} ${what}` });
}

const fleet = z
  .strictObject({
    size: z
      .number({ message: FLEET_SIZE_NOT_WHOLE })
      .int({ message: FLEET_SIZE_NOT_WHOLE })
      .min(2, { message: `${FLEET_SIZE_BELOW_TWO} (for one, leave fleet out)` })
      .optional()
      .describe("How many proxies run, spread over the proxy VPC's subnets. Default: one per proxy subnet."),
    loadBalancerAddresses: z
      .array(z.string().refine(isIpv4Address, { message: "is not an IPv4 address; write one such as 10.0.0.10" }))
      .optional()
      .describe(
        `The load balancer's fixed private address in each proxy subnet, in the subnets' order. Default: each subnet's address number ${DEFAULT_PROXY_HOST_OFFSET}.`,
      ),
    deregistrationDelaySeconds: bounded("seconds", 0, 3600)
      .default(300)
      .describe("How long a proxy that leaves the fleet keeps serving its open connections (CONNECT tunnels) before it is stopped."),
    healthCheckIntervalSeconds: bounded("seconds", 5, 300)
      .default(10)
      .describe("Seconds between the load balancer's TCP health checks of the proxy port."),
    healthyThreshold: bounded("checks", 2, 10).default(2).describe("Consecutive passed health checks before a proxy takes traffic."),
    unhealthyThreshold: bounded("checks", 2, 10)
      .default(2)
      .describe("Consecutive failed health checks before a proxy gets no new connections (detection time: this times the interval)."),
    healthCheckGracePeriodSeconds: bounded("seconds", 0, 7200)
      .default(300)
      .describe("Seconds after launch before the Auto Scaling group acts on a failed health check (time for dnf install squid)."),
    deletionProtection: z
      .boolean()
      .default(true)
      .describe(
        `Deletion protection of the load balancer: AWS refuses to delete it (a destroy, or a change that replaces it, fails) until this is false and applied, so that no accidental destroy cuts every app server off. false needs a policySuppressions entry for ${DELETION_PROTECTION_RULE} that says why, such as a test environment that is torn down.`,
      ),
  })
  .describe(
    "A fleet of proxies: an Auto Scaling group over the proxy VPC's subnets behind an internal Network Load Balancer with a fixed address per subnet.",
  );

const proxy = z
  .strictObject({
    ...instanceFields(linuxServerDefaults, "proxy", linuxAmiParameter("proxy")),
    port: port.default(3128).describe("The port Squid listens on."),
    privateIp: z
      .string()
      .refine(isIpv4Address, { message: "is not an IPv4 address; write one such as 10.0.0.10" })
      .optional()
      .describe(
        `The single proxy's fixed private address in the proxy VPC's first subnet, so app servers keep a working setting when the proxy is replaced. Default: the subnet's address number ${DEFAULT_PROXY_HOST_OFFSET}. Not with fleet.`,
      ),
    allowlistPollSeconds: z
      .number({ message: "must be a number of seconds from 10 to 3600" })
      .int({ message: "must be a whole number of seconds from 10 to 3600" })
      .min(10, {
        message: "is below 10; each check runs the AWS CLI on the proxy (about a second of CPU), so check at most every 10 seconds",
      })
      .max(3600, { message: "is above 3600; an allowlist change should reach the proxies within the hour, so give 10 to 3600" })
      .default(DEFAULT_ALLOWLIST_POLL_SECONDS)
      .describe(
        "How often each proxy checks the allowlist parameter for a new version, in seconds; a new version is in force on every proxy within about this time after the deploy.",
      ),
    fleet: fleet
      .optional()
      .describe(
        "Run a fleet of proxies behind an internal Network Load Balancer instead of one instance. Default: one instance (no load balancer).",
      ),
    expectedPeakConnectionsPerSecond: z
      .number({ message: "must be a whole number of new connections a second, such as 500" })
      .int({ message: "must be a whole number of new connections a second, such as 500" })
      .positive({ message: "must be a positive whole number of new connections a second, such as 500" })
      .optional()
      .describe(
        "New connections a second the app servers open at peak to one service address and port (each CONNECT tunnel is one). The checks warn when the proxies' port budget (proxies times the source ports over the 60 s TIME_WAIT, README Sizing) is below it. Default: not checked.",
      ),
  })
  .transform(withLinuxImage)
  .describe("The Squid forward proxy in the proxy VPC.");

const alerts = z
  .strictObject({
    topicArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:sns:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/, {
        message: "is not an SNS topic ARN such as arn:aws:sns:ap-northeast-1:111122223333:proxy-alerts",
      })
      .optional()
      .describe("An existing SNS topic, in the environment's region, that the alarms notify."),
    email: z
      .email({ message: "is not an email address such as network-team@example.com" })
      .optional()
      .describe(
        "An address that gets the alarms by email: the environment creates a topic with this subscription (AWS mails a confirmation link first).",
      ),
  })
  .refine((a) => a.topicArn !== undefined || a.email !== undefined, {
    message: "names neither topicArn nor email; give one of them, or leave alerts out",
  })
  .describe("Notifications of the proxy's alarms: an existing topic, an email address, or both.");

/** A list whose entries must differ; a repeat is named with its position. */
function unique<T extends z.ZodArray<z.ZodType>>(list: T, what: string): T {
  return list.superRefine((values, ctx) => {
    (values as unknown[]).forEach((v, i) => {
      if ((values as unknown[]).indexOf(v) < i)
        ctx.addIssue({ code: "custom", path: [i], message: `repeats ${JSON.stringify(v)}; list each ${what} once` });
    });
  }) as unknown as T;
}

const existingVpc = z
  .strictObject({
    vpcId: z
      .string()
      .regex(/^vpc-[0-9a-f]{8,17}$/, { message: "is not a VPC id such as vpc-0123456789abcdef0" })
      .describe("The existing VPC's id."),
    routeTableIds: z
      .union(
        [
          z.literal("all"),
          unique(
            z.array(z.string().regex(/^rtb-[0-9a-f]{8,17}$/, { message: "is not a route table id such as rtb-0123456789abcdef0" })).min(1),
            "route table",
          ),
        ],
        {
          message: 'must be "all" or a list of route table ids such as ["rtb-0123456789abcdef0"]',
        },
      )
      .describe(
        'The route tables that learn the proxy VPC\'s block: their ids, or "all" for every route table of the VPC (looked up when planning). Required with peering and a Transit Gateway; with privateLink nothing is routed: leave it out.',
      )
      .optional(),
    accountId: z
      .string()
      .regex(/^\d{12}$/, { message: "is not a 12-digit AWS account id" })
      .optional()
      .describe("The VPC's account when it is not the proxy's (cross-account peering)."),
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, {
        message: "is not an IAM role ARN such as arn:aws:iam::111122223333:role/name",
      })
      .optional()
      .describe("With accountId: a role in that account that accepts the peering and adds the routes there."),
    attachmentSubnetIds: unique(
      z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { message: "is not a subnet id such as subnet-0123456789abcdef0" })).min(1),
      "subnet",
    )
      .optional()
      .describe("With a Transit Gateway: the VPC's subnets (one per zone) that its attachment uses."),
    endpointSubnetIds: unique(
      z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { message: "is not a subnet id such as subnet-0123456789abcdef0" })).min(1),
      "subnet",
    )
      .optional()
      .describe(
        "With privateLink: the VPC's subnets (at most one per zone) where the interface endpoint for the proxy places its addresses.",
      ),
  })
  .describe(
    "An app VPC that already exists: only the peering or attachment, its routes and the proxy's rules are added (with privateLink: the interface endpoint and its security group).",
  );

const appVpc = z
  .strictObject({
    name: name.describe("The app VPC's name, unique among app VPCs."),
    cidr: vpcFields.cidr,
    subnets: vpcFields.subnets.optional().describe("The VPC's private subnets; for a created VPC only."),
    sessionManagerEndpoints: vpcFields.sessionManagerEndpoints,
    existing: existingVpc.optional().describe("Set to use an existing VPC instead of creating one."),
    appServer: z
      .strictObject(
        instanceFields(
          { instanceType: "t3.medium", rootVolumeSizeGiB: 30 },
          "Windows app server",
          ssmParameter.default(WINDOWS_SERVER_2022_PARAMETER).describe(amiParameterText("Windows app server")),
        ),
      )
      .describe("The Windows app server instance.")
      .optional()
      .describe("A Windows app server whose machine-wide proxy setting points at the proxy. Default: no app server."),
  })
  .describe(
    "A VPC whose servers use the external service through the proxy: peered with the proxy VPC, attached to a Transit Gateway, or with an interface endpoint to the proxy (connectivity.type).",
  );

/** A DNS name as AWS and Squid take it: labels of letters, digits and hyphens, at least two, lowercase. */
const dnsName = (what: NameKind) =>
  z.string().superRefine((value, ctx) => {
    const problem = dnsNameProblem(value, what);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

const hostname = z.hostname();

/** A host name or a Squid domain (leading dot) in a service's allowlist; a plain domain in a forwarding rule. */
type NameKind = "host name or .domain" | "domain";

/** Why `value` is not a usable name (`what` says which kind), or undefined when it is. */
export function dnsNameProblem(value: string, what: NameKind): string | undefined {
  if (/^\*\.?$/.test(value))
    return what === "domain"
      ? "is '*'; forward the provider's own domain, such as service.example"
      : "is '*', which would allow every name; list the service's own names";
  if (/^.+\*|\*[^.]/.test(value))
    return "has '*' inside it; neither Squid nor Route 53 Resolver reads that as a wildcard. List the names one by one";
  if (value.includes("*")) {
    const suggestion = value.replace(/^\*+\.?/, ".");
    return what === "domain"
      ? `uses '*'; a forwarding rule for a domain covers every name under it already, so write "${value.replace(/^\*+\.?/, "")}"`
      : `uses '*', which Squid does not read as a wildcard (it would match no name). Write "${suggestion}": Squid's form for ${suggestion.slice(1)} itself and every name under it`;
  }
  if (value !== value.toLowerCase()) return `has capital letters; names are case-insensitive, so write "${value.toLowerCase()}"`;
  if (value.endsWith(".")) return `ends with a dot; leave it out ("${value.replace(/\.+$/, "")}")`;
  const bare = what === "domain" ? value : value.replace(/^\./, "");
  if (isIpv4Address(bare)) return "is an IP address; list names here, the service's cidr covers addresses";
  if (value.startsWith(".") && what === "domain")
    return `starts with a dot; write the domain itself ("${value.slice(1)}"): a rule covers every name under it`;
  if (!bare.includes(".")) return `is a single label; write a full name such as ${bare}.example.com`;
  if (
    bare.length > 253 ||
    !hostname.safeParse(bare).success ||
    bare.split(".").some((l) => !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l))
  ) {
    return "is not a valid DNS name: labels of 1 to 63 letters, digits and hyphens (not at a label's start or end), separated by dots";
  }
  return undefined;
}

const service = z
  .strictObject({
    name: name.describe("The destination's name, unique among services."),
    cidr: cidr.describe("The addresses of the external service."),
    domains: z
      .array(dnsName("host name or .domain"))
      .min(1, { message: "is empty; list at least one name, or leave domains out for an address-only service" })
      .optional()
      .describe(
        "Names the proxy allows for this service: a host name (api.example.com) or a domain with a leading dot (.example.com: example.com and every name under it, as Squid reads it). A request must use an allowed name AND the name must resolve into cidr. Default: address only (any name, or an address, in cidr).",
      ),
    ports: z
      .array(
        z.union(
          [
            port,
            z.strictObject({
              port: port.describe("The TCP port."),
              carries: z
                .enum(PORT_CARRIES, { message: 'must be "http" or "tls"' })
                .describe('"http": plain HTTP requests that Squid relays; "tls": TLS tunnelled through Squid with CONNECT (HTTPS).'),
            }),
          ],
          { error: (issue) => portEntryProblem(issue.input) },
        ),
      )
      .min(1, { message: "is empty; give at least one port" })
      .describe(
        'The TCP ports the proxy may reach there: a number (443 carries TLS, any other plain HTTP), or { "port": 8443, "carries": "tls" } to say what it carries.',
      ),
    from: unique(
      z.array(name).min(1, { message: "is empty; name at least one app VPC, or leave from out to let every app VPC use the service" }),
      "app VPC",
    )
      .optional()
      .describe(
        "The app VPCs (their names) whose servers may use this service through the proxy: Squid's allowlist matches their blocks only, while the proxy's security group still admits every app VPC. Default: every app VPC.",
      ),
  })
  .describe("A destination that the proxy may forward to.");

const peeredServiceVpc = z
  .strictObject({
    type: z.literal("peeredVpc"),
    vpc: vpc.describe("The VPC that stands in for the Direct Connect side."),
    server: z
      .strictObject(instanceFields(linuxServerDefaults, "service (httpd)", linuxAmiParameter("service (httpd)")))
      .transform(withLinuxImage)
      .describe("The service (httpd) instance."),
  })
  .describe("Verification: a VPC peered with the proxy VPC, running httpd, stands in for the Direct Connect side.");

const gatewayFields = {
  routing: z
    .enum(["static", "propagation"], { message: 'must be "static" or "propagation"' })
    .default("static")
    .describe(
      '"static": the proxy VPC\'s route tables send exactly the services\' blocks to the gateway; "propagation": they take whatever the provider advertises over BGP.',
    ),
  amazonSideAsn: z
    .number()
    .int()
    .min(64512)
    .max(4294967294)
    .optional()
    .describe("The private ASN of the virtual private gateway. Default: Amazon's."),
};

const virtualPrivateGateway = z
  .strictObject({ type: z.literal("virtualPrivateGateway"), ...gatewayFields })
  .describe("Production: a virtual private gateway attached to the proxy VPC, for a Direct Connect private virtual interface.");

const directConnectGateway = z
  .strictObject({
    type: z.literal("directConnectGateway"),
    directConnectGatewayId: z
      .string()
      .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, { message: "is not a Direct Connect gateway id (a UUID)" })
      .describe("The existing Direct Connect gateway to associate with."),
    ...gatewayFields,
  })
  .describe("Production: a virtual private gateway on the proxy VPC, associated with an existing Direct Connect gateway.");

const SERVICE_SIDE_TYPES = ["peeredVpc", "virtualPrivateGateway", "directConnectGateway"];

const serviceSide = z
  .discriminatedUnion("type", [peeredServiceVpc, virtualPrivateGateway, directConnectGateway], {
    message: `has an unknown or missing \`type\`; use one of ${SERVICE_SIDE_TYPES.map((t) => `"${t}"`).join(", ")}`,
  })
  .describe("How the proxy VPC reaches the external service.");

const ipv4 = z.string().refine(isIpv4Address, { message: "is not an IPv4 address; write one such as 172.16.0.53" });

const dns = z
  .strictObject({
    forward: z
      .array(
        z.strictObject({
          domain: dnsName("domain").describe(
            "The domain whose names the provider's DNS servers answer (the rule covers every name under it), such as service.example.",
          ),
          servers: z
            .array(ipv4)
            .min(1, { message: "is empty; give the provider's DNS servers" })
            .describe("The provider's DNS servers (port 53, UDP and TCP), inside a service's block."),
        }),
      )
      .min(1, { message: "is empty; give at least one domain to forward, or leave dns out" })
      .describe("Forwarding rules: the proxy VPC's resolver sends queries for each domain to the provider's DNS servers."),
    endpointSubnets: z
      .array(subnet.describe("A subnet of the proxy VPC for one of the resolver endpoint's addresses."))
      .min(2, { message: "has fewer than 2 subnets; a Route 53 Resolver endpoint needs two subnets in two zones" })
      .optional()
      .describe(
        "Subnets of the proxy VPC (a /28 each) for the resolver endpoint's addresses, in at least two zones, apart from proxyVpc.subnets. Default: proxyVpc.subnets, when they span two zones.",
      ),
  })
  .describe(
    "Names from the provider's side: a Route 53 Resolver outbound endpoint in the proxy VPC, whose addresses lie in the dictated range, and forwarding rules associated with the proxy VPC. Squid resolves with the VPC's resolver; app servers need nothing.",
  );

/** How app VPCs may reach the proxy VPC. */
export const CONNECTIVITY_TYPES = ["peering", "transitGateway", "privateLink"] as const;

const connectivity = z
  .strictObject({
    type: z
      .enum(CONNECTIVITY_TYPES, { message: 'must be "peering", "transitGateway" or "privateLink"' })
      .describe(
        '"peering": each app VPC is peered with the proxy VPC; "transitGateway": app VPCs and the proxy VPC attach to a Transit Gateway; "privateLink": the proxy fleet is a VPC endpoint service and each app VPC reaches it through an interface endpoint of its own, with no route between VPCs (app VPC blocks may then overlap).',
      ),
    egress: z
      .enum(["squid", "privateNat"], { message: 'must be "squid" or "privateNat"' })
      .default("squid")
      .describe(
        '"squid": the Squid proxy relays (domain and address allowlist, access log); "privateNat": a private NAT gateway in each proxy subnet\'s zone translates app traffic to its own address (layer 4 only; Transit Gateway only).',
      ),
    transitGatewayId: z
      .string()
      .regex(/^tgw-[0-9a-f]{8,17}$/, { message: "is not a Transit Gateway id such as tgw-0123456789abcdef0" })
      .optional()
      .describe(
        "An existing Transit Gateway to attach to. Default: the project creates one, with its default route table association and propagation off.",
      ),
    amazonSideAsn: z
      .number()
      .int()
      .min(64512)
      .max(4294967294)
      .optional()
      .describe("The private ASN of a Transit Gateway the project creates. Default: Amazon's."),
    attachmentSubnets: z
      .array(subnet)
      .min(1, { message: "is empty; give one subnet per zone for the Transit Gateway's attachment" })
      .optional()
      .describe(
        "With privateNat: the proxy VPC's subnets for the Transit Gateway attachment, one per zone (a /28 is enough), apart from the NAT gateways' subnets (proxyVpc.subnets).",
      ),
    acceptanceRequired: z
      .boolean()
      .optional()
      .describe(
        "With privateLink: each interface endpoint's connection to the endpoint service must be accepted; the stack accepts its own app VPCs' endpoints, so an endpoint made elsewhere by an allowed principal waits for an operator. Default: false (allowed principals connect at once).",
      ),
    allowedPrincipals: unique(
      z
        .array(
          z.string().superRefine((value, ctx) => {
            const problem = principalProblem(value);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
          }),
        )
        .min(1, { message: "is empty; name at least one account, or leave allowedPrincipals out for the default" }),
      "principal",
    )
      .optional()
      .describe(
        "With privateLink: who else may create an interface endpoint for the proxy's endpoint service, as 12-digit account ids or IAM ARNs (arn:aws:iam::<account>:root, :role/<name>, :user/<name>); never *. The stack's own account and the account of every existing app VPC of another account are always allowed (the stack makes their endpoints). Default: those alone.",
      ),
  })
  .default({ type: "peering", egress: "squid" })
  .describe("How app VPCs reach the proxy VPC. Default: peering with the Squid proxy, as in the original.");

const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
    message:
      "is not a valid S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit)",
  })
  .refine((v) => !v.includes("..") && !isIpv4Address(v), { message: "is not a valid S3 bucket name (no '..', not an IP address)" });

const state = z
  .strictObject({
    bucket: bucketName.describe("The S3 bucket that holds Terraform state; it must exist before the first deploy."),
    region: region.optional().describe("The bucket's region. Default: the environment's region."),
    keyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, {
        message: "is not a usable key prefix; use letters, digits, '_', '.', '-' and '/' with no leading or trailing '/'",
      })
      .default("proxy-over-peering")
      .describe("Each stack's state lives at <keyPrefix>/<environment>/terraform.tfstate."),
    noncurrentVersionExpirationDays: z
      .number()
      .int({ message: "must be a whole number of days" })
      .min(1, { message: "must be at least 1 day" })
      .default(90)
      .describe("The bootstrap stack's bucket deletes replaced state versions after this many days."),
  })
  .describe("Where Terraform keeps this environment's state: S3 with encryption and S3-native locking.");

/** The retention periods that CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const tags = z
  .record(
    z.string().regex(/^(?!aws:)(?!Name$)[\p{L}\p{N} _.:/=+\-@]{1,128}$/u, {
      message: "is not a usable tag key (1 to 128 characters, not starting with aws:, and not Name, which the project sets)",
    }),
    z.string().max(256, { message: "is longer than the 256 characters AWS allows in a tag value" }),
  )
  .default({})
  .describe("Tags added to every resource, after Project and Environment.");

/** What an end of an expected flow may be. */
const FLOW_END_TEXT =
  '"proxy"; the service side: "service" (the stand-in server of a peered service VPC), or with a virtual private gateway or Direct Connect gateway a service\'s name (its block, on the provider\'s side); "resolver" (the DNS endpoint, with dns); or an app VPC\'s name (its app server, or without one any server in its block, which are the user\'s).';

/** The schema of one environment file, without the checks that span several settings. */
export const environmentShape = z
  .strictObject({
    $schema: z.string().optional().describe("The JSON Schema that editors use for this file."),
    name: name.describe("The environment's name: the stack's name and the start of every Name tag."),
    region,
    project: name.default("proxy-over-peering").describe("The Project tag on every resource."),
    tags,
    state,
    logRetentionDays: z
      .number()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        message: `is not a retention CloudWatch Logs accepts; use one of ${LOG_RETENTION_DAYS.join(", ")}`,
      })
      .default(365)
      .describe(
        "How long VPC flow logs and Squid's access log (the record of who went where) are kept in CloudWatch Logs, in days. Below 365 needs a policySuppressions entry for PX-LOGS-RETENTION that says why.",
      ),
    connectivity,
    proxyVpc: vpc.describe("The VPC with the CIDR that the Direct Connect provider dictates."),
    proxy: proxy
      .prefault({})
      .describe("The Squid forward proxy in the proxy VPC (all settings have defaults; unused with privateNat egress)."),
    appVpcs: z.array(appVpc).min(1, { message: "is empty; give at least one app VPC" }),
    serviceSide,
    services: z.array(service).min(1, { message: "is empty; give at least one service destination" }),
    dns: dns.optional().describe("Forward the provider's domains to its DNS servers. Default: the VPC's resolver answers alone."),
    alerts: alerts
      .optional()
      .describe(
        "Where the proxy's alarms notify. Default: no alarm on denials or errors and no topic; the dashboard and metrics exist anyway.",
      ),
    expectedFlows: z
      .array(
        z.strictObject({
          from: z.string().describe(FLOW_END_TEXT),
          to: z.string().describe(FLOW_END_TEXT),
          port: port.describe("The port of the flow."),
          protocol: z.enum(["tcp", "udp"], { message: 'must be "tcp" or "udp"' }).default("tcp").describe("The flow's protocol."),
          via: z
            .enum(["proxy"], { message: 'must be "proxy", or left out for a direct flow' })
            .optional()
            .describe(
              '"proxy": the flow goes through the proxy, as an app server\'s requests do: `from` reaches the proxy on its port, and the proxy opens its own connection to `to` on `port`; it is allowed only when both are, and the analysis says which source address `to` sees. Default: a direct flow.',
            ),
          expect: z
            .enum(["allowed", "denied"], { message: 'must be "allowed" or "denied"' })
            .describe("The verdict the analysis must reach."),
        }),
      )
      .default([])
      .describe("Flows that `npm run reachability` must find allowed or denied in the synthesized stack."),
    policySuppressions: z
      .array(
        z.strictObject({
          rule: z
            .enum(POLICY_RULE_IDS as [string, ...string[]], {
              message: `is not a rule of the policy pack; the rules are ${POLICY_RULE_IDS.join(", ")}`,
            })
            .describe("The rule's id, such as PX-EC2-DETAILED-MONITORING."),
          path: z
            .string()
            .regex(/^([A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*)?$/, {
              message: 'is not a construct path inside the stack, such as Proxy/Server/Resource (or "" for the whole stack)',
            })
            .describe(
              'The construct (and everything in it) that the rule is switched off for, as in cdk.tf.json\'s //.metadata.path without the stack name; "" for the whole stack.',
            ),
          reason: z
            .string()
            .min(10, { message: "is too short; say why the rule does not apply (at least 10 characters)" })
            .describe("Why the rule does not apply here, at least 10 characters."),
        }),
      )
      .default([])
      .describe("Deliberate exceptions to the policy pack, each with its reason; printed with every synthesis."),
    proxyBypass: z
      .array(
        z.string().regex(/^(<local>|[A-Za-z0-9*][A-Za-z0-9*.-]{0,252})$/, {
          message:
            "is not a host pattern: use <local>, or letters, digits, '.', '-' and '*' (such as *.example.com or 10.0.0.5); it is written into the app server's PowerShell user data",
        }),
      )
      .default(["<local>", "169.254.169.254", "*.amazonaws.com"])
      .describe("Hosts that Windows app servers reach without the proxy; keep the metadata address 169.254.169.254 in it."),
  })
  .describe("One environment: a proxy VPC, its app VPCs and the service side.");

/** A validated environment, defaults filled in. */
export type EnvironmentConfig = z.infer<typeof environmentShape>;
/** An app VPC of an environment. */
export type AppVpcConfig = EnvironmentConfig["appVpcs"][number];
/** A VPC's settings. */
export type VpcConfig = EnvironmentConfig["proxyVpc"];
/** The service side of an environment. */
export type ServiceSideConfig = EnvironmentConfig["serviceSide"];
/** A service destination. */
export type ServiceConfig = EnvironmentConfig["services"][number];
/** The DNS forwarding settings. */
export type DnsConfig = NonNullable<EnvironmentConfig["dns"]>;
/** How app VPCs reach the proxy VPC. */
export type ConnectivityConfig = EnvironmentConfig["connectivity"];
