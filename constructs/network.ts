import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { Construct } from "constructs";
import { cidrProblem } from "../lib/cidr";
import { repeatedZoneProblem, subnetOutsideVpcProblem } from "../lib/config/rules";
import { flowLogGroupName } from "../lib/naming";
import { s3EndpointPolicy } from "../lib/s3-endpoint-policy";
import type { FlowLogRole } from "./flow-log-role";
import type { INetwork, NetworkRouteTables } from "./network-ref";
import { Peer, SecurityGroup } from "./security-group";

/** A private subnet of a {@link Network}. */
export interface SubnetSpec {
  /** The subnet's availability zone; also its construct id, so one subnet per zone. */
  readonly availabilityZone: string;
  /** The subnet's block, inside the VPC's. */
  readonly cidr: string;
}

/** Props of {@link Network}. */
export interface NetworkProps {
  /** The name of the VPC and the start of its resources' Name tags, such as verification-proxy. */
  readonly name: string;
  /** The AWS region, for endpoint service names. */
  readonly region: string;
  /** The VPC's IPv4 block. */
  readonly cidr: string;
  /** Private subnets, at most one per availability zone. */
  readonly subnets: readonly SubnetSpec[];
  /**
   * Create a gateway endpoint for S3 on the VPC's route tables, so Amazon Linux can install
   * packages (its repositories are served from S3) without internet access. Its policy allows
   * reading those repositories and the SSM Agent's update buckets, nothing else.
   * @default true
   */
  readonly enableS3Endpoint?: boolean;
  /**
   * Create interface endpoints for ssm, ssmmessages and ec2messages, so Session Manager reaches
   * the instances without internet access.
   * @default false: instances need another way to reach Systems Manager
   */
  readonly enableSessionManagerEndpoints?: boolean;
  /**
   * More interface endpoints, by service name (such as "logs"), with the Session Manager ones'
   * security group.
   * @default none
   */
  readonly extraInterfaceEndpoints?: readonly string[];
  /** Record all of the VPC's traffic in a CloudWatch Logs group of its own. */
  readonly flowLogs: {
    /** The role that Flow Logs assumes to deliver. */
    readonly role: FlowLogRole;
    /** How long the log group keeps events, in days. */
    readonly retentionInDays: number;
  };
}

const SESSION_MANAGER_SERVICES = ["ssm", "ssmmessages", "ec2messages"] as const;

/**
 * A VPC with private subnets only: no internet gateway and no public addresses. One route table
 * serves every subnet; peerings add their routes to every table in {@link routeTables}. The VPC's
 * default security group is emptied, so only the groups of this project allow anything, and a
 * flow log records all of its traffic.
 */
export class Network extends Construct implements INetwork {
  /** The VPC. */
  public readonly vpc: Vpc;
  /** The VPC's id. */
  public readonly vpcId: string;
  /** The VPC's IPv4 block, as configured (never a token). */
  public readonly cidr: string;
  /** The VPC's name. */
  public readonly name: string;
  /** The subnets, in the order given. */
  public readonly subnets: Subnet[];
  /** The subnets' ids, in the order given. */
  public readonly subnetIds: string[];
  /** Every route table of the VPC, by construct id. */
  public readonly routeTables: NetworkRouteTables;
  /** The S3 gateway endpoint's prefix list id, for egress rules; undefined without the endpoint. */
  public readonly s3PrefixListId?: string;
  /** True when interface endpoints exist in this VPC (instances then need 443 to the VPC). */
  public readonly hasInterfaceEndpoints: boolean;
  /** The route table every subnet of the VPC uses. */
  private readonly routeTableId: string;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const problem = cidrProblem(props.cidr);
    if (problem) throw new Error(`Network ${props.name}: cidr "${props.cidr}" ${problem}`);
    if (props.subnets.length === 0) throw new Error(`Network ${props.name}: subnets is empty; give at least one subnet`);
    const zones = props.subnets.map((s) => s.availabilityZone);
    props.subnets.forEach((s, i) => {
      const outside = subnetOutsideVpcProblem(props.cidr, s.cidr);
      if (outside) throw new Error(`Network ${props.name}: subnet "${s.cidr}" ${outside}`);
      const repeated = repeatedZoneProblem(zones, i);
      if (repeated) throw new Error(`Network ${props.name}: the zone ${s.availabilityZone} of subnet "${s.cidr}" ${repeated}`);
    });

