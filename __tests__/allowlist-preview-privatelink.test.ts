import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAllowlist } from "../lib/allowlist-policy";
import { loadEnvironmentFile, parseEnvironment } from "../lib/config";
import { vpcName } from "../lib/naming";
import { endpointIdsIn } from "../lib/squid";
import { readAccessLog } from "../operations/allowlist/log";
import { appVpcOf, previewChange, withEndpointIds } from "../operations/allowlist/preview";
import { appBlocks, byEndpoint, renderedAllowlist, standInEndpointId } from "../operations/allowlist/render";
import { TS_RUNNER } from "../tools/cli";

const ROOT = path.join(__dirname, "..");
const DEMO = path.join(ROOT, "demos", "privatelink.json");
const raw = () => JSON.parse(fs.readFileSync(DEMO, "utf8"));
const demo = loadEnvironmentFile(DEMO);
/** The demo with its service open to app1 only. */
const app1Only = () => {
  const r = raw();
  r.services[0].from = ["app1"];
  return r;
};
const APP1 = vpcName(demo.name, "app1");
const APP2 = vpcName(demo.name, "app2");
/** Endpoint ids as the deployed parameter would hold them. */
const DEPLOYED = new Map([
  [APP1, "vpce-0a1b2c3d4e5f60718"],
  [APP2, "vpce-0f9e8d7c6b5a40312"],
]);

/** A GET to the demo's service from one address in both app VPCs' block, logged with `app` in the app VPC column. */
const line = (second: number, app: string) =>
  `17672256${second}.101      4 192.168.0.10 TCP_MISS/200 512 GET http://172.16.0.10:80/orders - HIER_DIRECT/172.16.0.10 text/plain ${app}`;
const LOG = [line(10, APP1), line(11, APP2), line(12, APP2), line(13, "-")].join("\n");

describe("the allowlist preview behind PrivateLink: app VPCs of one block told apart by endpoint", () => {
  it("renders the allowlist with each app VPC's endpoint, the given ids or stand-ins, and reads the ids back", () => {
    expect(byEndpoint(demo)).toBe(true);
    expect(byEndpoint(loadEnvironmentFile(path.join(ROOT, "demos", "verification-fleet.json")))).toBe(false);
    const deployed = renderedAllowlist(demo, DEPLOYED);
    expect(deployed).toContain(`acl app_${APP1} note vpc_endpoint %01vpce-0a1b2c3d4e5f60718`);
    expect(deployed).not.toMatch(/ src 192\.168\.0\.0\/24/);
    expect(endpointIdsIn(deployed)).toEqual(DEPLOYED);
    const standIns = endpointIdsIn(renderedAllowlist(demo));
    expect(standIns).toEqual(new Map([APP1, APP2].map((v) => [v, standInEndpointId(v)])));
    expect(standInEndpointId(APP1)).toMatch(/^vpce-[0-9a-f]{17}$/);
    expect(standInEndpointId(APP1)).not.toBe(standInEndpointId(APP2));
    expect(endpointIdsIn(renderedAllowlist(loadEnvironmentFile(path.join(ROOT, "demos", "verification.json"))))).toEqual(new Map());
  });

  it("gives each logged request its app VPC's endpoint, and groups by the logged app VPC, not the shared address", () => {
    const requests = withEndpointIds(readAccessLog(LOG).requests, DEPLOYED);
    expect(requests.map((r) => r.request.endpointId)).toEqual([DEPLOYED.get(APP1), DEPLOYED.get(APP2), DEPLOYED.get(APP2), undefined]);
    const apps = appBlocks(demo);
    expect(requests.map((r) => appVpcOf(r, apps, true))).toEqual(["app1", "app2", "app2", "outside the app VPCs"]);
    // By address, both VPCs' requests would be the first VPC's.
    expect(requests.map((r) => appVpcOf(r, apps))).toEqual(["app1", "app1", "app1", "app1"]);
  });

  it("finds app2's requests newly denied when a service becomes app1's only, with the deployed ids", () => {
    const before = renderedAllowlist(demo, DEPLOYED);
    const ids = endpointIdsIn(before);
    const after = renderedAllowlist(parseEnvironment(app1Only(), "app1 only"), ids);
    const requests = withEndpointIds(readAccessLog(LOG).requests, ids);
    const preview = previewChange(parseAllowlist(before), parseAllowlist(after), requests, appBlocks(demo), true);
    expect(preview.groups.map((g) => [g.change, g.appVpc, g.destination, g.count])).toEqual([
      ["newly denied", "app2", "172.16.0.10:80", 2],
    ]);
    // app1's request stays allowed; the one through no known endpoint was denied before and after.
    expect(preview.unchanged).toEqual({ allowed: 1, denied: 1 });
  });

  it("npm run allowlist -- preview decides by endpoint with --before's file", () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "preview-privatelink-"));
    try {
      const after = path.join(work, "privatelink.json");
      const log = path.join(work, "access.log");
      fs.writeFileSync(after, JSON.stringify(app1Only(), null, 2));
      fs.writeFileSync(log, `${LOG}\n`);
      const r = spawnSync(
        process.execPath,
        [TS_RUNNER, path.join(ROOT, "scripts", "allowlist.ts"), "preview", demo.name, log, "--before", DEMO],
        {
          cwd: ROOT,
          encoding: "utf8",
          env: {
            PATH: process.env.PATH,
            HOME: "/nonexistent",
            TMPDIR: os.tmpdir(),
            AWS_EC2_METADATA_DISABLED: "true",
            PROXY_CONFIG: after,
          },
          timeout: 90_000,
        },
      );
      expect([r.status, r.stderr]).toEqual([0, ""]);
      expect(r.stdout).toMatch(/\nNewly denied: 2 requests\n {2}app2\n {4}172\.16\.0\.10:80 {2}2 requests \(GET\)\n/);
      expect(r.stdout).toMatch(/\nNewly allowed: none\n/);
      expect(r.stdout).toMatch(/\nUnchanged: 2 requests \(1 allowed, 1 denied\)/);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
