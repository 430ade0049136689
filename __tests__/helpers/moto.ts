import * as os from "os";
import * as path from "path";
import { motoAnswers, startMoto } from "../../proof/moto";
import { MOTO_ENDPOINT_SETTING } from "../global-setup";

/** A client of the AWS SDK for JavaScript v3, as far as adding a middleware goes. */
interface SdkClient {
  middlewareStack: { add(middleware: (next: any) => (args: any) => any, options: { step: "build"; name?: string }): void };
}

/** An emulator for one suite: its endpoint, and `release`, to call in afterAll. */
export interface SuiteMoto {
  readonly endpoint: string;
  release(): Promise<void>;
}

/**
 * The emulator that global-setup.ts started for the run, once it answers; where it started none
 * (a run of other suites, or moto missing), one of the suite's own, stopped by `release`.
 */
export async function suiteMoto(): Promise<SuiteMoto> {
  const shared = process.env[MOTO_ENDPOINT_SETTING];
  if (shared) {
    if (!(await motoAnswers(shared)))
      throw new Error(`The run's moto_server on ${shared} does not answer; see the moto folder of the run.`);
    return { endpoint: shared, release: async () => undefined };
  }
  const own = await startMoto(path.join(os.tmpdir(), "moto"));
  return { endpoint: own.endpoint, release: own.stop };
}

/** Sends a client's requests to one emulated account (moto reads the x-moto-account-id header), so suites sharing the emulator do not see each other's resources. */
export function inAccount<T extends SdkClient>(client: T, account: string): T {
  client.middlewareStack.add(
    (next) => (args) => {
      args.request.headers["x-moto-account-id"] = account;
      return next(args);
    },
    { step: "build", name: "motoAccount" },
  );
  return client;
}

/**
 * Registers beforeAll/afterAll for a suite that reads the emulator with the SDK's default clients: the run's emulator
 * (as {@link suiteMoto}) and test credentials in process.env, restored at the end. Returns the emulator once started.
 */
export function suiteMotoWithTestCredentials(): () => SuiteMoto {
  let moto: SuiteMoto | undefined;
  const saved = { ...process.env };
  beforeAll(async () => {
    moto = await suiteMoto();
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_EC2_METADATA_DISABLED: "true" });
  });
  afterAll(async () => {
    process.env = saved;
    await moto?.release();
  });
  return () => {
    if (!moto) throw new Error("the suite's emulator is not started yet: call it inside a test");
    return moto;
  };
}
