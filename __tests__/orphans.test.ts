import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { sweepCoverage } from "../proof/rehearsal";
import { importsFileProblem } from "../operations/deploy-options";
import {
  adoptionRefusal,
  FoundResource,
  importBlocks,
  judgeUnknown,
  placeOrphans,
  stateKeys,
  SynthesizedStack,
  TerraformState,
  unknownToState,
} from "../operations/orphans";
import { TS_RUNNER } from "../tools/cli";

const ROOT = path.join(__dirname, "..");

/** A state holding the proxy VPC and its route table, and one route of the table. */
const STATE: TerraformState = {
  resources: [
    {
      mode: "managed",
      type: "aws_vpc",
      name: "ProxyVpc",
      instances: [{ attributes: { id: "vpc-p", cidr_block: "10.0.0.0/24", tags: { Name: "v-proxy" } } }],
    },
    { mode: "managed", type: "aws_route_table", name: "ProxyTable", instances: [{ attributes: { id: "rtb-p", vpc_id: "vpc-p" } }] },
    {
      mode: "managed",
      type: "aws_route",
      name: "ToApp",
      instances: [{ attributes: { id: "r-rtb-p1080289494", route_table_id: "rtb-p", destination_cidr_block: "192.168.0.0/24" } }],
    },
    {
      mode: "managed",
      type: "aws_iam_role_policy_attachment",
      name: "Ssm",
      instances: [{ attributes: { id: "role-2024", role: "v-proxy", policy_arn: "arn:aws:iam::aws:policy/A" } }],
    },
    {
      mode: "managed",
      type: "aws_route_table_association",
      name: "Assoc",
      instances: [{ attributes: { id: "rtbassoc-1", subnet_id: "subnet-p", route_table_id: "rtb-p" } }],
    },
    { mode: "data", type: "aws_partition", name: "Partition", instances: [{ attributes: { id: "aws", partition: "aws" } }] },
  ],
};

/** The synthesized stack: two VPCs with a table each, routes between them, and two policy attachments of one role. */
const STACK: SynthesizedStack = {
  resource: {
    aws_vpc: {
      ProxyVpc: { cidr_block: "10.0.0.0/24", tags: { Name: "v-proxy" } },
      AppVpc: { cidr_block: "192.168.0.0/24", tags: { Name: "v-app" } },
      ServiceVpc: { cidr_block: "172.16.0.0/24", tags: { Name: "v-service" } },
    },
    aws_route_table: {
      ProxyTable: { vpc_id: "${aws_vpc.ProxyVpc.id}" },
      AppTable: { vpc_id: "${aws_vpc.AppVpc.id}" },
      ServiceTable: { vpc_id: "${aws_vpc.ServiceVpc.id}" },
    },
    aws_route: {
      ToApp: { route_table_id: "${aws_route_table.ProxyTable.id}", destination_cidr_block: "192.168.0.0/24" },
      AppToProxy: { route_table_id: "${aws_route_table.AppTable.id}", destination_cidr_block: "10.0.0.0/24" },
      ServiceToProxy: { route_table_id: "${aws_route_table.ServiceTable.id}", destination_cidr_block: "10.0.0.0/24" },
    },
    aws_iam_role_policy_attachment: {
      Ssm: { role: "${aws_iam_role.Proxy.name}", policy_arn: "arn:${data.aws_partition.Partition.partition}:iam::aws:policy/A" },
      Agent: { role: "${aws_iam_role.Proxy.name}", policy_arn: "arn:${data.aws_partition.Partition.partition}:iam::aws:policy/B" },
    },
    aws_instance: {
      Twins: { count: 2, tags: { Name: "twin" } },
    },
  },
};

const found = (type: string, importId: string, attributes: Record<string, string>, aliases?: string[]): FoundResource => ({
  type,
  importId,
  attributes,
  aliases,
});