    this.name = props.name;
    this.cidr = props.cidr;
    this.vpc = new Vpc(this, "Resource", {
      cidrBlock: props.cidr,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: props.name },
    });
    this.vpcId = this.vpc.id;

    this.addFlowLog(props);
    new DefaultSecurityGroup(this, "DefaultSecurityGroup", {
      vpcId: this.vpcId,
      tags: { Name: `${props.name}-default-deny` },
    });

    const routeTable = new RouteTable(this, "RouteTable", { vpcId: this.vpcId, tags: { Name: `${props.name}-private` } });
    this.routeTables = { known: [{ key: routeTable.node.id, id: routeTable.id }] };
    this.routeTableId = routeTable.id;

    this.subnets = props.subnets.map((spec) =>
      this.subnetWithTable(this, spec.availabilityZone, spec, `${props.name}-${spec.availabilityZone}`),
    );
    this.subnetIds = this.subnets.map((s) => s.id);

    if (props.enableS3Endpoint ?? true) this.s3PrefixListId = this.addS3Endpoint(props);
    this.hasInterfaceEndpoints = this.addInterfaceEndpoints(props);
  }

  /** A log group of the VPC's own and a flow log that records all of its traffic there. */
  private addFlowLog(props: NetworkProps): void {
    const flowLogGroup = new CloudwatchLogGroup(this, "FlowLogGroup", {
      name: flowLogGroupName(props.name),
      retentionInDays: props.flowLogs.retentionInDays,
      tags: { Name: `${props.name}-flow-logs` },
    });
    new FlowLog(this, "FlowLog", {
      vpcId: this.vpcId,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: flowLogGroup.arn,
      iamRoleArn: props.flowLogs.role.roleArn,
      maxAggregationInterval: 60,
      tags: { Name: `${props.name}-flow-log` },
    });
  }

  /** The S3 gateway endpoint on the VPC's route table; returns its prefix list id. */
  private addS3Endpoint(props: NetworkProps): string {
    const s3 = new VpcEndpoint(this, "S3Endpoint", {
      vpcId: this.vpcId,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: [this.routeTableId],
      policy: s3EndpointPolicy(props.region, new DataAwsPartition(this, "Partition").partition),
      tags: { Name: `${props.name}-s3` },
    });
    return s3.prefixListId;
  }

  /** The Session Manager and extra interface endpoints, with their security group; returns whether any exist. */
  private addInterfaceEndpoints(props: NetworkProps): boolean {
    const sessionManager = props.enableSessionManagerEndpoints ?? false;
    const interfaceServices = [...(sessionManager ? SESSION_MANAGER_SERVICES : []), ...(props.extraInterfaceEndpoints ?? [])];
    if (interfaceServices.length > 0 && !sessionManager) {
      throw new Error(
        `Network ${props.name}: extraInterfaceEndpoints needs enableSessionManagerEndpoints, whose security group they share`,
      );
    }
    if (interfaceServices.length === 0) return false;
    const endpointGroup = new SecurityGroup(this, "EndpointSecurityGroup", {
      network: this,
      name: `${props.name}-endpoints`,
      description: `Interface endpoints of ${props.name}: HTTPS from inside the VPC`,
    });
    endpointGroup.allowTcpIn(Peer.cidr(props.cidr), 443, `HTTPS to the endpoints from ${props.name}`);
    for (const service of interfaceServices) {
      new VpcEndpoint(this, `${service}Endpoint`, {
        vpcId: this.vpcId,
        serviceName: `com.amazonaws.${props.region}.${service}`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: this.subnetIds,
        securityGroupIds: [endpointGroup.securityGroupId],
        tags: { Name: `${props.name}-${service}` },
      });
    }
    return true;
  }

  /**
   * A subnet for something other than servers (such as a resolver endpoint's addresses), with the
   * VPC's route table, so it learns every route the other subnets do; it is not in {@link subnets}.
   */
  public addSubnet(scope: Construct, id: string, spec: SubnetSpec, name: string): Subnet {
    const outside = subnetOutsideVpcProblem(this.cidr, spec.cidr);
    if (outside) throw new Error(`Network ${this.name}: subnet "${spec.cidr}" ${outside}`);
    return this.subnetWithTable(scope, id, spec, name);
  }

  /** A private subnet in a scope of its own under `scope`, associated with the VPC's route table. */
  private subnetWithTable(scope: Construct, id: string, spec: SubnetSpec, name: string): Subnet {
    const subnetScope = new Construct(scope, id);
    const subnet = new Subnet(subnetScope, "Subnet", {
      vpcId: this.vpcId,
      cidrBlock: spec.cidr,
      availabilityZone: spec.availabilityZone,
      mapPublicIpOnLaunch: false,
      tags: { Name: name },
    });
    new RouteTableAssociation(subnetScope, "RouteTableAssociation", { subnetId: subnet.id, routeTableId: this.routeTableId });
    return subnet;
  }
}
