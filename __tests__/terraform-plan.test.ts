import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing } from "cdktf";
import { EnvironmentStack } from "../constructs/environment-stack";
import { parseEnvironment } from "../lib/config";
import { MotoServer, startMoto } from "../proof/moto";
import { emulatorEnvironment } from "../proof/rehearsal";
import { terraformEnv } from "../proof/terraform";
import { localBackend, verificationRaw } from "./helpers/stack";

describe("terraform plan against the emulator", () => {
  let moto: MotoServer;
  const saved = { ...process.env };

  beforeAll(async () => {
    moto = await startMoto(path.join(os.tmpdir(), "moto"));
    const { env } = terraformEnv(process.env, fs.mkdtempSync(path.join(os.tmpdir(), "plan-cli-")));
    // cdktf's matchers run Terraform with this process's environment.
    Object.assign(process.env, {
      ...env,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: "ap-northeast-1",
      AWS_EC2_METADATA_DISABLED: "true",
    });
  });
  afterAll(async () => {
    process.env = saved;
    await moto?.stop();
  });

  it("plans the verification stack successfully", () => {
    const config = parseEnvironment(emulatorEnvironment(verificationRaw()).raw, "verification (emulator)");
    const app = Testing.app();
    const stack = new EnvironmentStack(app, config.name, { config, stateBackend: localBackend, emulatorEndpoint: moto.endpoint });
    expect(Testing.fullSynth(stack)).toPlanSuccessfully();
  });

  // Last: it stops the emulator the plan used (starting another costs seconds).
  it("stops the emulator by its PID", async () => {
    expect(() => process.kill(moto.pid, 0)).not.toThrow();
    await moto.stop();
    expect(() => process.kill(moto.pid, 0)).toThrow();
  });
});
