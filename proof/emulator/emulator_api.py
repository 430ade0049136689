"""Reads and prepares the AWS API emulator for the deploy rehearsal (scripts/rehearse.ts).

boto3 comes with moto, so wherever the emulator runs, this runs. Every call goes to the loopback
endpoint given on the command line; the script refuses any other.

  python3 proof/emulator/emulator_api.py ENDPOINT REGION create-bucket NAME
  python3 proof/emulator/emulator_api.py ENDPOINT REGION inventory      # JSON of what is deployed
  python3 proof/emulator/emulator_api.py ENDPOINT REGION object-exists BUCKET KEY
  python3 proof/emulator/emulator_api.py ENDPOINT REGION get-object BUCKET KEY  # {"body": text or null}
  python3 proof/emulator/emulator_api.py ENDPOINT REGION import-ids     # what was created, as Terraform import ids
"""

import base64
import json
import sys
from urllib.parse import urlparse

try:
    import boto3
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("boto3 is missing: install the emulator with pip install 'moto[server]==5.2.1'")


def clients(endpoint, region):
    host = urlparse(endpoint).hostname or ""
    if not (host.startswith("127.") or host in ("localhost", "::1")):
        sys.exit(f"refusing endpoint {endpoint}: only loopback emulators are used")
    kwargs = dict(endpoint_url=endpoint, region_name=region, aws_access_key_id="test", aws_secret_access_key="test")
    return {name: boto3.client(name, **kwargs) for name in ("ec2", "s3", "iam", "logs", "cloudwatch", "elbv2", "autoscaling", "route53resolver", "ssm", "kms", "sns")}


def tags(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def pages(client, operation, key, **kwargs):
    """Every item of a paged listing (moto pages some, such as SSM's parameters by 10)."""
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]


def created_parameters(ssm):
    """The SSM parameters an apply created: AWS's public ones (/aws/service/..., read for AMIs) are left out."""
    return [p for p in pages(ssm, "describe_parameters", "Parameters") if not p["Name"].startswith("/aws/")]


def customer_keys(kms):
    """The customer managed KMS keys with their metadata; AWS's own are left out.
    moto makes the EBS default key (alias/aws/ebs, made when an encrypted volume is) a customer key, so an alias/aws/ alias marks one too."""
    aws_owned = {a.get("TargetKeyId") for a in pages(kms, "list_aliases", "Aliases") if a["AliasName"].startswith("alias/aws/")}
    keys = (kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in pages(kms, "list_keys", "Keys"))
    return [k for k in keys if k.get("KeyManager") != "AWS" and k["KeyId"] not in aws_owned]


def created_aliases(kms):
    """The aliases an apply created, with their keys: AWS's own (alias/aws/...) are left out."""
    return [a for a in pages(kms, "list_aliases", "Aliases") if not a["AliasName"].startswith("alias/aws/") and a.get("TargetKeyId")]


def topic_subscriptions(sns):
    """Each SNS topic's ARN with its subscriptions."""
    return [(t["TopicArn"], pages(sns, "list_subscriptions_by_topic", "Subscriptions", TopicArn=t["TopicArn"])) for t in pages(sns, "list_topics", "Topics")]


def transit_gateway_tables(ec2, states=None, static_only=False):
    """Each stack-made Transit Gateway route table with its associated and propagating attachment ids and its routes.
    moto invents a default table per gateway (kept after the gateway is gone) where AWS makes none, so it is left out."""
    for t in ec2.describe_transit_gateway_route_tables()["TransitGatewayRouteTables"]:
        if t["State"] in ("deleted", "deleting") or t.get("DefaultAssociationRouteTable"):
            continue
        table_id = t["TransitGatewayRouteTableId"]
        filters = ([{"Name": "state", "Values": states}] if states else []) + ([{"Name": "type", "Values": ["static"]}] if static_only else [])
        yield (
            t,
            [a["TransitGatewayAttachmentId"] for a in ec2.get_transit_gateway_route_table_associations(TransitGatewayRouteTableId=table_id)["Associations"]],
            [p["TransitGatewayAttachmentId"] for p in ec2.get_transit_gateway_route_table_propagations(TransitGatewayRouteTableId=table_id)["TransitGatewayRouteTablePropagations"]],
            ec2.search_transit_gateway_routes(TransitGatewayRouteTableId=table_id, Filters=filters)["Routes"],
        )


