/** The AWS reads of the preview: the deployed allowlist (SSM GetParameter) and the last hour of Squid's access log (FilterLogEvents). */
import { accessLogGroupName, allowlistParameterName } from "../../lib/naming";

/** How many pages of FilterLogEvents the preview reads at most (each up to 10,000 events or 1 MB). */
export const MAX_LOG_PAGES = 20;

/** The SDK client settings for a region, with an emulator's endpoint when given. */
function clientSettings(region: string, endpoint?: string) {
  return { region, ...(endpoint ? { endpoint } : {}) };
}

/** The allowlist the proxies of `environment` read now: the SSM parameter's value. */
export async function deployedAllowlist(environment: string, region: string, endpoint?: string): Promise<string> {
  // The SDK clients load when called (about 0.3 s of CPU): a preview from files never needs them.
  const { GetParameterCommand, SSMClient } = await import("@aws-sdk/client-ssm");
  const ssm = new SSMClient(clientSettings(region, endpoint));
  const name = allowlistParameterName(environment);
  const answer = await ssm.send(new GetParameterCommand({ Name: name }));
  const value = answer.Parameter?.Value;
  if (value === undefined) throw new Error(`SSM parameter ${name} has no value`);
  return value;
}

/** The messages of the access log group of `environment` from `sinceMs` on (epoch milliseconds), at most MAX_LOG_PAGES pages; `truncated` when more were left. */
export async function recentAccessLog(
  environment: string,
  region: string,
  sinceMs: number,
  endpoint?: string,
): Promise<{ messages: string[]; truncated: boolean }> {
  const { CloudWatchLogsClient, FilterLogEventsCommand } = await import("@aws-sdk/client-cloudwatch-logs");
  const logs = new CloudWatchLogsClient(clientSettings(region, endpoint));
  const messages: string[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_LOG_PAGES; page++) {
    const answer = await logs.send(
      new FilterLogEventsCommand({ logGroupName: accessLogGroupName(environment), startTime: sinceMs, nextToken }),
    );
    messages.push(...(answer.events ?? []).map((e) => e.message ?? ""));
    nextToken = answer.nextToken;
    if (!nextToken) return { messages, truncated: false };
  }
  return { messages, truncated: true };
}

/** The one message for an AWS error the preview cannot go past, or undefined for another error. */
export function awsProblem(e: unknown, what: string): string | undefined {
  const name = (e as { name?: string }).name ?? "";
  const message = String((e as Error).message);
  if (name === "CredentialsProviderError" || /credential/i.test(message))
    return `no AWS credentials to read ${what}: log in (aws sso login, or set AWS_PROFILE) and run again, or give what it needs as files`;
  if (["ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException"].includes(name))
    return `the AWS credentials are not accepted (${name}) reading ${what}: log in again and run again`;
  if (name === "AccessDenied" || name === "AccessDeniedException")
    return `access denied reading ${what} (${message}): the preview needs the reads listed in docs/permissions.md`;
  if (name === "ParameterNotFound")
    return `${what} does not exist: deploy the environment first, or leave --deployed out to compare with git`;
  if (name === "ResourceNotFoundException") return `${what} does not exist: deploy the environment first, or give an access-log file`;
  return undefined;
}
