/**
 * Which environment files a command works on. The user's own files live in `environments/`; the
 * demos that the tests, CI and README prove live in `demos/` and are used only when the user has
 * none, or when PROXY_CONFIG names one. PROXY_CONFIG names any single file anywhere.
 */
import * as path from "path";
import { ConfigError, jsonFilesOf } from "./load";

/** The folder of the user's own environment files, relative to the project root. */
export const ENVIRONMENTS_FOLDER = "environments";
/** The folder of the demo environments that the project's proof uses, relative to the project root. */
export const DEMOS_FOLDER = "demos";

/** Where environment files lived before environments/ and demos/: files left there are refused, not silently ignored. */
const LEGACY_FOLDER = "config";

/** Where a selection of environment files came from. */
export type EnvironmentOrigin = "PROXY_CONFIG" | "environments" | "demos";

export interface EnvironmentSelection {
  /** The files, absolute, sorted by name within a folder. */
  readonly files: readonly string[];
  readonly origin: EnvironmentOrigin;
  /** The selection in words for messages, such as "the files of environments/". */
  readonly description: string;
}

export interface SelectionSettings {
  /** PROXY_CONFIG: one environment file, anywhere. */
  readonly proxyConfig?: string;
  /** PROXY_ENVIRONMENTS_DIR: the user's folder, if not `<root>/environments`. */
  readonly environmentsDir?: string;
}

/** The selection settings of a command's environment variables (entry points pass process.env). */
export function selectionSettings(env: Readonly<Record<string, string | undefined>>): SelectionSettings {
  return { proxyConfig: env.PROXY_CONFIG || undefined, environmentsDir: env.PROXY_ENVIRONMENTS_DIR || undefined };
}

/**
 * The environment files to work on: PROXY_CONFIG's file; else the user's files in environments/;
 * else, when that folder holds none, the demos.
 */
export function selectEnvironmentFiles(root: string, settings: SelectionSettings = {}): EnvironmentSelection {
  if (settings.proxyConfig) {
    const file = path.resolve(settings.proxyConfig);
    return { files: [file], origin: "PROXY_CONFIG", description: `PROXY_CONFIG=${settings.proxyConfig}` };
  }
  const legacy = jsonFilesOf(path.join(root, LEGACY_FOLDER));
  if (legacy.length > 0) {
    const names = legacy.map((f) => `${LEGACY_FOLDER}/${path.basename(f)}`).join(", ");
    throw new ConfigError(
      `${LEGACY_FOLDER}/ is no longer read, and it holds ${names}: move your environment files to ${ENVIRONMENTS_FOLDER}/ (git mv ${LEGACY_FOLDER}/<file> ${ENVIRONMENTS_FOLDER}/) and delete copies of the demos, which now live in ${DEMOS_FOLDER}/; then ${LEGACY_FOLDER}/ can go.`,
    );
  }
  const userDir = path.resolve(settings.environmentsDir || path.join(root, ENVIRONMENTS_FOLDER));
  const userFiles = jsonFilesOf(userDir);
  if (userFiles.length > 0) return { files: userFiles, origin: "environments", description: `the files of ${displayDir(root, userDir)}` };
  const demoDir = path.join(root, DEMOS_FOLDER);
  const demoFiles = jsonFilesOf(demoDir);
  if (demoFiles.length === 0) {
    throw new ConfigError(
      `${displayDir(root, userDir)} and ${DEMOS_FOLDER}/ hold no environment files (*.json); add yours to ${displayDir(root, userDir)}, for example a copy of ${DEMOS_FOLDER}/verification.json with your own name and state bucket.`,
    );
  }
  return {
    files: demoFiles,
    origin: "demos",
    description: `the demos of ${DEMOS_FOLDER}/ (${displayDir(root, userDir)} holds no environment file)`,
  };
}

function displayDir(root: string, dir: string): string {
  const relative = path.relative(root, dir);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? `${relative}/` : `${dir}/`;
}