def owned_resolver_rules(resolver):
    """The resolver rules that are not the built-in one for internet names."""
    return [r for r in resolver.list_resolver_rules()["ResolverRules"] if r.get("OwnerId") != "Route 53 Resolver"]


def deployed_instances(c):
    ec2 = c["ec2"]
    instances = []
    for reservation in ec2.describe_instances()["Reservations"]:
        for i in reservation["Instances"]:
            if i["State"]["Name"] == "terminated":
                continue
            attribute = ec2.describe_instance_attribute(InstanceId=i["InstanceId"], Attribute="userData")
            user_data = attribute.get("UserData", {}).get("Value")
            instances.append(
                {
                    "id": i["InstanceId"],
                    "name": tags(i).get("Name"),
                    "state": i["State"]["Name"],
                    "privateIp": i.get("PrivateIpAddress"),
                    "publicIp": i.get("PublicIpAddress"),
                    "httpTokens": i.get("MetadataOptions", {}).get("HttpTokens"),
                    "userData": base64.b64decode(user_data).decode() if user_data else None,
                    "securityGroups": sorted(
                        {g["GroupId"] for n in i.get("NetworkInterfaces", []) for g in n.get("Groups", [])}
                        | {g["GroupId"] for g in i.get("SecurityGroups", [])}
                    ),
                }
            )
    return instances


def deployed_vpcs(c):
    return [
        {"id": v["VpcId"], "cidr": v["CidrBlock"], "name": tags(v).get("Name"), "project": tags(v).get("Project")}
        for v in c["ec2"].describe_vpcs()["Vpcs"]
        if not v.get("IsDefault")
    ]


def deployed_peerings(c):
    return [
        {
            "id": p["VpcPeeringConnectionId"],
            "status": p["Status"]["Code"],
            "requesterCidr": p["RequesterVpcInfo"].get("CidrBlock"),
            "accepterCidr": p["AccepterVpcInfo"].get("CidrBlock"),
            "requesterVpcId": p["RequesterVpcInfo"].get("VpcId"),
            "accepterVpcId": p["AccepterVpcInfo"].get("VpcId"),
        }
        for p in c["ec2"].describe_vpc_peering_connections()["VpcPeeringConnections"]
        if p["Status"]["Code"] not in ("deleted", "rejected")
    ]


def deployed_routes(c):
    """The routes to a peering, a Transit Gateway or a NAT gateway."""
    return [
        {
            "vpcId": t["VpcId"],
            "routeTableId": t["RouteTableId"],
            "destination": r.get("DestinationCidrBlock"),
            "peering": r.get("VpcPeeringConnectionId"),
            "transitGateway": r.get("TransitGatewayId"),
            "natGateway": r.get("NatGatewayId"),
        }
        for t in c["ec2"].describe_route_tables()["RouteTables"]
        for r in t["Routes"]
        if r.get("VpcPeeringConnectionId") or r.get("TransitGatewayId") or r.get("NatGatewayId")
    ]


def deployed_subnets(c):
    return [
        {"id": s["SubnetId"], "vpcId": s["VpcId"], "cidr": s["CidrBlock"], "zone": s["AvailabilityZone"]}
        for s in c["ec2"].describe_subnets()["Subnets"]
        if not s.get("DefaultForAz")
    ]


def ingress_rules(group):
    """A group's inbound rules, one per permission: protocol, ports, and the blocks and groups it admits."""
    return [
        {
            "protocol": p.get("IpProtocol"),
            "fromPort": p.get("FromPort"),
            "toPort": p.get("ToPort"),
            "cidrs": sorted(r["CidrIp"] for r in p.get("IpRanges", [])),
            "groups": sorted(str(r.get("GroupId")).split("/")[-1] for r in p.get("UserIdGroupPairs", [])),
        }
        for p in group.get("IpPermissions", [])
    ]


def deployed_security_groups(c):
    return [
        {"id": g["GroupId"], "name": g["GroupName"], "vpcId": g.get("VpcId"), "ingress": ingress_rules(g)}
        for g in c["ec2"].describe_security_groups()["SecurityGroups"]
        if g["GroupName"] != "default"
    ]


