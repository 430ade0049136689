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
