/**
 * Emulator mode: every AWS call of a stack, state included, goes to an AWS API emulator (moto) on
 * this machine. Only loopback endpoints are accepted, so a rehearsal can never reach a real
 * account, and nothing of it is written unless it is asked for explicitly.
 */

/**
 * The AWS services a stack calls, each sent to the emulator, by the provider binding's property
 * names (route53Resolver is `route53resolver` in the JSON; a name the binding does not know is
 * dropped without a word, and the provider would then call AWS itself).
 */
export const EMULATED_SERVICES = [
  "autoscaling",
  "cloudwatch",
  "ec2",
  "elbv2",
  "iam",
  "kms",
  "logs",
  "route53Resolver",
  "s3",
  "sns",
  "ssm",
  "sts",
] as const;

const LOOPBACK_HOST = /^(127(\.\d{1,3}){3}|localhost|\[::1\])$/;

/** Why `endpoint` is not an acceptable emulator endpoint, or undefined when it is. */
export function emulatorEndpointProblem(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return "is not a URL; write one such as http://127.0.0.1:5000";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must start with http:// or https://, such as http://127.0.0.1:5000";
  if (!LOOPBACK_HOST.test(url.hostname)) {
    return `points at ${url.hostname}; an emulator endpoint must be on loopback (127.0.0.1, localhost or [::1]) so a rehearsal never reaches a real account`;
  }
  if (url.pathname !== "/" || url.search || url.hash) return "must be a bare origin such as http://127.0.0.1:5000, with no path or query";
  return undefined;
}

/** Throws unless `endpoint` is a loopback origin; returns it without a trailing slash. */
export function checkedEmulatorEndpoint(endpoint: string, setting: string): string {
  const problem = emulatorEndpointProblem(endpoint);
  if (problem) throw new Error(`${setting} = "${endpoint}" ${problem}`);
  return endpoint.replace(/\/$/, "");
}

/** The services the S3 backend calls. */
const BACKEND_SERVICES = ["s3", "sts", "iam"] as const;

/** Settings that every client of the emulator needs: no real credentials, account or metadata. */
const SKIP_AWS_CHECKS = { skipCredentialsValidation: true, skipRequestingAccountId: true } as const;

/** What the AWS provider and the S3 backend take to talk to the emulator, built from one endpoint. */
export interface EmulatorSettings {
  /** Spread into `new AwsProvider(...)`. */
  readonly provider: Record<string, unknown>;
  /** Spread into `new S3Backend(...)`. */
  readonly backend: Record<string, unknown>;
}

/** The provider's and the backend's emulator settings for a checked loopback `endpoint`. */
export function emulatorSettings(endpoint: string): EmulatorSettings {
  return {
    provider: {
      endpoints: [Object.fromEntries(EMULATED_SERVICES.map((service) => [service, endpoint]))],
      s3UsePathStyle: true,
      skipMetadataApiCheck: "true",
      ...SKIP_AWS_CHECKS,
    },
    backend: {
      endpoints: Object.fromEntries(BACKEND_SERVICES.map((service) => [service, endpoint])),
      usePathStyle: true,
      skipMetadataApiCheck: true,
      ...SKIP_AWS_CHECKS,
    },
  };
}