describe("unknownToState", () => {
  it("keeps what the state does not hold, by id, ARN, alias or the composite key a type's import takes", () => {
    const all = [
      found("aws_vpc", "vpc-p", {}),
      found("aws_vpc", "vpc-a", {}),
      found("aws_route", "rtb-p_192.168.0.0/24", {}),
      found("aws_route", "rtb-p_172.16.0.0/24", {}),
      found("aws_iam_role_policy_attachment", "v-proxy/arn:aws:iam::aws:policy/A", {}),
      found("aws_iam_role_policy_attachment", "v-proxy/arn:aws:iam::aws:policy/B", {}),
      found("aws_route_table_association", "subnet-x/rtb-p", {}, ["rtbassoc-1"]),
      found("aws_route_table_association", "subnet-y/rtb-p", {}, ["rtbassoc-2"]),
      // The same id under another type is not the same resource.
      found("aws_route_table", "vpc-p", {}),
    ];
    expect(unknownToState(all, STATE).map((f) => f.importId)).toEqual([
      "vpc-a",
      "rtb-p_172.16.0.0/24",
      "v-proxy/arn:aws:iam::aws:policy/B",
      "subnet-y/rtb-p",
      "vpc-p",
    ]);
  });

  it("counts only managed resources of the state, not data sources", () => {
    expect(stateKeys(STATE).has("aws_partition|aws")).toBe(false);
    expect(stateKeys(STATE).has("aws_vpc|vpc-p")).toBe(true);
  });

  it("treats a missing state as empty: everything found is an orphan", () => {
    expect(unknownToState([found("aws_vpc", "vpc-p", {})], {})).toHaveLength(1);
  });
});

describe("placeOrphans", () => {
  it("places a resource by its identifying settings, and its children once it is placed", () => {
    const orphans = [
      // The route comes first: its table is placed only in the first pass, the route in the second.
      found("aws_route", "rtb-a_10.0.0.0/24", { route_table_id: "rtb-a", destination_cidr_block: "10.0.0.0/24" }),
      found("aws_route_table", "rtb-a", { vpc_id: "vpc-a" }),
      found("aws_vpc", "vpc-a", { cidr_block: "192.168.0.0/24", "tags.Name": "v-app" }),
    ];
    expect(placeOrphans(orphans, STACK, STATE).map((o) => o.address)).toEqual([
      "aws_route.AppToProxy",
      "aws_route_table.AppTable",
      "aws_vpc.AppVpc",
    ]);
  });

  it("reads references to data sources from the state, and treats unknown references as wildcards", () => {
    const attachment = found("aws_iam_role_policy_attachment", "v-proxy/arn:aws:iam::aws:policy/B", {
      role: "v-proxy",
      policy_arn: "arn:aws:iam::aws:policy/B",
    });
    expect(placeOrphans([attachment], STACK, STATE)[0].address).toBe("aws_iam_role_policy_attachment.Agent");
    // Without the partition in the state, the policy's own name still tells the two apart.
    expect(placeOrphans([attachment], STACK, {})[0].address).toBe("aws_iam_role_policy_attachment.Agent");
  });

  it("leaves an orphan without an address when a setting differs, when two candidates tie, or when only counted resources fit", () => {
    const strange = found("aws_vpc", "vpc-x", { cidr_block: "10.9.0.0/16", "tags.Name": "v-app" });
    // Two routes to 10.0.0.0/24 from tables whose ids are unknown: a tie.
    const tied = found("aws_route", "rtb-q_10.0.0.0/24", { route_table_id: "rtb-q", destination_cidr_block: "10.0.0.0/24" });
    const twin = found("aws_instance", "i-1", { "tags.Name": "twin" });
    expect(placeOrphans([strange, tied, twin], STACK, STATE).map((o) => o.address)).toEqual([undefined, undefined, undefined]);
  });

  it("never places two orphans on one address, nor on one the state already holds", () => {
    const a = found("aws_vpc", "vpc-1", { cidr_block: "192.168.0.0/24", "tags.Name": "v-app" });
    const b = found("aws_vpc", "vpc-2", { cidr_block: "192.168.0.0/24", "tags.Name": "v-app" });
    const again = found("aws_vpc", "vpc-3", { cidr_block: "10.0.0.0/24", "tags.Name": "v-proxy" });
    expect(placeOrphans([a, b, again], STACK, STATE).map((o) => o.address)).toEqual(["aws_vpc.AppVpc", undefined, undefined]);
  });

  it("needs at least one agreeing setting: a resource that says nothing is not placed", () => {
    expect(placeOrphans([found("aws_vpc", "vpc-1", {})], STACK, STATE)[0].address).toBeUndefined();
  });
});

