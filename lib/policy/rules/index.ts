/**
 * The rules of the policy pack, grouped by service (ec2, vpc, vpce, tgw, iam, logs, elb, autoscaling, s3) as cdk-nag groups them. Pure: nothing here
 * loads cdktf, so the environment schema can list the rule ids.
 */
import { PolicyRule } from "../rule";
import { amiFromParameter } from "./ec2/ami-from-parameter";
import { describedSecurityGroups } from "./ec2/described-security-groups";
import { detailedMonitoring } from "./ec2/detailed-monitoring";
import { ebsEncrypted } from "./ec2/ebs-encrypted";
import { imdsv2Required } from "./ec2/imdsv2-required";
import { noAdminPorts } from "./ec2/no-admin-ports";
import { noPublicIp } from "./ec2/no-public-ip";
import { noWorldIngress } from "./ec2/no-world-ingress";
import { multiZoneGroups } from "./autoscaling/multi-zone-groups";
import { loadBalancerDeletionProtection } from "./elb/deletion-protection";
import { internalLoadBalancers } from "./elb/internal-load-balancers";
import { targetGroupHealthChecks } from "./elb/target-group-health-checks";
import { iamNoWildcardWrite } from "./iam/no-wildcard-write";
import { logRetentionMinimum } from "./logs/retention-minimum";
import { bucketEncryption } from "./s3/bucket-encryption";
import { bucketNoncurrentExpiry } from "./s3/bucket-noncurrent-expiry";
import { bucketPreventDestroy } from "./s3/bucket-prevent-destroy";
import { bucketPublicAccessBlock } from "./s3/bucket-public-access-block";
import { bucketTlsOnly } from "./s3/bucket-tls-only";
import { bucketVersioning } from "./s3/bucket-versioning";
import { transitGatewayNoAutoAccept } from "./tgw/no-auto-accept";
import { transitGatewayNoDefaultRouteTable } from "./tgw/no-default-route-table";
import { defaultSecurityGroupClosed } from "./vpc/default-security-group-closed";
import { endpointServiceNoWildcardPrincipal } from "./vpce/no-wildcard-principal";
import { endpointServiceProxyProtocol } from "./vpce/proxy-protocol";
import { vpcFlowLogs } from "./vpc/vpc-flow-logs";

/** Every rule of the pack. */
export const POLICY_RULES: readonly PolicyRule[] = [
  imdsv2Required,
  ebsEncrypted,
  noPublicIp,
  detailedMonitoring,
  amiFromParameter,
  noWorldIngress,
  noAdminPorts,
  describedSecurityGroups,
  defaultSecurityGroupClosed,
  vpcFlowLogs,
  transitGatewayNoDefaultRouteTable,
  transitGatewayNoAutoAccept,
  endpointServiceNoWildcardPrincipal,
  endpointServiceProxyProtocol,
  iamNoWildcardWrite,
  logRetentionMinimum,
  internalLoadBalancers,
  loadBalancerDeletionProtection,
  targetGroupHealthChecks,
  multiZoneGroups,
  bucketVersioning,
  bucketEncryption,
  bucketPublicAccessBlock,
  bucketTlsOnly,
  bucketNoncurrentExpiry,
  bucketPreventDestroy,
];

/** The ids of every rule, for suppressions. */
export const POLICY_RULE_IDS: readonly string[] = POLICY_RULES.map((r) => r.id);
