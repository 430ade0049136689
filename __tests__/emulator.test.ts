import { checkedEmulatorEndpoint, emulatorEndpointProblem } from "../lib/emulator";
import { synthEnvironment, verificationConfig } from "./helpers/stack";
import { EnvironmentStack } from "../constructs/environment-stack";
import { Testing } from "cdktf";

describe("emulator endpoints", () => {
  it.each(["http://127.0.0.1:5000", "http://127.0.0.2:5000/", "http://localhost:4566", "http://[::1]:5000"])(
    "accepts the loopback origin %s",
    (url) => {
      expect(emulatorEndpointProblem(url)).toBeUndefined();
    },
  );

  it.each([
    ["http://10.0.0.5:5000", /points at 10\.0\.0\.5; an emulator endpoint must be on loopback/],
    ["https://ec2.ap-northeast-1.amazonaws.com", /points at ec2\.ap-northeast-1\.amazonaws\.com/],
    ["http://127.0.0.1.example.com:5000", /must be on loopback/],
    ["ftp://127.0.0.1:21", /must start with http/],
    ["127.0.0.1:5000", /must start with http|is not a URL/],
    ["http://127.0.0.1:5000/api", /bare origin/],
  ])("refuses %s", (url, message) => {
    expect(emulatorEndpointProblem(url)).toMatch(message);
    expect(() => checkedEmulatorEndpoint(url, "PROXY_EMULATOR_ENDPOINT")).toThrow(
      new RegExp(`^PROXY_EMULATOR_ENDPOINT = "${url.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}"`),
    );
  });
});

describe("EnvironmentStack in emulator mode", () => {
  it("sends the provider and the state backend to the emulator, path-style, without credential checks", () => {
    const app = Testing.app();
    const stack = new EnvironmentStack(app, "verification", { config: verificationConfig(), emulatorEndpoint: "http://127.0.0.1:5000" });
    const json = JSON.parse(Testing.synth(stack));
    const provider = json.provider.aws[0];
    expect(provider.endpoints).toEqual([
      Object.fromEntries(
        ["autoscaling", "cloudwatch", "ec2", "elbv2", "iam", "kms", "logs", "route53resolver", "s3", "sns", "ssm", "sts"].map((s) => [
          s,
          "http://127.0.0.1:5000",
        ]),
      ),
    ]);
    expect(provider.skip_credentials_validation).toBe(true);
    expect(json.terraform.backend.s3).toEqual(
      expect.objectContaining({
        endpoints: { s3: "http://127.0.0.1:5000", sts: "http://127.0.0.1:5000", iam: "http://127.0.0.1:5000" },
        use_path_style: true,
        use_lockfile: true,
      }),
    );
  });

  it("refuses an endpoint off loopback before creating anything", () => {
    expect(
      () =>
        new EnvironmentStack(Testing.app(), "verification", { config: verificationConfig(), emulatorEndpoint: "http://192.0.2.1:5000" }),
    ).toThrow(/emulatorEndpoint = "http:\/\/192\.0\.2\.1:5000" points at 192\.0\.2\.1/);
  });

  it("leaves no trace in a stack for real AWS", () => {
    const { json } = synthEnvironment(undefined, true);
    expect(json).not.toMatch(/127\.0\.0\.1|localhost|skip_credentials_validation|use_path_style|"endpoints"/);
  });
});
