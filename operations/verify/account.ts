/** The AWS calls verify makes: read the state, ask SSM which agents are online, run commands, query Squid's log. */
import {
  CloudWatchLogsClient,
  GetQueryResultsCommand,
  GetQueryResultsCommandOutput,
  StartQueryCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  CreateNetworkInsightsPathCommand,
  DeleteNetworkInsightsAnalysisCommand,
  DeleteNetworkInsightsPathCommand,
  DescribeInstancesCommand,
  DescribeNetworkInsightsAnalysesCommand,
  EC2Client,
  NetworkInsightsAnalysis,
  StartNetworkInsightsAnalysisCommand,
} from "@aws-sdk/client-ec2";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { AnalyzerPath, AnalyzerVerdict } from "./analyzer";
import {
  DescribeInstanceInformationCommand,
  DescribeInstanceInformationCommandOutput,
  GetCommandInvocationCommand,
  GetCommandInvocationCommandOutput,
  SendCommandCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";

/** What a command printed on one instance, and how it ended. */
export interface Invocation {
  readonly status: string;
  readonly stdout: string;
  readonly stderr: string;
}

/** The account as verify sees it; tests give recorded answers in the AWS API's shapes. */
export interface Account {
  /** The state file's text, or undefined when there is none at that key. */
  readState(bucket: string, key: string): Promise<string | undefined>;
  /** The SSM agent's ping status of each instance that has registered ("Online", "ConnectionLost", ...). */
  agentStatus(instanceIds: readonly string[]): Promise<Record<string, string>>;
  /** Runs a script with AWS-RunPowerShellScript or AWS-RunShellScript and waits for it (bounded by timeoutSeconds). */
  run(instanceId: string, shell: "powershell" | "shell", script: string, timeoutSeconds: number): Promise<Invocation>;
  /** The @message of every result of a Logs Insights query over [start, end] (epoch seconds). */
  query(logGroup: string, queryString: string, start: number, end: number): Promise<string[]>;
  /** The running instances with this Name tag (a fleet's proxies, which the state does not hold). */
  runningInstances(name: string): Promise<string[]>;
  /** Creates a Reachability Analyzer path and an analysis of it, tagged `tag`, and waits for AWS's verdict. */
  analyze(path: AnalyzerPath, tag: string): Promise<{ pathId: string; analysisId: string; verdict: AnalyzerVerdict }>;
  /** Deletes an analysis and then its path. */
  deleteAnalysis(pathId: string, analysisId: string): Promise<void>;
}

/** AWS's verdict from a finished analysis of DescribeNetworkInsightsAnalyses, or undefined while it runs. */
export function analyzerVerdict(
  analysis: Pick<NetworkInsightsAnalysis, "Status" | "StatusMessage" | "NetworkPathFound" | "Explanations">,
): AnalyzerVerdict | undefined {
  if (analysis.Status === "running") return undefined;
  if (analysis.Status !== "succeeded")
    throw new Error(`Reachability Analyzer's analysis ${analysis.Status}: ${analysis.StatusMessage ?? "no reason given"}`);
  const explanations = (analysis.Explanations ?? []).map((e) => {
    const at = e.SecurityGroup?.Id ?? e.RouteTable?.Id ?? e.Acl?.Id ?? e.Component?.Id ?? e.Vpc?.Id;
    return `${e.ExplanationCode ?? "unexplained"}${at ? ` at ${at}` : ""}`;
  });
  return { found: analysis.NetworkPathFound === true, explanations };
}

/** Each registered instance's ping status, from a DescribeInstanceInformation answer. */
export function pingStatuses(answer: Pick<DescribeInstanceInformationCommandOutput, "InstanceInformationList">): Record<string, string> {
  return Object.fromEntries((answer.InstanceInformationList ?? []).map((i) => [i.InstanceId!, i.PingStatus ?? "unknown"]));
}

/** An invocation from a GetCommandInvocation answer, or undefined while it is still running. */
export function finishedInvocation(
  answer: Pick<GetCommandInvocationCommandOutput, "Status" | "StandardOutputContent" | "StandardErrorContent">,
): Invocation | undefined {
  if (!TERMINAL.has(answer.Status ?? "")) return undefined;
  return { status: answer.Status!, stdout: answer.StandardOutputContent ?? "", stderr: answer.StandardErrorContent ?? "" };
}

/** The @message of each row of a complete GetQueryResults answer. */
export function queryMessages(answer: Pick<GetQueryResultsCommandOutput, "results">): string[] {
  return (answer.results ?? []).flatMap((row) => row.filter((f) => f.field === "@message").map((f) => f.value ?? ""));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TERMINAL = new Set(["Success", "Failed", "Cancelled", "TimedOut", "Cancelling"]);

/** The account behind the AWS SDK's default credentials and the region given (an endpoint for the emulator). */
export function awsAccount(region: string, endpoint?: string, pollMs = 2000): Account {
  const common = { region, ...(endpoint ? { endpoint, forcePathStyle: true } : {}) };
  const s3 = new S3Client(common);
  const ssm = new SSMClient(common);
  const logs = new CloudWatchLogsClient(common);
  const ec2 = new EC2Client(common);
  return {
    async readState(bucket, key) {
      try {
        return await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
      } catch (e) {
        if ((e as { name?: string }).name === "NoSuchKey") return undefined;
        throw e;
      }
    },
    async agentStatus(instanceIds) {
      const answer = await ssm.send(
        new DescribeInstanceInformationCommand({ Filters: [{ Key: "InstanceIds", Values: [...instanceIds] }] }),
      );
      return pingStatuses(answer);
    },
    async run(instanceId, shell, script, timeoutSeconds) {
      const document = shell === "powershell" ? "AWS-RunPowerShellScript" : "AWS-RunShellScript";
      const sent = await ssm.send(
        new SendCommandCommand({
          DocumentName: document,
          InstanceIds: [instanceId],
          Parameters: { commands: [script] },
          TimeoutSeconds: Math.max(30, timeoutSeconds),
        }),
      );
      const commandId = sent.Command!.CommandId!;
      const deadline = Date.now() + timeoutSeconds * 1000;
      for (;;) {
        await sleep(pollMs);
        try {
          const r = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
          if (TERMINAL.has(r.Status ?? ""))
            return { status: r.Status!, stdout: r.StandardOutputContent ?? "", stderr: r.StandardErrorContent ?? "" };
        } catch (e) {
          // Right after SendCommand the invocation may not exist yet.
          if ((e as { name?: string }).name !== "InvocationDoesNotExist") throw e;
        }
        if (Date.now() > deadline) return { status: "TimedOut", stdout: "", stderr: `no result within ${timeoutSeconds} s` };
      }
    },
    async query(logGroup, queryString, start, end) {
      const { queryId } = await logs.send(new StartQueryCommand({ logGroupName: logGroup, queryString, startTime: start, endTime: end }));
      for (let i = 0; i < 60; i++) {
        await sleep(pollMs);
        const r = await logs.send(new GetQueryResultsCommand({ queryId }));
        if (r.status === "Complete")
          return (r.results ?? []).flatMap((row) => row.filter((f) => f.field === "@message").map((f) => f.value ?? ""));
        if (r.status === "Failed" || r.status === "Cancelled" || r.status === "Timeout")
          throw new Error(`the Logs Insights query on ${logGroup} ended ${r.status}`);
      }
      throw new Error(`the Logs Insights query on ${logGroup} did not complete in ${(60 * pollMs) / 1000} s`);
    },
    ...insightCalls(ec2, pollMs),
  };
}

/** The EC2 calls of --analyzer: a fleet's running proxies, and Reachability Analyzer paths and analyses. */
function insightCalls(ec2: EC2Client, pollMs: number): Pick<Account, "runningInstances" | "analyze" | "deleteAnalysis"> {
  return {
    async runningInstances(name) {
      const filters = [
        { Name: "tag:Name", Values: [name] },
        { Name: "instance-state-name", Values: ["running"] },
      ];
      const answer = await ec2.send(new DescribeInstancesCommand({ Filters: filters }));
      return (answer.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId!)).sort();
    },
    async analyze(path, tag) {
      const tags = (type: "network-insights-path" | "network-insights-analysis") => [
        { ResourceType: type, Tags: [{ Key: "Name", Value: tag }] },
      ];
      const created = await ec2.send(
        new CreateNetworkInsightsPathCommand({
          Source: path.source,
          Destination: path.destination,
          DestinationIp: path.destinationIp,
          Protocol: path.protocol,
          DestinationPort: path.port,
          TagSpecifications: tags("network-insights-path"),
        }),
      );
      const pathId = created.NetworkInsightsPath!.NetworkInsightsPathId!;
      const started = await ec2.send(
        new StartNetworkInsightsAnalysisCommand({ NetworkInsightsPathId: pathId, TagSpecifications: tags("network-insights-analysis") }),
      );
      const analysisId = started.NetworkInsightsAnalysis!.NetworkInsightsAnalysisId!;
      for (let i = 0; i < 150; i++) {
        await sleep(pollMs);
        const answer = await ec2.send(new DescribeNetworkInsightsAnalysesCommand({ NetworkInsightsAnalysisIds: [analysisId] }));
        const verdict = analyzerVerdict(answer.NetworkInsightsAnalyses![0]);
        if (verdict) return { pathId, analysisId, verdict };
      }
      throw new Error(
        `Reachability Analyzer's analysis ${analysisId} did not finish in ${(150 * pollMs) / 1000} s; it is kept, delete it in the console`,
      );
    },
    async deleteAnalysis(pathId, analysisId) {
      await ec2.send(new DeleteNetworkInsightsAnalysisCommand({ NetworkInsightsAnalysisId: analysisId }));
      await ec2.send(new DeleteNetworkInsightsPathCommand({ NetworkInsightsPathId: pathId }));
    },
  };
}
