import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { Construct } from "constructs";
import type { InstanceRole } from "./instance-role";
import type { INetwork } from "./network-ref";
import { Peer, SecurityGroup } from "./security-group";

/** What every kind of server takes from its environment settings. */
export interface ServerSettings {
  /** The EC2 instance type. */
  readonly instanceType: string;
  /** The SSM parameter that holds the AMI id, such as a public /aws/service/... parameter. */
  readonly amiParameter: string;
  /** The root volume's size in GiB, at least the AMI's own size. */
  readonly rootVolumeSizeGiB: number;
  /** One-minute CloudWatch metrics. */
  readonly detailedMonitoring: boolean;
  /** The role for Session Manager. */
  readonly role: InstanceRole;
}

/** The {@link ServerSettings} part of a larger props object. */
export function serverSettings(props: ServerSettings): ServerSettings {
  const { instanceType, amiParameter, rootVolumeSizeGiB, detailedMonitoring, role } = props;
  return { instanceType, amiParameter, rootVolumeSizeGiB, detailedMonitoring, role };
}

/**
 * What every instance of the project sends besides its purpose: HTTPS to the VPC's interface
 * endpoints (Session Manager, CloudWatch Logs) and to S3 through the gateway endpoint (packages).
 */
export function allowInstanceEssentials(group: SecurityGroup, network: INetwork): void {
  if (network.hasInterfaceEndpoints) {
    group.allowTcpOut(Peer.cidr(network.cidr), 443, "HTTPS to the interface endpoints (Session Manager, CloudWatch Logs) in the VPC");
  }
  if (network.s3PrefixListId) {
    group.allowTcpOut(
      Peer.prefixList(network.s3PrefixListId, "S3"),
      443,
      "HTTPS to S3 (package repositories) through the gateway endpoint",
    );
  }
}

/** Props of {@link Server}. */
export interface ServerProps extends ServerSettings {
  /** The VPC; the server goes into its first subnet. */
  readonly network: INetwork;
  /** The server's name: Name tag and security group name. */
  readonly name: string;
  /** What the server is, for the security group's description. */
  readonly description: string;
  /** The user data script, run at first boot. A change replaces the instance. */
  readonly userData: string;
  /**
   * A fixed private address in the first subnet, so that a replaced server comes back at the same
   * address and settings that point at it stay right.
   * @default an address that AWS picks
   */
  readonly privateIp?: string;
}

/**
 * An EC2 instance as every server here has it: AMI from SSM, private subnet, IMDSv2, encrypted root, Session Manager role, its own empty group.
 * A newer AMI does not replace a running server (`ami` is ignored after creation): roll it with `terraform apply -replace`.
 */
export class Server extends Construct {
  /** The instance. */
  public readonly instance: Instance;
  /** The server's own security group. */
  public readonly securityGroup: SecurityGroup;
  /** The network the server is in. */
  public readonly network: INetwork;
  /** The private address (a token unless a fixed address was given). */
  public readonly privateIp: string;

  constructor(scope: Construct, id: string, props: ServerProps) {
    super(scope, id);
    const subnetId = props.network.subnetIds[0];
    if (subnetId === undefined) {
      throw new Error(
        `Server ${props.name}: the network ${props.network.name} has no subnets; put servers in a VPC that the project creates, with at least one subnet`,
      );
    }
    this.network = props.network;
    this.securityGroup = new SecurityGroup(this, "SecurityGroup", {
      network: props.network,
      name: props.name,
      description: props.description,
    });
    allowInstanceEssentials(this.securityGroup, props.network);
    const ami = new DataAwsSsmParameter(this, "Ami", { name: props.amiParameter });
    this.instance = new Instance(this, "Resource", {
      ami: ami.value,
      instanceType: props.instanceType,
      subnetId,
      privateIp: props.privateIp,
      vpcSecurityGroupIds: [this.securityGroup.securityGroupId],
      iamInstanceProfile: props.role.instanceProfileName,
      monitoring: props.detailedMonitoring,
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: props.rootVolumeSizeGiB },
      userData: props.userData,
      userDataReplaceOnChange: true,
      tags: { Name: props.name },
      lifecycle: { ignoreChanges: ["ami"] },
    });
    this.privateIp = props.privateIp ?? this.instance.privateIp;
  }
}
