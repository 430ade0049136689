import * as fs from "fs";
import * as path from "path";
import { outputNames } from "../lib/naming";
import {
  OUTPUTS_END,
  OUTPUTS_START,
  outputRows,
  outputsTable,
  projectOutputsTable,
  stackOutputs,
  withOutputsTable,
} from "../tools/outputs-table";
import { configFrom, fleetRaw, verificationConfig, verificationRaw } from "./helpers/stack";

describe("the README's outputs table", () => {
  const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
  const table = projectOutputsTable();

  it("is what the stacks define (run `npm run docs` after adding or describing an output)", () => {
    expect(readme).toBe(withOutputsTable(readme, table));
  });

  it("lists the outputs of the demos, the examples and the bootstrap stack, each with its description", () => {
    expect(table).toContain("| `proxy_url` | The proxy setting for app servers |");
    expect(table).toContain("| `proxy_access_log_group` | CloudWatch Logs group with Squid's access log |");
    expect(table).toContain("| `vpn_gateway_id` | The proxy VPC's virtual private gateway, for the Direct Connect private VIF |");
    expect(table).toContain("| `nat_gateway_addresses` |");
    expect(table).toContain("| `state_bucket` | The bucket that holds the environments' state |");
    expect(table).toContain("| `proxy_dashboard` | The CloudWatch dashboard of the proxy |");
    expect(table).toMatch(/\| `proxy_dashboard_url` \| The proxy's dashboard in the console: requests, denials by app VPC/);
  });

  it("gives an output described two ways a row for each: the single proxy's address and the fleet's name", () => {
    expect(table).toContain("| `proxy_address` | The proxy's fixed private address |");
    expect(table).toContain("| `proxy_address` | The proxy fleet's load balancer, by DNS name (it answers with the zones that are up) |");
  });

  it("shows an app VPC's outputs once, with <app> for its name in the output and in the description", () => {
    expect(table).toContain("| `peering_<app>_id` | Peering between app VPC &lt;app&gt; and the proxy VPC |");
    expect(table).toContain("| `app_server_<app>_id` | The Windows app server in &lt;app&gt;; connect with Session Manager |");
    expect(table).not.toMatch(/peering_app_id|peering_batch_id|app-name-stand-in/);
  });

  it("reads every output a stack synthesizes, a bootstrap stack's too", () => {
    const stacks = stackOutputs([verificationConfig()]);
    expect(stacks.map((s) => s.stack)).toEqual(["state-<bucket>", "verification"]);
    const single = stacks[1];
    expect(Object.keys(single.outputs)).toEqual(
      expect.arrayContaining([outputNames.proxyUrl, outputNames.appServerId("<app>"), outputNames.serviceUrl]),
    );
    expect(single.outputs[outputNames.proxyLoadBalancerAddresses]).toBeUndefined();
    expect(Object.keys(single.outputs)).toEqual(expect.arrayContaining([outputNames.proxyDashboard, outputNames.proxyDashboardUrl]));
    const fleet = stackOutputs([configFrom(fleetRaw({ size: 2 }))]).find((s) => s.stack !== "state-<bucket>")!;
    expect(fleet.outputs[outputNames.proxyLoadBalancerAddresses]).toBe("The load balancer's fixed address in each proxy subnet");
    for (const { outputs } of [...stacks, fleet]) for (const output of Object.keys(outputs)) expect(table).toContain(`| \`${output}\` |`);
  });

  it("gives an output a row per description, once however many stacks have it, in the order of lib/naming.ts", () => {
    const rows = outputRows([
      { stack: "b", outputs: { state_bucket: "the bucket", proxy_address: "an address" } },
      { stack: "a", outputs: { proxy_address: "a name", proxy_url: "the setting", zz_extra: "other" } },
      { stack: "c", outputs: { proxy_address: "an address" } },
    ]);
    expect(rows.map((r) => [r.output, r.description])).toEqual([
      ["proxy_address", "a name"],
      ["proxy_address", "an address"],
      ["proxy_url", "the setting"],
      ["state_bucket", "the bucket"],
      ["zz_extra", "other"],
    ]);
  });

  it("escapes what Markdown would misread", () => {
    expect(outputsTable([{ stack: "s", outputs: { x: "a | b <c>" } }])).toContain("| `x` | a \\| b &lt;c&gt; |");
  });

  it("notices a stale copy, and a README without markers", () => {
    const raw = verificationRaw();
    raw.name = "renamed";
    const stale = withOutputsTable(readme, outputsTable(stackOutputs([configFrom(raw)])));
    expect(withOutputsTable(stale, table)).toBe(readme);
    expect(stale).not.toBe(readme);
    expect(() => withOutputsTable(readme.replace(OUTPUTS_START, "").replace(OUTPUTS_END, ""), table)).toThrow(
      /README.md has no outputs markers/,
    );
  });
});