/** A state holding the access log group, its Requests filter and the alerts topic; a stack that also has the Denied filter, the key with an alias, and the subscription. */
const DAY_TWO_STATE: TerraformState = {
  resources: [
    {
      mode: "managed",
      type: "aws_cloudwatch_log_group",
      name: "AccessLog",
      instances: [
        { attributes: { id: "/p/v/squid-access", name: "/p/v/squid-access", arn: "arn:aws:logs:r:1:log-group:/p/v/squid-access" } },
      ],
    },
    {
      mode: "managed",
      type: "aws_cloudwatch_log_metric_filter",
      name: "RequestsFilter",
      // The provider keeps a filter by its name alone; its import takes log_group_name:name.
      instances: [{ attributes: { id: "v-proxy-Requests", name: "v-proxy-Requests", log_group_name: "/p/v/squid-access" } }],
    },
    {
      mode: "managed",
      type: "aws_sns_topic",
      name: "AlertsTopic",
      instances: [{ attributes: { id: "arn:aws:sns:r:1:v-proxy-alerts", arn: "arn:aws:sns:r:1:v-proxy-alerts", name: "v-proxy-alerts" } }],
    },
  ],
};

const DAY_TWO_STACK: SynthesizedStack = {
  resource: {
    aws_cloudwatch_log_group: { AccessLog: { name: "/p/v/squid-access" } },
    aws_cloudwatch_log_metric_filter: {
      RequestsFilter: { name: "v-proxy-Requests", log_group_name: "${aws_cloudwatch_log_group.AccessLog.name}" },
      DeniedFilter: { name: "v-proxy-Denied", log_group_name: "${aws_cloudwatch_log_group.AccessLog.name}" },
    },
    aws_kms_key: { AlertsKey: { description: "Encrypts the SNS topic v-proxy-alerts", tags: { Name: "v-proxy-alerts" } } },
    aws_kms_alias: { AlertsAlias: { name: "alias/v-proxy-alerts", target_key_id: "${aws_kms_key.AlertsKey.key_id}" } },
    aws_sns_topic: { AlertsTopic: { name: "v-proxy-alerts" } },
    aws_sns_topic_subscription: {
      AlertsEmail: { topic_arn: "${aws_sns_topic.AlertsTopic.arn}", protocol: "email", endpoint: "ops@example.com" },
      OtherEmail: { topic_arn: "${aws_sns_topic.AlertsTopic.arn}", protocol: "email", endpoint: "other@example.com" },
    },
    aws_ssm_parameter: { Allowlist: { name: "/p/v/squid-allowlist" } },
    aws_cloudwatch_dashboard: { Dashboard: { dashboard_name: "v-proxy" } },
  },
};

const key = (id: string, state: string, extra: Record<string, string> = {}) =>
  found("aws_kms_key", id, {
    id,
    description: "Encrypts the SNS topic v-proxy-alerts",
    "tags.Name": "v-proxy-alerts",
    key_state: state,
    ...extra,
  });
const subscription = (arn: string, endpoint = "ops@example.com") =>
  found("aws_sns_topic_subscription", arn, { topic_arn: "arn:aws:sns:r:1:v-proxy-alerts", protocol: "email", endpoint });

describe("the day-two kinds", () => {
  it("knows a metric filter in the state by log_group_name:name, the id its import takes", () => {
    const filters = [
      found("aws_cloudwatch_log_metric_filter", "/p/v/squid-access:v-proxy-Requests", {}),
      found("aws_cloudwatch_log_metric_filter", "/p/v/squid-access:v-proxy-Denied", {}),
      found("aws_cloudwatch_log_metric_filter", "/p/v/squid-allowlist:v-proxy-Requests", {}),
    ];
    expect(unknownToState(filters, DAY_TWO_STATE).map((f) => f.importId)).toEqual([
      "/p/v/squid-access:v-proxy-Denied",
      "/p/v/squid-allowlist:v-proxy-Requests",
    ]);
  });

  it("places each kind by its identifying settings: a filter by its log group and name, a subscription by its topic and address, a key by its description, an alias after its key", () => {
    const orphans = [
      found("aws_kms_alias", "alias/v-proxy-alerts", { name: "alias/v-proxy-alerts", target_key_id: "k-1" }),
      key("k-1", "Enabled"),
      found("aws_cloudwatch_log_metric_filter", "/p/v/squid-access:v-proxy-Denied", {
        name: "v-proxy-Denied",
        log_group_name: "/p/v/squid-access",
      }),
      subscription("arn:aws:sns:r:1:v-proxy-alerts:s-1"),
      found("aws_ssm_parameter", "/p/v/squid-allowlist", { name: "/p/v/squid-allowlist" }),
      found("aws_cloudwatch_dashboard", "v-proxy", { dashboard_name: "v-proxy" }),
      // Another log group's filter of the same name: the state's group is not its group.
      found("aws_cloudwatch_log_metric_filter", "/p/w/squid-access:v-proxy-Denied", {
        name: "v-proxy-Denied",
        log_group_name: "/p/w/squid-access",
      }),
    ];
    const placed = placeOrphans(orphans, DAY_TWO_STACK, DAY_TWO_STATE);
    expect(placed.map((o) => o.address)).toEqual([
      "aws_kms_alias.AlertsAlias",
      "aws_kms_key.AlertsKey",
      "aws_cloudwatch_log_metric_filter.DeniedFilter",
      "aws_sns_topic_subscription.AlertsEmail",
      "aws_ssm_parameter.Allowlist",
      "aws_cloudwatch_dashboard.Dashboard",
      undefined,
    ]);
    expect(importBlocks(placed).import).toEqual([
      { to: "aws_cloudwatch_dashboard.Dashboard", id: "v-proxy" },
      { to: "aws_cloudwatch_log_metric_filter.DeniedFilter", id: "/p/v/squid-access:v-proxy-Denied" },
      { to: "aws_kms_alias.AlertsAlias", id: "alias/v-proxy-alerts" },
      { to: "aws_kms_key.AlertsKey", id: "k-1" },
      { to: "aws_sns_topic_subscription.AlertsEmail", id: "arn:aws:sns:r:1:v-proxy-alerts:s-1" },
      { to: "aws_ssm_parameter.Allowlist", id: "/p/v/squid-allowlist" },
    ]);
  });
});