def deployed_vpc_endpoints(c):
    return [e["VpcEndpointId"] for e in c["ec2"].describe_vpc_endpoints()["VpcEndpoints"] if e["State"].lower() != "deleted"]


def deployed_interface_endpoints(c):
    """Interface endpoints with their VPC, service, subnets, groups and DNS names (gateway endpoints are left out)."""
    return [
        {
            "id": e["VpcEndpointId"],
            "name": tags(e).get("Name"),
            "vpcId": e["VpcId"],
            "serviceName": e["ServiceName"],
            "state": e["State"],
            "subnetIds": sorted(e.get("SubnetIds", [])),
            "securityGroups": sorted(g["GroupId"] for g in e.get("Groups", [])),
            "dnsNames": [d["DnsName"] for d in e.get("DnsEntries", [])],
        }
        for e in c["ec2"].describe_vpc_endpoints()["VpcEndpoints"]
        if e.get("VpcEndpointType") == "Interface" and e["State"].lower() not in ("deleted", "deleting")
    ]


def deployed_endpoint_services(c):
    """Endpoint services with their load balancers, acceptance, and allowed principals as DescribeVpcEndpointServicePermissions lists them."""
    ec2 = c["ec2"]
    return [
        {
            "id": s["ServiceId"],
            "name": tags(s).get("Name"),
            "serviceName": s["ServiceName"],
            "state": s.get("ServiceState"),
            "acceptanceRequired": s.get("AcceptanceRequired"),
            "loadBalancers": sorted(s.get("NetworkLoadBalancerArns", [])),
            "principals": sorted(p["Principal"] for p in ec2.describe_vpc_endpoint_service_permissions(ServiceId=s["ServiceId"])["AllowedPrincipals"]),
        }
        for s in ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"]
    ]


def deployed_network_interfaces(c):
    ec2 = c["ec2"]
    terminated = {
        i["InstanceId"]
        for reservation in ec2.describe_instances()["Reservations"]
        for i in reservation["Instances"]
        if i["State"]["Name"] == "terminated"
    }
    # moto keeps the interface of a deleted NAT gateway; AWS deletes it with the gateway.
    nat_interfaces = {
        a.get("NetworkInterfaceId")
        for n in ec2.describe_nat_gateways()["NatGateways"]
        if n["State"] in ("deleted", "deleting")
        for a in n.get("NatGatewayAddresses", [])
    }
    return [
        {
            "id": n["NetworkInterfaceId"],
            "status": n["Status"],
            "attachedToTerminated": n.get("Attachment", {}).get("InstanceId") in terminated,
            "ofDeletedNatGateway": n["NetworkInterfaceId"] in nat_interfaces,
        }
        for n in ec2.describe_network_interfaces()["NetworkInterfaces"]
    ]


def deployed_roles(c):
    return [r["RoleName"] for r in c["iam"].list_roles()["Roles"] if not r["Path"].startswith("/aws-service-role/")]


def deployed_instance_profiles(c):
    return [p["InstanceProfileName"] for p in c["iam"].list_instance_profiles()["InstanceProfiles"]]


def deployed_log_groups(c):
    return [g["logGroupName"] for g in c["logs"].describe_log_groups()["logGroups"]]


def deployed_alarms(c):
    return [a["AlarmName"] for a in c["cloudwatch"].describe_alarms()["MetricAlarms"]]


def deployed_flow_logs(c):
    return [f["FlowLogId"] for f in c["ec2"].describe_flow_logs()["FlowLogs"]]


def deployed_load_balancers(c):
    elbv2 = c["elbv2"]
    return [
        {
            "arn": lb["LoadBalancerArn"],
            "name": lb["LoadBalancerName"],
            "dnsName": lb.get("DNSName"),
            "scheme": lb.get("Scheme"),
            "type": lb.get("Type"),
            "addresses": sorted(a.get("PrivateIPv4Address") for z in lb.get("AvailabilityZones", []) for a in z.get("LoadBalancerAddresses", []) if a.get("PrivateIPv4Address")),
            "zones": len(lb.get("AvailabilityZones", [])),
            "securityGroups": sorted(lb.get("SecurityGroups", [])),
            "enforcePrivateLinkInbound": lb.get("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"),
            "listeners": [
                {"port": l["Port"], "protocol": l["Protocol"], "targetGroups": [a.get("TargetGroupArn") for a in l.get("DefaultActions", [])]}
                for l in elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
            ],
        }
        for lb in elbv2.describe_load_balancers()["LoadBalancers"]
    ]


