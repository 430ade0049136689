import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App } from "cdktf";
import { addProjectStacks } from "../constructs/project-stacks";
import { environmentFiles, loadEnvironments } from "../lib/config";
import {
  awsProviderTarget,
  cliConfigText,
  findProviderMirror,
  isProviderMirror,
  MIRROR_SETTING,
  providerFolder,
  REATTACH_SETTING,
  SharedProvider,
  startSharedProvider,
  terraformEnv,
  terraformPlatform,
} from "../proof/terraform";
import { enforcePolicy } from "../lib/policy/pack";
import { CONFIG_DIR, EXAMPLES_DIR } from "./helpers/stack";

const TERRAFORM_TIMEOUT_MS = 120_000;

/** A fake mirror folder in the unpacked layout. */
function fakeMirror(): string {
  const { source, version } = awsProviderTarget();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mirror-"));
  const platformDir = path.join(dir, ...source.split("/"), version, terraformPlatform());
  fs.mkdirSync(platformDir, { recursive: true });
  fs.writeFileSync(path.join(platformDir, `terraform-provider-aws_v${version}_x5`), "");
  return dir;
}

describe("the provider mirror", () => {
  it("targets the provider version that @cdktf/provider-aws was generated for", () => {
    expect(awsProviderTarget()).toEqual({ source: "registry.terraform.io/hashicorp/aws", version: "5.100.0" });
  });

  it("takes the folder that PROXY_PROVIDER_MIRROR names", () => {
    const dir = fakeMirror();
    expect(isProviderMirror(dir)).toBe(true);
    expect(findProviderMirror({ [MIRROR_SETTING]: dir })).toBe(dir);
  });

  it("explains a setting that points at no mirror, naming the setting and the layout", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "nomirror-"));
    expect(() => findProviderMirror({ [MIRROR_SETTING]: empty })).toThrow(
      new RegExp(
        `^${MIRROR_SETTING} = ".*nomirror-\\w+" does not hold registry\\.terraform\\.io/hashicorp/aws 5\\.100\\.0 .*Point it at the folder that holds registry\\.terraform\\.io`,
      ),
    );
  });

  it("writes a CLI config that installs the AWS provider from the mirror only", () => {
    const text = cliConfigText("/mirror");
    expect(text).toMatch(/filesystem_mirror \{\n\s+path\s+= "\/mirror"\n\s+include = \["registry\.terraform\.io\/hashicorp\/aws"\]/);
    expect(text).toMatch(/direct \{\n\s+exclude = \["registry\.terraform\.io\/hashicorp\/aws"\]/);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "tfenv-"));
    const { env, mirror } = terraformEnv({ [MIRROR_SETTING]: fakeMirror() }, work);
    expect(fs.readFileSync(env.TF_CLI_CONFIG_FILE!, "utf8")).toContain(`path    = ${JSON.stringify(mirror)}`);
    expect(env.TF_INPUT).toBe("0");
  });
});

/** Runs terraform in `dir`, failing the test with Terraform's own words. */
function terraform(dir: string, env: NodeJS.ProcessEnv, args: string[]): string {
  const result = spawnSync("terraform", args, { cwd: dir, env, encoding: "utf8", timeout: TERRAFORM_TIMEOUT_MS });
  if (result.error) throw new Error(`terraform ${args[0]} could not run: ${result.error.message}. Install Terraform 1.10 or later.`);
  if (result.status !== 0 && args[0] !== "validate")
    throw new Error(`terraform ${args.join(" ")} exited ${result.status}:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** A diagnostic of `terraform validate -json`. */
interface Diagnostic {
  severity: string;
  summary: string;
  detail?: string;
  range?: { filename: string };
}

/** Terraform's note on a stack called as a module: its backend block was read, and applies to a root module only. */
const BACKEND_IGNORED = "Backend configuration ignored";

describe("terraform validate", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "validate-"));
  const { env } = terraformEnv(process.env, path.join(work, "cli"));
  const outdir = path.join(work, "out");
  const app = new App({ outdir });
  // The examples are templates that `npx cdktf synth` leaves alone; they are validated here all the same.
  addProjectStacks(app, loadEnvironments([...environmentFiles(CONFIG_DIR), ...environmentFiles(EXAMPLES_DIR)]), {
    localStateDir: path.join(work, "state"),
  });
  const suppressions = enforcePolicy(app);
  app.synth();
  const stacks = fs.readdirSync(path.join(outdir, "stacks"));

  // One Terraform run for every stack: each stack's folder, unchanged, is a module of one root, and
  // Terraform attaches to one AWS provider process instead of starting one per stack's provider block.
  let result: { valid: boolean; diagnostics: Diagnostic[] };
  let provider: SharedProvider | undefined;
  beforeAll(async () => {
    const root = path.join(work, "all");
    fs.mkdirSync(root);
    const modules = Object.fromEntries(stacks.map((name, i) => [`stack_${i}`, { source: `../out/stacks/${name}` }]));
    fs.writeFileSync(path.join(root, "main.tf.json"), JSON.stringify({ module: modules }, null, 2));
    terraform(root, env, ["init", "-backend=false", "-input=false", "-no-color"]);
    provider = await startSharedProvider(providerFolder(path.join(root, ".terraform", "providers")), path.join(work, "provider.log"));
    result = JSON.parse(terraform(root, { ...env, [REATTACH_SETTING]: provider.reattach }, ["validate", "-json", "-no-color"]));
  });
  afterAll(async () => {
    await provider?.stop();
  });

  it("stops the provider process Terraform attached to by its PID", async () => {
    expect(() => process.kill(provider!.pid, 0)).not.toThrow();
    await provider!.stop();
    expect(() => process.kill(provider!.pid, 0)).toThrow();
  });

  /** The diagnostics in a stack's files, and those in no file (they could be anyone's). */
  const diagnosticsOf = (name: string) =>
    result.diagnostics.filter((d) => !d.range || path.basename(path.dirname(d.range.filename)) === name);
  const text = (d: Diagnostic) => `${d.severity}: ${d.summary} ${d.detail ?? ""}`;

  it("finds every environment and example within the policy pack, with no suppression but the fleet demo's stated one", () => {
    // verification-fleet is deployed to be destroyed again (the rehearsal does), so its load balancer has no deletion protection.
    expect(suppressions).toEqual([
      { rule: "PX-ELB-DELETION-PROTECTION", path: "privatelink/Proxy/LoadBalancer", reason: expect.stringMatching(/torn down/) },
      { rule: "PX-ELB-DELETION-PROTECTION", path: "verification-fleet/Proxy/LoadBalancer", reason: expect.stringMatching(/torn down/) },
    ]);
  });

  it("covers the bootstrap stacks and every environment", () => {
    expect(stacks).toEqual(expect.arrayContaining(["verification", "production", "state-proxy-over-peering-tfstate-example"]));
  });

  it("finds no error in any stack", () => {
    expect(result.diagnostics.filter((d) => d.severity === "error").map(text)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it.each(stacks)("accepts the stack %s exactly as synthesized (backend included)", (name) => {
    const own = diagnosticsOf(name);
    expect(own.filter((d) => d.summary !== BACKEND_IGNORED).map(text)).toEqual([]);
    // Its backend block was read: Terraform says so once, as it does of any module's.
    expect(own.filter((d) => d.summary === BACKEND_IGNORED)).toHaveLength(1);
  });
});
