import { motoAnswers } from "../../proof/moto";
import { MOTO_ENDPOINT_SETTING } from "../global-setup";

/** A client of the AWS SDK for JavaScript v3, as far as adding a middleware goes. */
interface SdkClient {
  middlewareStack: { add(middleware: (next: any) => (args: any) => any, options: { step: "build"; name?: string }): void };
}

/** The emulator that global-setup.ts started for the run, once it answers; throws with install advice when moto is missing. */
export async function sharedMotoEndpoint(): Promise<string> {
  const endpoint = process.env[MOTO_ENDPOINT_SETTING];
  if (!endpoint) {
    throw new Error(
      "moto_server is not on PATH. Install the AWS emulator with: pip install 'moto[server]==5.2.1' (Python 3.9 or later), then run again.",
    );
  }
  if (!(await motoAnswers(endpoint)))
    throw new Error(`The shared moto_server on ${endpoint} does not answer; its log is in the run's moto folder.`);
  return endpoint;
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