def deployed_target_groups(c):
    elbv2 = c["elbv2"]
    target_groups = []
    for tg in elbv2.describe_target_groups()["TargetGroups"]:
        attributes = {a["Key"]: a["Value"] for a in elbv2.describe_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"])["Attributes"]}
        target_groups.append(
            {
                "arn": tg["TargetGroupArn"],
                "name": tg["TargetGroupName"],
                "protocol": tg.get("Protocol"),
                "port": tg.get("Port"),
                "healthCheckProtocol": tg.get("HealthCheckProtocol"),
                "healthCheckIntervalSeconds": tg.get("HealthCheckIntervalSeconds"),
                "preserveClientIp": attributes.get("preserve_client_ip.enabled"),
                "deregistrationDelaySeconds": attributes.get("deregistration_delay.timeout_seconds"),
                "proxyProtocolV2": attributes.get("proxy_protocol_v2.enabled"),
            }
        )
    return target_groups


def deployed_auto_scaling_groups(c):
    autoscaling = c["autoscaling"]
    return [
        {
            "name": g["AutoScalingGroupName"],
            "desired": g["DesiredCapacity"],
            "min": g["MinSize"],
            "max": g["MaxSize"],
            "instances": [i["InstanceId"] for i in g.get("Instances", [])],
            "launchTemplate": g.get("LaunchTemplate", {}),
            "targetGroups": g.get("TargetGroupARNs", []),
            "healthCheckType": g.get("HealthCheckType"),
            "zones": len(g.get("VPCZoneIdentifier", "").split(",")) if g.get("VPCZoneIdentifier") else 0,
            "refreshes": [
                {"status": r["Status"], "minHealthyPercentage": r.get("Preferences", {}).get("MinHealthyPercentage"), "maxHealthyPercentage": r.get("Preferences", {}).get("MaxHealthyPercentage")}
                for r in autoscaling.describe_instance_refreshes(AutoScalingGroupName=g["AutoScalingGroupName"])["InstanceRefreshes"]
            ],
        }
        for g in autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
    ]


def deployed_launch_templates(c):
    ec2 = c["ec2"]
    templates = []
    for t in ec2.describe_launch_templates()["LaunchTemplates"]:
        latest = ec2.describe_launch_template_versions(LaunchTemplateId=t["LaunchTemplateId"], Versions=["$Latest"])["LaunchTemplateVersions"][0]["LaunchTemplateData"]
        templates.append(
            {
                "id": t["LaunchTemplateId"],
                "name": t["LaunchTemplateName"],
                "latestVersion": t["LatestVersionNumber"],
                "defaultVersion": t["DefaultVersionNumber"],
                "instanceType": latest.get("InstanceType"),
                "httpTokens": latest.get("MetadataOptions", {}).get("HttpTokens"),
                "encrypted": [str(m.get("Ebs", {}).get("Encrypted")).lower() for m in latest.get("BlockDeviceMappings", [])],
                "userData": base64.b64decode(latest["UserData"]).decode() if latest.get("UserData") else None,
            }
        )
    return templates


def deployed_transit_gateways(c):
    return [
        {
            "id": t["TransitGatewayId"],
            "state": t["State"],
            "defaultAssociation": t.get("Options", {}).get("DefaultRouteTableAssociation"),
            "defaultPropagation": t.get("Options", {}).get("DefaultRouteTablePropagation"),
            "autoAccept": t.get("Options", {}).get("AutoAcceptSharedAttachments"),
        }
        for t in c["ec2"].describe_transit_gateways()["TransitGateways"]
        if t["State"] not in ("deleted", "deleting")
    ]


def deployed_tgw_attachments(c):
    return [
        {
            "id": a["TransitGatewayAttachmentId"],
            "transitGatewayId": a["TransitGatewayId"],
            "vpcId": a["VpcId"],
            "subnetIds": a.get("SubnetIds", []),
            "state": a["State"],
            "applianceMode": a.get("Options", {}).get("ApplianceModeSupport"),
        }
        for a in c["ec2"].describe_transit_gateway_vpc_attachments()["TransitGatewayVpcAttachments"]
        if a["State"] not in ("deleted", "deleting")
    ]


def deployed_tgw_route_tables(c):
    return [
        {
            "id": t["TransitGatewayRouteTableId"],
            "transitGatewayId": t["TransitGatewayId"],
            "name": tags(t).get("Name"),
            "associations": associations,
            "propagations": propagations,
            "routes": [
                {"destination": r.get("DestinationCidrBlock"), "type": r.get("Type"), "state": r.get("State"), "attachments": [a.get("TransitGatewayAttachmentId") for a in r.get("TransitGatewayAttachments", [])]}
                for r in routes
            ],
        }
        for t, associations, propagations, routes in transit_gateway_tables(c["ec2"], ["active", "blackhole"])
    ]


def deployed_nat_gateways(c):
    return [
        {"id": n["NatGatewayId"], "subnetId": n["SubnetId"], "connectivity": n.get("ConnectivityType"), "state": n["State"], "privateIp": next((a.get("PrivateIp") for a in n.get("NatGatewayAddresses", [])), None)}
        for n in c["ec2"].describe_nat_gateways()["NatGateways"]
        if n["State"] not in ("deleted", "deleting")
    ]


def deployed_resolver_endpoints(c):
    resolver = c["route53resolver"]
    return [
        {
            "id": e["Id"],
            "name": e.get("Name"),
            "direction": e["Direction"],
            "status": e["Status"],
            "vpcId": e.get("HostVPCId"),
            "securityGroups": sorted(e.get("SecurityGroupIds", [])),
            "addresses": sorted(
                ({"subnetId": a["SubnetId"], "ip": a.get("Ip")} for a in resolver.list_resolver_endpoint_ip_addresses(ResolverEndpointId=e["Id"])["IpAddresses"]),
                key=lambda a: a["subnetId"],
            ),
        }
        for e in resolver.list_resolver_endpoints()["ResolverEndpoints"]
    ]


def deployed_resolver_rules(c):
    return [
        {
            "id": r["Id"],
            "name": r.get("Name"),
            "domain": r["DomainName"].rstrip("."),
            "type": r["RuleType"],
            "endpointId": r.get("ResolverEndpointId"),
            "targets": [{"ip": t.get("Ip"), "port": t.get("Port")} for t in r.get("TargetIps", [])],
        }
        for r in owned_resolver_rules(c["route53resolver"])
    ]


def deployed_resolver_rule_associations(c):
    resolver = c["route53resolver"]
    rules = {r["Id"] for r in owned_resolver_rules(resolver)}
    return [
        {"id": a["Id"], "ruleId": a["ResolverRuleId"], "vpcId": a["VPCId"], "status": a.get("Status")}
        for a in resolver.list_resolver_rule_associations()["ResolverRuleAssociations"]
        if a["ResolverRuleId"] in rules
    ]


def deployed_ssm_parameters(c):
    return [{"name": p["Name"], "type": p.get("Type"), "tier": p.get("Tier"), "version": p.get("Version")} for p in created_parameters(c["ssm"])]


def deployed_metric_filters(c):
    return [
        {
            "name": f["filterName"],
            "logGroup": f["logGroupName"],
            "metrics": [{"name": m.get("metricName"), "namespace": m.get("metricNamespace")} for m in f.get("metricTransformations", [])],
        }
        for f in pages(c["logs"], "describe_metric_filters", "metricFilters")
    ]


def deployed_dashboards(c):
    return [d["DashboardName"] for d in pages(c["cloudwatch"], "list_dashboards", "DashboardEntries")]


def deployed_kms_keys(c):
    """Customer managed keys with their state: a destroyed key stays, PendingDeletion, for its waiting period."""
    return [{"id": k["KeyId"], "state": k.get("KeyState"), "description": k.get("Description")} for k in customer_keys(c["kms"])]


def deployed_kms_aliases(c):
    return [{"name": a["AliasName"], "keyId": a["TargetKeyId"]} for a in created_aliases(c["kms"])]


def deployed_sns_topics(c):
    return [
        {"arn": arn, "subscriptions": [{"arn": s["SubscriptionArn"], "protocol": s.get("Protocol"), "endpoint": s.get("Endpoint")} for s in subscriptions]}
        for arn, subscriptions in topic_subscriptions(c["sns"])
    ]


# The inventory's keys, in the order they are printed, and the reader of each.
INVENTORY = {
    "resolverEndpoints": deployed_resolver_endpoints,
    "resolverRules": deployed_resolver_rules,
    "resolverRuleAssociations": deployed_resolver_rule_associations,
    "transitGateways": deployed_transit_gateways,
    "tgwAttachments": deployed_tgw_attachments,
    "tgwRouteTables": deployed_tgw_route_tables,
    "natGateways": deployed_nat_gateways,
    "loadBalancers": deployed_load_balancers,
    "targetGroups": deployed_target_groups,
    "autoScalingGroups": deployed_auto_scaling_groups,
    "launchTemplates": deployed_launch_templates,
    "logGroups": deployed_log_groups,
    "alarms": deployed_alarms,
    "flowLogs": deployed_flow_logs,
    "instances": deployed_instances,
    "vpcs": deployed_vpcs,
    "peerings": deployed_peerings,
    "routes": deployed_routes,
    "subnets": deployed_subnets,
    "securityGroups": deployed_security_groups,
    "vpcEndpoints": deployed_vpc_endpoints,
    "interfaceEndpoints": deployed_interface_endpoints,
    "endpointServices": deployed_endpoint_services,
    "networkInterfaces": deployed_network_interfaces,
    "iamRoles": deployed_roles,
    "instanceProfiles": deployed_instance_profiles,
    "ssmParameters": deployed_ssm_parameters,
    "metricFilters": deployed_metric_filters,
    "dashboards": deployed_dashboards,
    "kmsKeys": deployed_kms_keys,
    "kmsAliases": deployed_kms_aliases,
    "snsTopics": deployed_sns_topics,
}


def inventory(c):
    """What is deployed, by kind, as the rehearsal's checks read it."""
    return {key: read(c) for key, read in INVENTORY.items()}


def network_ids(c, vpcs, add):
    """VPCs, subnets, security groups and their tagged rules."""
    ec2 = c["ec2"]
    for v in sorted(vpcs):
        add("aws_vpc", v)
    for s in ec2.describe_subnets()["Subnets"]:
        if s["VpcId"] in vpcs:
            add("aws_subnet", s["SubnetId"])
    groups = {}
    for g in ec2.describe_security_groups()["SecurityGroups"]:
        if g.get("VpcId") not in vpcs:
            continue
        groups[g["GroupId"]] = g
        if g["GroupName"] != "default":
            add("aws_security_group", g["GroupId"])
        elif g.get("Tags"):
            add("aws_default_security_group", g["GroupId"])
    for r in ec2.describe_security_group_rules()["SecurityGroupRules"]:
        # Rules that AWS adds (a new group's egress, a default group's own) carry no tags.
        if r["GroupId"] in groups and r.get("Tags"):
            add("aws_vpc_security_group_egress_rule" if r["IsEgress"] else "aws_vpc_security_group_ingress_rule", r["SecurityGroupRuleId"])


def route_table_ids(c, vpcs, add):
    """Route tables other than a VPC's main one, their created routes and their subnet associations."""
    for t in c["ec2"].describe_route_tables()["RouteTables"]:
        if t["VpcId"] not in vpcs or any(a.get("Main") for a in t.get("Associations", [])):
            continue
        add("aws_route_table", t["RouteTableId"])
        for r in t["Routes"]:
            destination = r.get("DestinationCidrBlock") or r.get("DestinationPrefixListId")
            if r.get("Origin") == "CreateRoute" and not str(r.get("GatewayId", "")).startswith("vpce-") and r.get("GatewayId") != "local" and destination:
                add("aws_route", f"{t['RouteTableId']}_{destination}")
        for a in t.get("Associations", []):
            if a.get("SubnetId") and not a.get("Main"):
                add("aws_route_table_association", f"{a['SubnetId']}/{t['RouteTableId']}")


def gateway_ids(c, vpcs, add):
    """Peerings, VPC endpoints and endpoint services, flow logs, NAT and internet gateways, and launch templates."""
    ec2 = c["ec2"]
    for p in ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]:
        if p["Status"]["Code"] not in ("deleted", "rejected", "failed", "expired"):
            add("aws_vpc_peering_connection", p["VpcPeeringConnectionId"])
    for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]:
        if e["State"].lower() not in ("deleted", "deleting"):
            add("aws_vpc_endpoint", e["VpcEndpointId"])
    for s in ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"]:
        add("aws_vpc_endpoint_service", s["ServiceId"])
    for f in ec2.describe_flow_logs()["FlowLogs"]:
        add("aws_flow_log", f["FlowLogId"])
    for n in ec2.describe_nat_gateways()["NatGateways"]:
        if n["State"] not in ("deleted", "deleting", "failed"):
            add("aws_nat_gateway", n["NatGatewayId"])
    for g in ec2.describe_internet_gateways()["InternetGateways"]:
        if any(a.get("VpcId") in vpcs for a in g.get("Attachments", [])) or not g.get("Attachments"):
            add("aws_internet_gateway", g["InternetGatewayId"])
    for t in ec2.describe_launch_templates()["LaunchTemplates"]:
        add("aws_launch_template", t["LaunchTemplateId"])


