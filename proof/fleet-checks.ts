/**
 * What `npm run e2e` proves of a proxy fleet behind proof/fleet-lab.ts's load balancer: spread with client addresses
 * kept, outsiders refused, the allowlist changed live on every proxy (proof/allowlist-checks.ts), recovery from an
 * abrupt loss within the detection time, a rolling change without a failure.
 */
import * as fs from "fs";
import { addressInCidr } from "../lib/cidr";
import { EnvironmentConfig } from "../lib/config";
import { AllowlistFigures, allowlistChecks, fleetTarget } from "./allowlist-checks";
import { AllowlistLabPlan } from "./allowlist-lab";
import { FleetLab } from "./fleet-lab";
import { proxySquidConf } from "./netns-lab";

/** One check: its name, and a failure's explanation or undefined. */
export interface AsyncCheck {
  readonly name: string;
  readonly run: () => Promise<string | undefined>;
}

/** What the abrupt loss and the rolling change measured, for `npm run bench`. */
export interface FleetFigures {
  abruptLoss?: { failed: number; requests: number; errorSeconds: number; detectionSeconds: number };
  rollingChange?: { failed: number; requests: number; seconds: number };
  allowlist?: AllowlistFigures;
}

const clientsOf = (log: string) => [
  ...new Set(
    fs
      .readFileSync(log, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(/\s+/)[2]),
  ),
];

const serviceUrlOf = (lab: FleetLab) => `http://${lab.hosts.service}:${lab.servicePort}/`;

/** A curl through the load balancer to the service from the app or the outsider; the HTTP status, 0 when none. */
function viaLoadBalancer(lab: FleetLab, from: "app-check" | "outsider"): number {
  const role = from === "outsider" ? "outsider" : "app";
  const serviceUrl = serviceUrlOf(lab);
  const r = lab.inHost(
    role,
    [
      "curl",
      "-s",
      "-o",
      "/dev/null",
      "--max-time",
      "3",
      "-w",
      "%{http_code}",
      "-x",
      `http://${lab.hosts.loadBalancer[0]}:${lab.proxyPort}`,
      serviceUrl,
    ],
    10_000,
  );
  return Number(r.stdout.trim() || 0);
}

/** The squid.conf of the change rolled out: the outsider's block becomes a client of the proxy. */
function changedConf(lab: FleetLab, env: EnvironmentConfig): string {
  return proxySquidConf({
    ...env,
    appVpcs: [
      ...env.appVpcs,
      {
        name: "partner",
        cidr: lab.hosts.outsiderBlock,
        existing: { vpcId: "vpc-0123456789abcdef0", routeTableIds: "all" },
        sessionManagerEndpoints: false,
      },
    ],
  });
}

/**
 * The fleet's checks, in order, for the lab started with `plan`'s environment; `figures` receives what they measure.
 * Without `allowlist` the live allowlist changes are left out; `spread` spreads their writes (see allowlistChecks).
 */
export function fleetChecks(
  lab: FleetLab,
  plan: AllowlistLabPlan,
  figures: FleetFigures = {},
  { allowlist = true, spread = false } = {},
): AsyncCheck[] {
  const env = plan.env;
  const conf = proxySquidConf(env);
  const changed = changedConf(lab, env);
  figures.allowlist = { changes: [] };
  return [
    ...steadyStateChecks(lab, env, conf),
    ...(allowlist ? allowlistChecks(fleetTarget(lab, ["a", "c"]), plan, figures.allowlist, spread) : []),
    abruptLossCheck(lab, figures),
    replacementCheck(lab, conf),
    rollingChangeCheck(lab, changed, figures),
  ];
}

/** Two healthy proxies take traffic, keep client addresses, show the service only proxy-VPC addresses, and refuse outsiders. */
function steadyStateChecks(lab: FleetLab, env: EnvironmentConfig, conf: string): AsyncCheck[] {
  const serviceUrl = serviceUrlOf(lab);
  return [
    {
      name: `two proxies in two zones (${lab.proxyAddress.a}, ${lab.proxyAddress.c}) become healthy and take traffic`,
      run: async () => {
        await lab.startProxy("a", conf);
        await lab.startProxy("c", conf);
        await lab.waitForRotation(["a", "c"], (lab.healthyThreshold + 2) * (lab.intervalMs / 1000));
        return undefined;
      },
    },
    {
      name: "requests through the load balancer spread over both proxies, each logging the app's own address",
      run: async () => {
        const r = await lab.steadyClient(serviceUrl, 10, 20);
        if (r.failed > 0) return `${r.failed} of ${r.requests} requests failed`;
        for (const label of ["a", "c"] as const) {
          const clients = clientsOf(lab.accessLog(label));
          if (!clients.includes(lab.hosts.app))
            return `proxy ${label}'s access log shows ${clients.join(", ") || "no client"}, not the app ${lab.hosts.app}`;
        }
        return undefined;
      },
    },
    {
      name: `the service sees only proxy-VPC addresses (${env.proxyVpc.cidr}), never the app's`,
      run: async () => {
        const clients = [
          ...new Set(
            fs
              .readFileSync(lab.serviceAccessLog, "utf8")
              .split("\n")
              .filter(Boolean)
              .map((l) => l.split(" ")[0]),
          ),
        ];
        if (clients.length < 2) return `the service saw ${clients.join(", ") || "nobody"}; expected both proxies`;
        return clients.every((c) => addressInCidr(c, env.proxyVpc.cidr))
          ? undefined
          : `clients in the service's log: ${clients.join(", ")}`;
      },
    },
    {
      name: `an outsider (${lab.hosts.outsider}) is refused through the load balancer: 403, since the proxies see its own address`,
      run: async () => {
        const status = viaLoadBalancer(lab, "outsider");
        return status === 403 ? undefined : `got ${status}`;
      },
    },
  ];
}

