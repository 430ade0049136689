/**
 * `npm run orphans -- <environment> [--json <file>]`: a read-only sweep for what an interrupted or killed apply left behind,
 * listed with its likely Terraform address and written as import blocks for `npm run deploy -- <environment> --imports`.
 * Exit codes: 0 no orphans, 2 orphans found, 1 the sweep could not run (see USAGE for the settings).
 */
import { GetObjectCommand, NoSuchKey, S3Client } from "@aws-sdk/client-s3";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, EnvironmentConfig, loadEnvironments, stateKey, selectEnvironmentFiles, selectionSettings } from "../lib/config";
import { checkedEmulatorEndpoint } from "../lib/emulator";
import { LOCAL_STATE_FOLDER, orphanImportsFile } from "../lib/naming";
import { readInventory } from "../operations/orphan-inventory";
import { importBlocks, judgeUnknown, placeOrphans, SynthesizedStack, TerraformState, unknownToState } from "../operations/orphans";
import { answerHelp, TS_RUNNER } from "../tools/cli";

const USAGE = `
Usage: npm run orphans -- <environment> [--json <file>]

A read-only sweep for what an interrupted or killed apply left behind: every resource that carries
the environment's Project and Environment tags but that its state in S3 does not know, with the
Terraform address it most likely belongs to, written as import blocks to
state/<environment>.orphans.tf.json. A KMS key pending deletion and an unconfirmed email
subscription are listed as not adopted, with why. Exit 0 none, 2 orphans found, 1 the sweep could
not run.

Options:
  --json <file>  also write the findings as JSON
  --help         print this and do nothing else

Settings (environment): the environment files as for npx cdktf synth; AWS credentials as for
Terraform; PROXY_STATE_DIR; PROXY_EMULATOR_ENDPOINT for the emulator.

Example:
  npm run orphans -- my-env        # exit 2: orphans found, import blocks written
  npm run deploy -- my-env --imports state/my-env.orphans.tf.json
`;
answerHelp(USAGE);

const ROOT = path.join(__dirname, "..");
// The SDK warns on Node 20 about its releases from 2027 on; the versions pinned here support it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

class SweepError extends Error {}

function environmentNamed(name: string | undefined): { env: EnvironmentConfig; file: string } {
  const selection = selectEnvironmentFiles(ROOT, selectionSettings(process.env));
  const files = selection.files;
  const envs = loadEnvironments(files);
  const names = envs.map((e) => e.name);
  if (!name) throw new SweepError(`npm run orphans needs an environment: npm run orphans -- <environment>, one of ${names.join(", ")}`);
  const at = names.indexOf(name);
  if (at < 0) {
    throw new SweepError(
      `environment = "${name}" is not one of the environments (${names.join(", ")}) of ${selection.description}; name one of them, or set PROXY_CONFIG to its file`,
    );
  }
  return { env: envs[at], file: files[at] };
}

/** AWS's own words for a missing credential or region, turned into a fix. */
function awsProblem(e: unknown, what: string): SweepError {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (err.name === "CredentialsProviderError" || /Could not load credentials/i.test(err.message ?? "")) {
    return new SweepError(
      `AWS credentials: none found while ${what}. Set AWS_PROFILE (and run aws sso login for an SSO profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, as for terraform apply; then run again.`,
    );
  }
  if (err.name === "ExpiredToken" || err.name === "ExpiredTokenException") {
    return new SweepError(`AWS credentials: the session has expired while ${what}. Renew it (aws sso login, or new keys) and run again.`);
  }
  if (err.$metadata?.httpStatusCode === 403 || /AccessDenied|UnauthorizedOperation/i.test(`${err.name} ${err.message}`)) {
    return new SweepError(
      `AWS denied ${what}: ${err.message}. The sweep needs read access (ReadOnlyAccess, or the Describe/List/Get calls of EC2, IAM, Auto Scaling, Elastic Load Balancing, Route 53 Resolver, SSM, CloudWatch, CloudWatch Logs, SNS, KMS, tag:GetResources and s3:GetObject on the state).`,
    );
  }
  return new SweepError(`${what} failed: ${err.name ?? "error"}: ${err.message ?? String(e)}`);
}