def transit_gateway_ids(c, vpcs, add):
    """Transit Gateways, their VPC attachments and route tables, and each table's associations, propagations and static routes."""
    ec2 = c["ec2"]
    for t in ec2.describe_transit_gateways()["TransitGateways"]:
        if t["State"] not in ("deleted", "deleting"):
            add("aws_ec2_transit_gateway", t["TransitGatewayId"])
    for a in ec2.describe_transit_gateway_vpc_attachments()["TransitGatewayVpcAttachments"]:
        if a["State"] not in ("deleted", "deleting"):
            add("aws_ec2_transit_gateway_vpc_attachment", a["TransitGatewayAttachmentId"])
    for t, associations, propagations, routes in transit_gateway_tables(ec2, static_only=True):
        table_id = t["TransitGatewayRouteTableId"]
        add("aws_ec2_transit_gateway_route_table", table_id)
        for attachment in associations:
            add("aws_ec2_transit_gateway_route_table_association", f"{table_id}_{attachment}")
        for attachment in propagations:
            add("aws_ec2_transit_gateway_route_table_propagation", f"{table_id}_{attachment}")
        for r in routes:
            add("aws_ec2_transit_gateway_route", f"{table_id}_{r['DestinationCidrBlock']}")


def resolver_ids(c, vpcs, add):
    """Route 53 Resolver endpoints, rules and the rules' associations."""
    resolver = c["route53resolver"]
    for e in resolver.list_resolver_endpoints()["ResolverEndpoints"]:
        add("aws_route53_resolver_endpoint", e["Id"])
    owned_rules = set()
    for r in owned_resolver_rules(resolver):
        owned_rules.add(r["Id"])
        add("aws_route53_resolver_rule", r["Id"])
    for a in resolver.list_resolver_rule_associations()["ResolverRuleAssociations"]:
        if a["ResolverRuleId"] in owned_rules:
            add("aws_route53_resolver_rule_association", a["Id"])


