import { App } from "cdktf";
import { EnvironmentConfig, stateBuckets } from "../lib/config";
import { bootstrapStackName, bootstrapStateFile } from "../lib/naming";
import { BootstrapStack } from "./bootstrap-stack";
import { EnvironmentStack } from "./environment-stack";

/** Options of {@link addProjectStacks}. */
export interface ProjectStacksOptions {
  /** Send every environment's AWS calls to this loopback emulator. @default real AWS */
  readonly emulatorEndpoint?: string;
  /**
   * The absolute path of the folder where bootstrap stacks keep their local state: outside the
   * synthesis output, which cdktf rewrites and prunes.
   */
  readonly localStateDir: string;
}

/**
 * Every stack of the project: one bootstrap stack per state bucket (deployed first, once), then
 * one stack per environment. main.ts and the tests build the app the same way through this.
 */
export function addProjectStacks(app: App, environments: readonly EnvironmentConfig[], options: ProjectStacksOptions): void {
  for (const bucket of stateBuckets(environments)) {
    const stack = bootstrapStackName(bucket.bucket);
    new BootstrapStack(app, stack, {
      statePath: bootstrapStateFile(options.localStateDir, stack),
      bucketName: bucket.bucket,
      region: bucket.region,
      noncurrentVersionExpirationDays: bucket.noncurrentVersionExpirationDays,
      project: bucket.project,
    });
  }
  for (const config of environments) {
    new EnvironmentStack(app, config.name, { config, emulatorEndpoint: options.emulatorEndpoint });
  }
}