describe("judgeUnknown", () => {
  it("judges a key pending deletion, an alias of one and an unconfirmed subscription no orphans to adopt, saying why", () => {
    const leaving = key("k-old", "PendingDeletion", { deletion_date: "2026-12-12T00:00:00.000Z" });
    const alias = found("aws_kms_alias", "alias/old", { name: "alias/old", target_key_id: "k-old", target_key_state: "PendingDeletion" });
    const pending = subscription("PendingConfirmation", "new@example.com");
    const live = [key("k-1", "Enabled"), key("k-2", "Disabled"), subscription("arn:aws:sns:r:1:v-proxy-alerts:s-1")];
    const { adoptable, notAdopted } = judgeUnknown([leaving, ...live, alias, pending]);
    expect(adoptable).toEqual(live);
    expect(notAdopted.map((n) => [n.resource, n.reason])).toEqual([
      [
        leaving,
        "pending deletion (deleted on 2026-12-12T00:00:00.000Z): not an orphan to adopt, Terraform cannot manage a key pending deletion; to keep it, aws kms cancel-key-deletion --key-id k-old and sweep again, else leave it to AWS",
      ],
      [alias, "its key k-old is pending deletion and the alias goes with it: not an orphan to adopt"],
      [pending, expect.stringMatching(/^email subscription of new@example.com pending confirmation: AWS lists no ARN to import it by/)],
    ]);
  });

  it("lets a key pending deletion not take the address of the live key it looks like", () => {
    const { adoptable } = judgeUnknown([key("k-old", "PendingDeletion"), key("k-1", "Enabled")]);
    expect(placeOrphans(adoptable, DAY_TWO_STACK, DAY_TWO_STATE).map((o) => [o.resource.importId, o.address])).toEqual([
      ["k-1", "aws_kms_key.AlertsKey"],
    ]);
    // Without the judgement the first found, pending deletion, would take the address and be imported.
    expect(
      placeOrphans([key("k-old", "PendingDeletion"), key("k-1", "Enabled")], DAY_TWO_STACK, DAY_TWO_STATE).map((o) => o.address),
    ).toEqual(["aws_kms_key.AlertsKey", undefined]);
    expect(adoptionRefusal(key("k-1", "Enabled"))).toBeUndefined();
  });
});

describe("importBlocks", () => {
  it("writes one block per placed orphan, sorted by address, and none for the others", () => {
    const blocks = importBlocks([
      { resource: found("aws_vpc", "vpc-a", {}), address: "aws_vpc.AppVpc" },
      { resource: found("aws_vpc", "vpc-x", {}) },
      { resource: found("aws_route", "rtb-a_10.0.0.0/24", {}), address: "aws_route.AppToProxy" },
    ]);
    expect(blocks).toEqual({
      import: [
        { to: "aws_route.AppToProxy", id: "rtb-a_10.0.0.0/24" },
        { to: "aws_vpc.AppVpc", id: "vpc-a" },
      ],
    });
    expect(importsFileProblem(writeTemp(JSON.stringify(blocks)))).toBeUndefined();
  });
});