def compute_ids(c, vpcs, add):
    """Auto Scaling groups, and the instances that are no group's."""
    scaled = set()
    for g in c["autoscaling"].describe_auto_scaling_groups()["AutoScalingGroups"]:
        add("aws_autoscaling_group", g["AutoScalingGroupName"])
        scaled |= {i["InstanceId"] for i in g.get("Instances", [])}
    for reservation in c["ec2"].describe_instances()["Reservations"]:
        for i in reservation["Instances"]:
            if i["State"]["Name"] not in ("terminated", "shutting-down") and i["InstanceId"] not in scaled:
                add("aws_instance", i["InstanceId"])


def iam_ids(c, vpcs, add):
    """Roles other than AWS's service roles, their policies, and instance profiles."""
    iam = c["iam"]
    for role in iam.list_roles()["Roles"]:
        if role["Path"].startswith("/aws-service-role/"):
            continue
        name = role["RoleName"]
        add("aws_iam_role", name)
        for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            add("aws_iam_role_policy_attachment", f"{name}/{p['PolicyArn']}")
        for p in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            add("aws_iam_role_policy", f"{name}:{p}")
    for p in iam.list_instance_profiles()["InstanceProfiles"]:
        add("aws_iam_instance_profile", p["InstanceProfileName"])


def monitoring_and_load_balancer_ids(c, vpcs, add):
    """Log groups, alarms, load balancers with their listeners, and target groups."""
    elbv2 = c["elbv2"]
    for g in c["logs"].describe_log_groups()["logGroups"]:
        add("aws_cloudwatch_log_group", g["logGroupName"])
    for a in c["cloudwatch"].describe_alarms()["MetricAlarms"]:
        add("aws_cloudwatch_metric_alarm", a["AlarmName"])
    for lb in elbv2.describe_load_balancers()["LoadBalancers"]:
        add("aws_lb", lb["LoadBalancerArn"])
        for listener in elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
            add("aws_lb_listener", listener["ListenerArn"])
    for tg in elbv2.describe_target_groups()["TargetGroups"]:
        add("aws_lb_target_group", tg["TargetGroupArn"])