async function readState(env: EnvironmentConfig, endpoint: string | undefined): Promise<{ state: TerraformState; note?: string }> {
  const region = env.state.region ?? env.region;
  const s3 = new S3Client({ region, ...(endpoint ? { endpoint, forcePathStyle: true } : {}) });
  const key = stateKey(env);
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: env.state.bucket, Key: key }));
    return { state: JSON.parse(await r.Body!.transformToString()) };
  } catch (e) {
    if (e instanceof NoSuchKey || (e as { name?: string }).name === "NoSuchKey") {
      return {
        state: {},
        note: `s3://${env.state.bucket}/${key} does not exist yet: a first apply that was killed saves no state, so everything found counts`,
      };
    }
    throw awsProblem(e, `reading the state s3://${env.state.bucket}/${key}`);
  }
}

function synthesized(file: string, name: string): SynthesizedStack {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "orphans-"));
  try {
    const r = spawnSync(process.execPath, [TS_RUNNER, path.join(ROOT, "main.ts")], {
      env: { ...process.env, PROXY_CONFIG: file, CDKTF_OUTDIR: out, PROXY_STATE_DIR: path.join(out, "state") },
      encoding: "utf8",
    });
    if (r.status !== 0) throw new SweepError(`synthesizing ${name} failed:\n${r.stderr.trim()}`);
    return JSON.parse(fs.readFileSync(path.join(out, "stacks", name, "cdk.tf.json"), "utf8"));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const jsonAt = args.indexOf("--json");
  const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
  if (jsonAt >= 0 && !jsonFile) throw new SweepError("--json needs a file: --json orphans.json");
  const name = args.find((a, i) => !a.startsWith("-") && (jsonAt < 0 || i !== jsonAt + 1));
  const { env, file } = environmentNamed(name);
  const endpoint = process.env.PROXY_EMULATOR_ENDPOINT
    ? checkedEmulatorEndpoint(process.env.PROXY_EMULATOR_ENDPOINT, "PROXY_EMULATOR_ENDPOINT")
    : undefined;

  const { state, note } = await readState(env, endpoint);
  if (note) console.log(`state: ${note}`);
  const stack = synthesized(file, env.name);
  let inventory;
  try {
    inventory = await readInventory({ region: env.region, project: env.project, environment: env.name, endpoint });
  } catch (e) {
    throw e instanceof SweepError ? e : awsProblem(e, `listing the resources of ${env.name} in ${env.region}`);
  }
  const { adoptable, notAdopted } = judgeUnknown(unknownToState(inventory.found, state));
  const orphans = placeOrphans(adoptable, stack, state);
  const stateCount = (state.resources ?? []).filter((r) => r.mode === "managed").reduce((n, r) => n + r.instances.length, 0);
  console.log(
    `${env.name} in ${env.region}: ${inventory.found.length} resources carry its tags or belong to ones that do; the state holds ${stateCount}; ${orphans.length} orphan(s)`,
  );
  for (const o of orphans) {
    console.log(
      `  ${o.resource.type.padEnd(36)} ${o.resource.importId}  ->  ${o.address ?? "no address fits: import it by hand, or delete it"}`,
    );
  }
  for (const n of notAdopted) console.log(`  ${n.resource.type.padEnd(36)} ${n.resource.importId}  ->  not adopted: ${n.reason}`);
  for (const u of inventory.unknownKinds) console.log(`  tagged, of a kind the sweep does not map: ${u.arn} (check it by hand)`);

  const stateDir = path.resolve(process.env.PROXY_STATE_DIR || path.join(ROOT, LOCAL_STATE_FOLDER));
  const importsFile = orphanImportsFile(stateDir, env.name);
  const blocks = importBlocks(orphans);
  if (blocks.import.length > 0) {
    fs.mkdirSync(stateDir, { recursive: true });
    fs.writeFileSync(importsFile, `${JSON.stringify(blocks, null, 2)}\n`);
    console.log(
      `wrote ${blocks.import.length} import block(s) to ${path.relative(process.cwd(), importsFile)}: review them, then adopt the orphans with npm run deploy -- ${env.name} --imports ${path.relative(process.cwd(), importsFile)}`,
    );
  } else if (fs.existsSync(importsFile)) {
    console.log(`${path.relative(process.cwd(), importsFile)} is from an earlier sweep and no longer applies; it was left as it is`);
  }
  if (jsonFile)
    fs.writeFileSync(
      jsonFile,
      `${JSON.stringify({ orphans, notAdopted, unknownKinds: inventory.unknownKinds, found: inventory.found.length, inState: stateCount }, null, 2)}\n`,
    );
  return orphans.length + inventory.unknownKinds.length > 0 ? 2 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof SweepError || e instanceof ConfigError ? e.message : `the sweep failed: ${(e as Error).message}`);
    process.exit(1);
  },
);