/** One Squid killed abruptly: errors last no longer than the detection time. */
function abruptLossCheck(lab: FleetLab, figures: FleetFigures): AsyncCheck {
  const serviceUrl = serviceUrlOf(lab);
  return {
    name: `one Squid killed abruptly: errors last no longer than the detection time (${lab.detectionSeconds} s), then every request succeeds`,
    run: async () => {
      const seconds = lab.detectionSeconds + 8;
      const client = lab.steadyClient(serviceUrl, seconds, 50);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const killedAt = 2000;
      await lab.signalProxy("a", "SIGKILL");
      const r = await client;
      const errorSeconds = r.failed === 0 ? 0 : ((r.lastFailureMs ?? 0) - (r.firstFailureMs ?? 0)) / 1000;
      figures.abruptLoss = { failed: r.failed, requests: r.requests, errorSeconds, detectionSeconds: lab.detectionSeconds };
      console.log(`     ${r.failed} of ${r.requests} requests failed, over ${errorSeconds.toFixed(1)} s`);
      const lastAllowed = killedAt + (lab.detectionSeconds * 1000 + lab.intervalMs);
      if (r.lastFailureMs !== null && r.lastFailureMs > lastAllowed)
        return `a request failed ${(r.lastFailureMs / 1000).toFixed(1)} s into the run, after the detection time`;
      if (r.lastSuccessMs === null || r.lastSuccessMs <= lastAllowed) return "no request succeeded after the detection time";
      return lab.inRotation().join() === "c" ? undefined : `the rotation is ${lab.inRotation().join(", ")}, expected c alone`;
    },
  };
}

function replacementCheck(lab: FleetLab, conf: string): AsyncCheck {
  return {
    name: "the lost proxy is replaced and healthy again",
    run: async () => {
      await lab.startProxy("a2", conf);
      await lab.waitForRotation(["a2", "c"], (lab.healthyThreshold + 2) * (lab.intervalMs / 1000));
      return undefined;
    },
  };
}

/** A rolling replacement, zone by zone, with a changed squid.conf: the new proxy healthy first, the old one drained, then stopped. */
function rollingChangeCheck(lab: FleetLab, changed: string, figures: FleetFigures): AsyncCheck {
  const serviceUrl = serviceUrlOf(lab);
  return {
    name: "a rolling replacement of the proxies (what an allowlist change took before it was data, and a template change takes: new proxy healthy first, old one drained, then stopped) fails no request",
    run: async () => {
      const before = viaLoadBalancer(lab, "outsider");
      if (before !== 403) return `before the change the outsider got ${before}, expected 403`;
      const wait = (lab.healthyThreshold + 2) * (lab.intervalMs / 1000);
      const client = lab.steadyClient(serviceUrl, 2 * wait + 15, 50);
      // Zone a: a new proxy with the changed allowlist, then the old one leaves.
      await lab.startProxy("a3", changed);
      await lab.waitForRotation(["a2", "a3", "c"], wait);
      lab.deregister("a2");
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await lab.signalProxy("a2", "SIGINT");
      // Zone c likewise.
      await lab.startProxy("c2", changed);
      await lab.waitForRotation(["a3", "c", "c2"], wait);
      lab.deregister("c");
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await lab.signalProxy("c", "SIGINT");
      const r = await client;
      figures.rollingChange = { failed: r.failed, requests: r.requests, seconds: r.seconds };
      console.log(`     ${r.failed} of ${r.requests} requests failed over ${r.seconds.toFixed(1)} s`);
      if (r.failed > 0) return `${r.failed} requests failed`;
      const after = viaLoadBalancer(lab, "outsider");
      return after === 200 ? undefined : `after the change the outsider got ${after}, expected 200 (the new allowlist)`;
    },
  };
}
