/**
 * Running Terraform offline: find a local filesystem mirror of the AWS provider that
 * @cdktf/provider-aws targets, and write a Terraform CLI config that installs from it.
 * Where no mirror is found, Terraform's own configuration (the public registry) stays in charge.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The environment variable that names the mirror folder (the one holding registry.terraform.io). */
export const MIRROR_SETTING = "PROXY_PROVIDER_MIRROR";

/** The provider that @cdktf/provider-aws was generated for, such as registry.terraform.io/hashicorp/aws 5.100.0. */
export function awsProviderTarget(): { source: string; version: string } {
  const pkg = JSON.parse(fs.readFileSync(require.resolve("@cdktf/provider-aws/package.json"), "utf8"));
  return { source: pkg.cdktf.provider.name, version: pkg.cdktf.provider.version };
}

/** Terraform's platform name for this machine, such as linux_amd64. */
export function terraformPlatform(): string {
  const arch = ({ x64: "amd64", arm64: "arm64", ia32: "386", arm: "arm" } as Record<string, string>)[os.arch()] ?? os.arch();
  return `${process.platform === "win32" ? "windows" : process.platform}_${arch}`;
}

/** The folder of the target provider's binary under `base`: a mirror, or a root's .terraform/providers. */
export function providerFolder(base: string): string {
  const { source, version } = awsProviderTarget();
  return path.join(base, ...source.split("/"), version, terraformPlatform());
}

/** True when `dir` holds the target provider in the unpacked mirror layout. */
export function isProviderMirror(dir: string): boolean {
  const platformDir = providerFolder(dir);
  return (
    fs.existsSync(platformDir) &&
    fs.readdirSync(platformDir).some((f) => f.startsWith(`terraform-provider-aws_v${awsProviderTarget().version}`))
  );
}

/**
 * Where to look when the setting is absent: Terraform's implicit local mirror folders first, then
 * a bounded search of the places where images keep shared tools.
 */
function candidateRoots(env: NodeJS.ProcessEnv): string[] {
  const home = os.homedir();
  const xdg = env.XDG_DATA_HOME ?? path.join(home, ".local", "share");
  return [
    path.join(home, ".terraform.d", "plugins"),
    path.join(xdg, "terraform", "plugins"),
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
  ];
}

const SEARCH_ROOTS = ["/opt", "/usr/local", "/srv", "/var/lib"];

/**
 * The provider mirror folder: `PROXY_PROVIDER_MIRROR` when set (it must hold the provider), else
 * the first folder found by auto-detection, else undefined.
 */
export function findProviderMirror(env: NodeJS.ProcessEnv): string | undefined {
  const { source, version } = awsProviderTarget();
  const configured = env[MIRROR_SETTING];
  if (configured) {
    if (!isProviderMirror(configured)) {
      throw new Error(
        `${MIRROR_SETTING} = "${configured}" does not hold ${source} ${version} for ${terraformPlatform()} in the unpacked mirror layout ` +
          `(<folder>/${source}/${version}/${terraformPlatform()}/terraform-provider-aws_v${version}*). Point it at the folder that holds registry.terraform.io, or unset it.`,
      );
    }
    return path.resolve(configured);
  }
  const implicit = candidateRoots(env).find(isProviderMirror);
  if (implicit) return implicit;
  for (const root of SEARCH_ROOTS.filter((r) => fs.existsSync(r))) {
    const found = spawnSync(
      "find",
      [
        root,
        "-maxdepth",
        "8",
        "-path",
        `*/${source}/${version}/${terraformPlatform()}/terraform-provider-aws_v${version}*`,
        "-print",
        "-quit",
      ],
      {
        encoding: "utf8",
        timeout: 20_000,
      },
    ).stdout?.trim();
    if (found) {
      const mirror = path.resolve(path.dirname(found), ...Array(source.split("/").length + 2).fill(".."));
      if (isProviderMirror(mirror)) return mirror;
    }
  }
  return undefined;
}

/** The text of a Terraform CLI config that installs the AWS provider from `mirror` only. */
export function cliConfigText(mirror: string): string {
  const { source } = awsProviderTarget();
  return [
    "# Written by the proxy-over-peering project: the AWS provider comes from a local mirror.",
    "provider_installation {",
    "  filesystem_mirror {",
    `    path    = ${JSON.stringify(mirror)}`,
    `    include = [${JSON.stringify(source)}]`,
    "  }",
    "  direct {",
    `    exclude = [${JSON.stringify(source)}]`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/**
 * The environment for Terraform commands: no prompts, no version check, and, where a mirror is
 * found, a CLI config in `workDir` that installs from it.
 */
export function terraformEnv(env: NodeJS.ProcessEnv, workDir: string): { env: NodeJS.ProcessEnv; mirror?: string } {
  const result: NodeJS.ProcessEnv = { ...env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", TF_INPUT: "0" };
  const mirror = findProviderMirror(env);
  if (mirror) {
    fs.mkdirSync(workDir, { recursive: true });
    const file = path.join(workDir, "terraformrc");
    fs.writeFileSync(file, cliConfigText(mirror));
    result.TF_CLI_CONFIG_FILE = file;
  }
  return { env: result, mirror };
}

/** The setting that makes Terraform use a running provider instead of starting its own. */
export const REATTACH_SETTING = "TF_REATTACH_PROVIDERS";

/** A provider process that Terraform commands attach to: the setting's value, and `stop` (by its PID). */
export interface SharedProvider {
  readonly reattach: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts the AWS provider in `dir` (see {@link providerFolder}) once, in its debug mode, for Terraform
 * to attach to. Terraform otherwise starts it for every provider block and once more for its schema,
 * about 1 s of CPU each; what the provider answers is the same. Its output goes to `log`: a pipe that
 * nobody reads while a test waits on Terraform would stall it. It reads settings (credentials, endpoints)
 * from its own environment, not from Terraform's.
 */
export async function startSharedProvider(dir: string, log: string, timeoutMs = 60_000): Promise<SharedProvider> {
  const binary = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => f.startsWith("terraform-provider-aws")) : undefined;
  if (!binary) throw new Error(`no AWS provider in ${dir}: run terraform init, or name a provider mirror`);
  const fd = fs.openSync(log, "w");
  const child = spawn(path.join(dir, binary), ["-debug"], { stdio: ["ignore", fd, fd] });
  fs.closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let gone: string | undefined;
  child.once("error", (e) => (gone = e.message));
  child.once("exit", (code) => (gone ??= `it exited with ${code}`));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = new RegExp(`${REATTACH_SETTING}='([^']+)'`).exec(fs.readFileSync(log, "utf8"));
    if (found) return { reattach: found[1], pid: child.pid!, stop };
    const why = gone ?? (Date.now() > deadline ? `it printed no ${REATTACH_SETTING} within ${timeoutMs / 1000} s` : undefined);
    if (why) {
      await stop();
      throw new Error(`The AWS provider (${binary}) did not start for Terraform to attach: ${why}. Its output is in ${log}.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
