import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { AMAZON_LINUX_2023_ARM64_PARAMETER, AMAZON_LINUX_2023_PARAMETER, WINDOWS_SERVER_2022_PARAMETER } from "../lib/config";
import {
  architectureOf,
  ec2InstanceTypes,
  instanceTypesInEnumsModule,
  isMacInstanceType,
  memoryBelowOneGiB,
  parameterArchitecture,
  sdkInstanceTypes,
} from "../lib/config/instance-types";
import { configFrom, fleetRaw, resourcesOf, synthEnvironment, verificationRaw } from "./helpers/stack";

/** The verification environment edited by `edit`, validated. */
function configWith(edit: (raw: any) => void, base: () => any = verificationRaw) {
  const raw = base();
  edit(raw);
  return configFrom(raw);
}

/** The SSM parameter whose value is the AMI of the instance (or launch template) named `name`. */
function amiParameterOf(json: string, name: string): string {
  const parsed = JSON.parse(json);
  const users = [
    ...Object.values(resourcesOf(json, "aws_instance")).map((i) => [i.tags?.Name, i.ami]),
    ...Object.values(resourcesOf(json, "aws_launch_template")).map((t) => [t.name, t.image_id]),
  ];
  const ami = users.find(([n]) => n === name)?.[1] as string;
  const [, id] = /^\$\{data\.aws_ssm_parameter\.(\w+)\.value\}$/.exec(ami) ?? [];
  return parsed.data.aws_ssm_parameter[id].name;
}

describe("the EC2 API's instance types, as the AWS SDK ships them", () => {
  it("are read from the SDK's enums module without loading the client, and are exactly the client's _InstanceType", () => {
    const fromText = instanceTypesInEnumsModule();
    expect(fromText.length).toBeGreaterThan(1000);
    const client: string[] = Object.values(require("@aws-sdk/client-ec2")._InstanceType);
    expect(fromText).toEqual(client);
    expect(sdkInstanceTypes()).toEqual(client);
    expect(ec2InstanceTypes().has("t4g.micro")).toBe(true);
  });
});

describe("what an instance type can run", () => {
  it.each<[string, "arm64" | "x86_64"]>([
    ["t4g.micro", "arm64"],
    ["a1.large", "arm64"],
    ["m6g.large", "arm64"],
    ["m6gd.large", "arm64"],
    ["c7gn.large", "arm64"],
    ["r8g.large", "arm64"],
    ["x2gd.large", "arm64"],
    ["im4gn.large", "arm64"],
    ["is4gen.large", "arm64"],
    ["g5g.xlarge", "arm64"],
    ["hpc7g.4xlarge", "arm64"],
    ["p6e-gb200.36xlarge", "arm64"],
    ["t3.micro", "x86_64"],
    ["t3a.micro", "x86_64"],
    ["g4dn.xlarge", "x86_64"],
    ["g5.xlarge", "x86_64"],
    ["gr6.4xlarge", "x86_64"],
    ["m7i-flex.large", "x86_64"],
    ["u-6tb1.metal", "x86_64"],
    ["p6-b200.48xlarge", "x86_64"],
  ])("%s is %s", (type, arch) => {
    expect(ec2InstanceTypes().has(type)).toBe(true);
    expect(architectureOf(type)).toBe(arch);
  });

  it("has less than 1 GiB of memory only in the nano sizes and t1.micro", () => {
    const small = [...ec2InstanceTypes()].filter((t) => memoryBelowOneGiB(t) !== undefined).sort();
    expect(small).toEqual(["t1.micro", "t2.nano", "t3.nano", "t3a.nano", "t4g.nano", "t8i.nano"]);
    expect(memoryBelowOneGiB("t3.nano")).toBe(0.5);
    expect(memoryBelowOneGiB("t3.micro")).toBeUndefined();
  });

  it("tells Mac types apart, and reads the architecture an image parameter's name says", () => {
    expect(isMacInstanceType("mac2-m2.metal")).toBe(true);
    expect(isMacInstanceType("m7i.large")).toBe(false);
    expect(parameterArchitecture(AMAZON_LINUX_2023_ARM64_PARAMETER)).toBe("arm64");
    expect(parameterArchitecture(AMAZON_LINUX_2023_PARAMETER)).toBe("x86_64");
    expect(parameterArchitecture("/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id")).toBe("x86_64");
    expect(parameterArchitecture(WINDOWS_SERVER_2022_PARAMETER)).toBeUndefined();
  });
});

