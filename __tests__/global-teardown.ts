import * as fs from "fs";
import { RUN_DIR_SETTING, sharedMoto } from "./global-setup";

/** Stops the shared emulator and removes this run's temporary folder (global-setup.ts). */
export default async function globalTeardown(): Promise<void> {
  await sharedMoto.server?.stop();
  sharedMoto.server = undefined;
  const runDir = process.env[RUN_DIR_SETTING];
  if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
}