def day_two_ids(c, vpcs, add):
    """SSM parameters, log metric filters, dashboards, KMS keys and aliases, SNS topics and subscriptions.
    A key pending deletion (and its aliases) is on its way out, not something an apply left; so is a subscription AWS lists unconfirmed, without an ARN."""
    for p in created_parameters(c["ssm"]):
        add("aws_ssm_parameter", p["Name"])
    for f in pages(c["logs"], "describe_metric_filters", "metricFilters"):
        add("aws_cloudwatch_log_metric_filter", f"{f['logGroupName']}:{f['filterName']}")
    for name in deployed_dashboards(c):
        add("aws_cloudwatch_dashboard", name)
    leaving = set()
    for k in customer_keys(c["kms"]):
        if k.get("KeyState") in ("PendingDeletion", "PendingReplicaDeletion"):
            leaving.add(k["KeyId"])
        else:
            add("aws_kms_key", k["KeyId"])
    for a in created_aliases(c["kms"]):
        if a["TargetKeyId"] not in leaving:
            add("aws_kms_alias", a["AliasName"])
    for arn, subscriptions in topic_subscriptions(c["sns"]):
        add("aws_sns_topic", arn)
        for s in subscriptions:
            if s["SubscriptionArn"].startswith("arn:"):
                add("aws_sns_topic_subscription", s["SubscriptionArn"])


