import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Config } from "@jest/types";
import { onPath, spawnMoto, StartingMoto } from "../proof/moto";

/** The environment variable that names this run's temporary folder, removed by global-teardown.ts. */
export const RUN_DIR_SETTING = "PROXY_TEST_RUN_DIR";

/** The environment variable that holds the shared emulator's endpoint (helpers/moto.ts), unset when moto is not installed. */
export const MOTO_ENDPOINT_SETTING = "PROXY_TEST_MOTO_ENDPOINT";

const RUN_DIR_PREFIX = "proxy-tests-";

/** The suites that use the shared emulator (helpers/moto.ts); a run that selects none of them starts no emulator. */
const MOTO_SUITES = ["emulator-server.test.ts", "orphan-inventory.test.ts"];

/** The shared emulator, for global-teardown.ts (Jest runs both hooks in its own process). */
export const sharedMoto: { server?: StartingMoto } = ((globalThis as any).__proxyTestMoto ??= {});

/** True unless the run's test pattern or testMatch leaves out every suite that uses the shared emulator. */
function selectsMotoSuite(globalConfig?: Config.GlobalConfig, projectConfig?: Config.ProjectConfig): boolean {
  if (!globalConfig || !projectConfig) return true;
  const pattern = globalConfig.testPathPattern ? new RegExp(globalConfig.testPathPattern, "i") : undefined;
  return MOTO_SUITES.some(
    (name) =>
      (!pattern || pattern.test(path.join(projectConfig.rootDir, "__tests__", name))) &&
      projectConfig.testMatch.some((glob) => glob === "**/*.test.ts" || glob.endsWith(`/${name}`)),
  );
}

/** True while a process with this id runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Settings for every test and every command a test runs, set in Jest's own process so that the
 * workers, os.tmpdir() and child processes all inherit them (a test file's `process.env` is a copy
 * that neither os.tmpdir() nor a child spawned without `env` sees).
 */
export default async function globalSetup(globalConfig?: Config.GlobalConfig, projectConfig?: Config.ProjectConfig): Promise<void> {
  // Remembered: TMPDIR points into this run's folder afterwards, and watch mode or Stryker run the setup again.
  const systemTmp = (process.env.PROXY_TEST_SYSTEM_TMP ??= os.tmpdir());
  // Folders of earlier runs that were killed before their teardown; runs at the same time each have their own.
  for (const entry of fs.readdirSync(systemTmp).filter((e) => e.startsWith(RUN_DIR_PREFIX))) {
    const pid = Number(entry.slice(RUN_DIR_PREFIX.length));
    if (Number.isInteger(pid) && !alive(pid)) fs.rmSync(path.join(systemTmp, entry), { recursive: true, force: true });
  }
  const runDir = path.join(systemTmp, `${RUN_DIR_PREFIX}${process.pid}`);
  const tmp = path.join(runDir, "tmp");
  const noEnvironments = path.join(runDir, "no-environments");
  fs.mkdirSync(tmp, { recursive: true });
  fs.mkdirSync(noEnvironments, { recursive: true });
  process.env[RUN_DIR_SETTING] = runDir;
  // Testing.fullSynth, Testing.app, mkdtemp and Terraform leave folders in the temporary directory.
  process.env.TMPDIR = tmp;
  // The user's own environments/ must not change what the tests see: commands read an empty folder unless a test names one.
  process.env.PROXY_ENVIRONMENTS_DIR = noEnvironments;
  // The AWS SDK's notice that its 2027 releases need Node 22 says nothing about the code under test.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  // One emulator for the suites that only call AWS APIs, started now and awaited by them (a start costs seconds of CPU).
  delete process.env[MOTO_ENDPOINT_SETTING];
  if (onPath("moto_server") && selectsMotoSuite(globalConfig, projectConfig)) {
    sharedMoto.server = await spawnMoto(path.join(runDir, "moto"));
    process.env[MOTO_ENDPOINT_SETTING] = sharedMoto.server.endpoint;
  }
}
