import * as fs from "fs";
import { RUN_DIR_SETTING } from "./global-setup";

/** Removes this run's temporary folder (global-setup.ts). */
export default function globalTeardown(): void {
  const runDir = process.env[RUN_DIR_SETTING];
  if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
}