# The readers of import ids, in the order their kinds are printed.
IMPORT_ID_READERS = (
    network_ids,
    route_table_ids,
    gateway_ids,
    transit_gateway_ids,
    resolver_ids,
    compute_ids,
    iam_ids,
    monitoring_and_load_balancer_ids,
    day_two_ids,
)


def import_ids(c):
    """Every resource in the emulator that a Terraform apply created, by Terraform type, as the id `terraform import` takes.
    It leaves out the region's defaults and what AWS makes by itself (main route tables, local routes, untagged default
    security groups, instances' interfaces, groups' instances), with no tag filters, so it stays independent of the orphan sweep."""
    vpcs = {v["VpcId"] for v in c["ec2"].describe_vpcs()["Vpcs"] if not v.get("IsDefault")}
    ids = {}

    def add(kind, value):
        ids.setdefault(kind, []).append(value)

    for read in IMPORT_ID_READERS:
        read(c, vpcs, add)
    return ids


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    endpoint, region, command, *args = argv[1:]
    c = clients(endpoint, region)
    if command == "create-bucket":
        (name,) = args
        config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        c["s3"].create_bucket(Bucket=name, **config)
        c["s3"].put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        print(json.dumps({"bucket": name}))
    elif command == "inventory":
        print(json.dumps(inventory(c)))
    elif command == "get-object":
        bucket, key = args
        try:
            body = c["s3"].get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        except c["s3"].exceptions.NoSuchKey:
            body = None
        print(json.dumps({"body": body}))
    elif command == "import-ids":
        print(json.dumps(import_ids(c)))
    elif command == "object-exists":
        bucket, key = args
        found = c["s3"].list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])
        print(json.dumps({"exists": any(o["Key"] == key for o in found)}))
    else:
        sys.exit(f"unknown command {command}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv)