describe("instance types in an environment file", () => {
  // Each refusal: the setting, the value, why and the fix, as the user reads it.
  it.each<[string, (raw: any) => void, RegExp]>([
    [
      "a misspelt type, with the type meant",
      (r) => (r.proxy.instanceType = "t3.mirco"),
      /^ {2}- `proxy\.instanceType` = "t3\.mirco": is not an EC2 instance type; did you mean "t3\.micro"\?$/m,
    ],
    [
      "a size its family does not have, with the sizes it has",
      (r) => (r.serviceSide.server.instanceType = "t4g.huge"),
      /^ {2}- `serviceSide\.server\.instanceType` = "t4g\.huge": is not a size of t4g; t4g comes in nano, micro, small, medium, large, xlarge, 2xlarge$/m,
    ],
    [
      "a type in capitals",
      (r) => (r.appVpcs[0].appServer.instanceType = "T3.Medium"),
      /^ {2}- `appVpcs\[0\]\.appServer\.instanceType` = "T3\.Medium": has capital letters; instance types are lowercase, so write "t3\.medium"$/m,
    ],
    [
      "a family that does not exist, with the near ones that start alike",
      (r) => (r.proxy.instanceType = "m7.large"),
      /^ {2}- `proxy\.instanceType` = "m7\.large": is not an EC2 instance type; did you mean one of "m7a\.large", "m7g\.large", "m7i\.large", "m1\.large", "m3\.large"\?$/m,
    ],
    [
      "a type the EC2 API does not list",
      (r) => (r.proxy.instanceType = "quantum.large"),
      /^ {2}- `proxy\.instanceType` = "quantum\.large": is not an EC2 instance type \(the EC2 API's list in @aws-sdk\/client-ec2 \d+\.\d+\.\d+ has no such type\); write one such as t3\.micro, or update @aws-sdk\/client-ec2 for a type announced since$/m,
    ],
    [
      "a Graviton type with an x86_64 image",
      (r) => ((r.proxy.instanceType = "t4g.micro"), (r.proxy.amiParameter = AMAZON_LINUX_2023_PARAMETER)),
      /^ {2}- `proxy\.amiParameter` = "\/aws\/service\/ami-amazon-linux-latest\/al2023-ami-kernel-default-x86_64": names an x86_64 image, which `proxy\.instanceType` t4g\.micro cannot run: it is a Graviton \(arm64\) type\. Leave amiParameter out \(Amazon Linux 2023 for arm64: \/aws\/service\/ami-amazon-linux-latest\/al2023-ami-kernel-default-arm64\), name an arm64 image, or choose an x86_64 instance type such as t3\.micro$/m,
    ],
    [
      "an x86_64 type with an arm64 image",
      (r) => (r.serviceSide.server.amiParameter = AMAZON_LINUX_2023_ARM64_PARAMETER),
      /^ {2}- `serviceSide\.server\.amiParameter` = "\/aws\/service\/ami-amazon-linux-latest\/al2023-ami-kernel-default-arm64": names an arm64 image, which `serviceSide\.server\.instanceType` t3\.micro cannot run: it is an x86_64 type\. Leave amiParameter out \(Amazon Linux 2023 for x86_64: \/aws\/service\/ami-amazon-linux-latest\/al2023-ami-kernel-default-x86_64\), name an x86_64 image, or choose an arm64 instance type such as t4g\.micro$/m,
    ],
    [
      "a Windows app server on a Graviton type",
      (r) => (r.appVpcs[0].appServer.instanceType = "t4g.medium"),
      /^ {2}- `appVpcs\[0\]\.appServer\.instanceType` = "t4g\.medium": is a Graviton \(arm64\) type, and Windows Server has no arm64 AMI on EC2; use an x86_64 type such as t3\.medium$/m,
    ],
    [
      "a Windows app server with less than 1 GiB",
      (r) => (r.appVpcs[0].appServer.instanceType = "t3.nano"),
      /^ {2}- `appVpcs\[0\]\.appServer\.instanceType` = "t3\.nano": has 0\.5 GiB of memory, and Windows Server needs at least 1 GiB \(the nano sizes and t1\.micro have less\); use t3\.micro or larger, such as t3\.medium$/m,
    ],
    [
      "a Windows app server on t1.micro",
      (r) => (r.appVpcs[0].appServer.instanceType = "t1.micro"),
      /^ {2}- `appVpcs\[0\]\.appServer\.instanceType` = "t1\.micro": has 0\.613 GiB of memory, and Windows Server needs at least 1 GiB/m,
    ],
    [
      "a Windows app server with an arm64 image",
      (r) => (r.appVpcs[0].appServer.amiParameter = AMAZON_LINUX_2023_ARM64_PARAMETER),
      /^ {2}- `appVpcs\[0\]\.appServer\.amiParameter` = .*: names an arm64 image, which `appVpcs\[0\]\.appServer\.instanceType` t3\.medium cannot run: it is an x86_64 type\. Leave amiParameter out \(Windows Server, x86_64\), name an x86_64 image, or choose an arm64 instance type such as t4g\.micro$/m,
    ],
    [
      "a Mac type",
      (r) => (r.proxy.instanceType = "mac2.metal"),
      /^ {2}- `proxy\.instanceType` = "mac2\.metal": is a Mac instance type, which runs only macOS, on a Dedicated Host; use a type such as t3\.micro$/m,
    ],
  ])("refuses %s, naming the setting, the value and the fix", (_what, edit, message) => {
    expect(() => configWith(edit)).toThrow(message);
  });

  it("gives a Graviton proxy and service Amazon Linux 2023 for arm64 unless the file names an image, and keeps x86_64 for the others", () => {
    const env = configWith((r) => {
      r.proxy.instanceType = "t4g.micro";
      r.serviceSide.server.instanceType = "m7g.medium";
    });
    expect(env.proxy.amiParameter).toBe(AMAZON_LINUX_2023_ARM64_PARAMETER);
    expect(env.serviceSide.type === "peeredVpc" && env.serviceSide.server.amiParameter).toBe(AMAZON_LINUX_2023_ARM64_PARAMETER);
    expect(env.appVpcs[0].appServer?.amiParameter).toBe(WINDOWS_SERVER_2022_PARAMETER);
    expect(configFrom(verificationRaw()).proxy.amiParameter).toBe(AMAZON_LINUX_2023_PARAMETER);
    const own = "/my-company/ami/squid-arm64";
    expect(configWith((r) => ((r.proxy.instanceType = "t4g.micro"), (r.proxy.amiParameter = own))).proxy.amiParameter).toBe(own);
  });

  it("accepts a Windows app server with exactly 1 GiB, and a proxy on a nano size", () => {
    expect(configWith((r) => (r.appVpcs[0].appServer.instanceType = "t3.micro")).appVpcs[0].appServer?.instanceType).toBe("t3.micro");
    expect(configWith((r) => (r.proxy.instanceType = "t4g.nano")).proxy.amiParameter).toBe(AMAZON_LINUX_2023_ARM64_PARAMETER);
  });

  it("synthesizes a t4g proxy from the arm64 image's parameter, the single proxy and the fleet's launch template alike", () => {
    const single = synthEnvironment(configWith((r) => (r.proxy.instanceType = "t4g.micro"))).json;
    expect(amiParameterOf(single, "verification-proxy")).toBe(AMAZON_LINUX_2023_ARM64_PARAMETER);
    expect(amiParameterOf(single, "verification-service")).toBe(AMAZON_LINUX_2023_PARAMETER);
    expect(single).toHaveDataSourceWithProperties(DataAwsSsmParameter, { name: AMAZON_LINUX_2023_ARM64_PARAMETER });

    const fleet = synthEnvironment(
      configWith(
        (r) => (r.proxy.instanceType = "t4g.small"),
        () => fleetRaw({ size: 2 }),
      ),
    ).json;
    expect(fleet).toHaveResourceWithProperties(LaunchTemplate, { instance_type: "t4g.small" });
    expect(amiParameterOf(fleet, "verification-proxy")).toBe(AMAZON_LINUX_2023_ARM64_PARAMETER);
  });
});