function writeTemp(text: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "imports-")), "imports.tf.json");
  fs.writeFileSync(file, text);
  return file;
}

describe("importsFileProblem", () => {
  it.each([
    ["a missing file", undefined, /cannot be read \(ENOENT\)/],
    ["text that is not JSON", "import {", /is not JSON/],
    ["JSON of another shape", JSON.stringify({ resource: {} }), /holds something other than import blocks/],
    ["blocks without an id", JSON.stringify({ import: [{ to: "aws_vpc.a" }] }), /holds something other than import blocks/],
  ])("refuses %s", (_what, text, message) => {
    const file = text === undefined ? path.join(os.tmpdir(), "no-such-imports.tf.json") : writeTemp(text);
    expect(importsFileProblem(file)).toMatch(message);
  });
});

describe("sweepCoverage", () => {
  const emulator = {
    aws_vpc: ["vpc-p", "vpc-a"],
    aws_route: ["rtb-p_192.168.0.0/24", "rtb-a_10.0.0.0/24"],
    aws_iam_role_policy_attachment: ["v-proxy/arn:aws:iam::aws:policy/A"],
  };

  it("takes the true orphans from the emulator minus the state, and finds none missed when the sweep reports them all", () => {
    const swept = [
      { type: "aws_vpc", importId: "vpc-a" },
      { type: "aws_route", importId: "rtb-a_10.0.0.0/24" },
    ];
    expect(sweepCoverage(emulator, STATE, swept)).toEqual({
      orphans: ["aws_route rtb-a_10.0.0.0/24", "aws_vpc vpc-a"],
      missed: [],
      extra: [],
    });
  });

  it("names the orphans the sweep missed and what it reported wrongly", () => {
    const swept = [
      { type: "aws_vpc", importId: "vpc-a" },
      { type: "aws_vpc", importId: "vpc-p" },
    ];
    expect(sweepCoverage(emulator, STATE, swept)).toEqual({
      orphans: ["aws_route rtb-a_10.0.0.0/24", "aws_vpc vpc-a"],
      missed: ["aws_route rtb-a_10.0.0.0/24"],
      extra: ["aws_vpc vpc-p"],
    });
  });
});

describe("npm run orphans: bad input, before any AWS call", () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [TS_RUNNER, path.join(ROOT, "scripts", "orphans.ts"), ...args], {
      cwd: ROOT,
      encoding: "utf8",
      env: {
        PATH: process.env.PATH,
        HOME: fs.mkdtempSync(path.join(os.tmpdir(), "home-")),
        AWS_CONFIG_FILE: "/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
        AWS_EC2_METADATA_DISABLED: "true",
        PROXY_ENVIRONMENTS_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "no-environments-")),
        ...env,
      },
    });

  // The demos' names in the order the script lists them (file names sorted), read from demos/.
  const demoNames = fs
    .readdirSync(path.join(ROOT, "demos"))
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => f.replace(/\.json$/, ""))
    .join(", ");

  it("refuses an unknown environment, naming the known ones", () => {
    const r = run(["staging"]);
    expect(r.status).toBe(1);
    expect(demoNames).toContain("verification");
    expect(r.stderr.trim()).toMatch(
      new RegExp(
        `^environment = "staging" is not one of the environments \\(${demoNames}\\) of the demos of demos/ \\(.*no-environments-\\w+/ holds no environment file\\); name one of them, or set PROXY_CONFIG to its file$`,
      ),
    );
  });

  it("asks for an environment when none is given", () => {
    const r = run([]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`npm run orphans needs an environment: npm run orphans -- <environment>, one of ${demoNames}`);
  });

  it("says how to provide credentials when there are none, with no stack trace", () => {
    const r = run(["verification"]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^AWS credentials: none found while reading the state s3:\/\/proxy-over-peering-tfstate-example\/proxy-over-peering\/verification\/terraform\.tfstate\. Set AWS_PROFILE/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses an environment file without a region, naming the setting", () => {
    const raw = JSON.parse(fs.readFileSync(path.join(ROOT, "demos", "verification.json"), "utf8"));
    delete raw.region;
    const file = writeTemp(JSON.stringify(raw));
    const r = run(["verification"], { PROXY_CONFIG: file });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/`region`/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
