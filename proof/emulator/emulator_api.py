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
    return {name: boto3.client(name, **kwargs) for name in ("ec2", "s3", "iam", "logs", "cloudwatch", "elbv2", "autoscaling", "route53resolver")}


def tags(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def transit_gateway_tables(ec2, states=None, static_only=False):
    """Each Transit Gateway route table that a stack made, with the attachment ids associated with
    it, those propagating into it, and its routes (in `states` and static only, where asked). moto
    invents a default table for every gateway (and keeps it after the gateway is gone); AWS creates
    none when default association and propagation are disabled, so it is left out."""
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


def inventory(c):
    ec2, iam = c["ec2"], c["iam"]
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
    vpcs = [
        {"id": v["VpcId"], "cidr": v["CidrBlock"], "name": tags(v).get("Name"), "project": tags(v).get("Project")}
        for v in ec2.describe_vpcs()["Vpcs"]
        if not v.get("IsDefault")
    ]
    peerings = [
        {
            "id": p["VpcPeeringConnectionId"],
            "status": p["Status"]["Code"],
            "requesterCidr": p["RequesterVpcInfo"].get("CidrBlock"),
            "accepterCidr": p["AccepterVpcInfo"].get("CidrBlock"),
        }
        for p in ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]
        if p["Status"]["Code"] not in ("deleted", "rejected")
    ]
    routes = [
        {
            "vpcId": t["VpcId"],
            "routeTableId": t["RouteTableId"],
            "destination": r.get("DestinationCidrBlock"),
            "peering": r.get("VpcPeeringConnectionId"),
            "transitGateway": r.get("TransitGatewayId"),
            "natGateway": r.get("NatGatewayId"),
        }
        for t in ec2.describe_route_tables()["RouteTables"]
        for r in t["Routes"]
        if r.get("VpcPeeringConnectionId") or r.get("TransitGatewayId") or r.get("NatGatewayId")
    ]
    subnets = [{"id": s["SubnetId"], "vpcId": s["VpcId"], "cidr": s["CidrBlock"], "zone": s["AvailabilityZone"]} for s in ec2.describe_subnets()["Subnets"] if not s.get("DefaultForAz")]
    groups = [
        {"id": g["GroupId"], "name": g["GroupName"], "vpcId": g.get("VpcId")}
        for g in ec2.describe_security_groups()["SecurityGroups"]
        if g["GroupName"] != "default"
    ]
    endpoints = [e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"] if e["State"].lower() != "deleted"]
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
    interfaces = [
        {
            "id": n["NetworkInterfaceId"],
            "status": n["Status"],
            "attachedToTerminated": n.get("Attachment", {}).get("InstanceId") in terminated,
            "ofDeletedNatGateway": n["NetworkInterfaceId"] in nat_interfaces,
        }
        for n in ec2.describe_network_interfaces()["NetworkInterfaces"]
    ]
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"] if not r["Path"].startswith("/aws-service-role/")]
    profiles = [p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]]
    log_groups = [g["logGroupName"] for g in c["logs"].describe_log_groups()["logGroups"]]
    alarms = [a["AlarmName"] for a in c["cloudwatch"].describe_alarms()["MetricAlarms"]]
    flow_logs = [f["FlowLogId"] for f in ec2.describe_flow_logs()["FlowLogs"]]
    elbv2, autoscaling = c["elbv2"], c["autoscaling"]
    load_balancers = [
        {
            "arn": lb["LoadBalancerArn"],
            "name": lb["LoadBalancerName"],
            "dnsName": lb.get("DNSName"),
            "scheme": lb.get("Scheme"),
            "type": lb.get("Type"),
            "addresses": sorted(a.get("PrivateIPv4Address") for z in lb.get("AvailabilityZones", []) for a in z.get("LoadBalancerAddresses", []) if a.get("PrivateIPv4Address")),
            "zones": len(lb.get("AvailabilityZones", [])),
            "listeners": [
                {"port": l["Port"], "protocol": l["Protocol"], "targetGroups": [a.get("TargetGroupArn") for a in l.get("DefaultActions", [])]}
                for l in elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
            ],
        }
        for lb in elbv2.describe_load_balancers()["LoadBalancers"]
    ]
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
            }
        )
    groups_asg = [
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
    transit_gateways = [
        {
            "id": t["TransitGatewayId"],
            "state": t["State"],
            "defaultAssociation": t.get("Options", {}).get("DefaultRouteTableAssociation"),
            "defaultPropagation": t.get("Options", {}).get("DefaultRouteTablePropagation"),
            "autoAccept": t.get("Options", {}).get("AutoAcceptSharedAttachments"),
        }
        for t in ec2.describe_transit_gateways()["TransitGateways"]
        if t["State"] not in ("deleted", "deleting")
    ]
    tgw_attachments = [
        {
            "id": a["TransitGatewayAttachmentId"],
            "transitGatewayId": a["TransitGatewayId"],
            "vpcId": a["VpcId"],
            "subnetIds": a.get("SubnetIds", []),
            "state": a["State"],
            "applianceMode": a.get("Options", {}).get("ApplianceModeSupport"),
        }
        for a in ec2.describe_transit_gateway_vpc_attachments()["TransitGatewayVpcAttachments"]
        if a["State"] not in ("deleted", "deleting")
    ]
    tgw_tables = [
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
        for t, associations, propagations, routes in transit_gateway_tables(ec2, ["active", "blackhole"])
    ]
    nat_gateways = [
        {"id": n["NatGatewayId"], "subnetId": n["SubnetId"], "connectivity": n.get("ConnectivityType"), "state": n["State"], "privateIp": next((a.get("PrivateIp") for a in n.get("NatGatewayAddresses", [])), None)}
        for n in ec2.describe_nat_gateways()["NatGateways"]
        if n["State"] not in ("deleted", "deleting")
    ]
    resolver = c["route53resolver"]
    resolver_endpoints = [
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
    resolver_rules = [
        {
            "id": r["Id"],
            "name": r.get("Name"),
            "domain": r["DomainName"].rstrip("."),
            "type": r["RuleType"],
            "endpointId": r.get("ResolverEndpointId"),
            "targets": [{"ip": t.get("Ip"), "port": t.get("Port")} for t in r.get("TargetIps", [])],
        }
        for r in resolver.list_resolver_rules()["ResolverRules"]
        if r.get("OwnerId") != "Route 53 Resolver"
    ]
    resolver_associations = [
        {"id": a["Id"], "ruleId": a["ResolverRuleId"], "vpcId": a["VPCId"], "status": a.get("Status")}
        for a in resolver.list_resolver_rule_associations()["ResolverRuleAssociations"]
        if a["ResolverRuleId"] in {r["id"] for r in resolver_rules}
    ]
    return {
        "resolverEndpoints": resolver_endpoints,
        "resolverRules": resolver_rules,
        "resolverRuleAssociations": resolver_associations,
        "transitGateways": transit_gateways,
        "tgwAttachments": tgw_attachments,
        "tgwRouteTables": tgw_tables,
        "natGateways": nat_gateways,
        "loadBalancers": load_balancers,
        "targetGroups": target_groups,
        "autoScalingGroups": groups_asg,
        "launchTemplates": templates,
        "logGroups": log_groups,
        "alarms": alarms,
        "flowLogs": flow_logs,
        "instances": instances,
        "vpcs": vpcs,
        "peerings": peerings,
        "routes": routes,
        "subnets": subnets,
        "securityGroups": groups,
        "vpcEndpoints": endpoints,
        "networkInterfaces": interfaces,
        "iamRoles": roles,
        "instanceProfiles": profiles,
    }


def import_ids(c):
    """Every resource in the emulator that a Terraform apply created, by Terraform type, as the id
    `terraform import` takes. Independent of the orphan sweep: no tag filters, only what the
    emulator holds minus the region's defaults and what AWS makes by itself (a VPC's main route
    table and local routes, a default security group until Terraform adopts and tags it, the
    network interfaces of instances, the instances of Auto Scaling groups)."""
    ec2, iam, elbv2 = c["ec2"], c["iam"], c["elbv2"]
    ids = {}

    def add(kind, value):
        ids.setdefault(kind, []).append(value)

    vpcs = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")}
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
    for t in ec2.describe_route_tables()["RouteTables"]:
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
    for p in ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]:
        if p["Status"]["Code"] not in ("deleted", "rejected", "failed", "expired"):
            add("aws_vpc_peering_connection", p["VpcPeeringConnectionId"])
    for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]:
        if e["State"].lower() not in ("deleted", "deleting"):
            add("aws_vpc_endpoint", e["VpcEndpointId"])
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
    resolver = c["route53resolver"]
    for e in resolver.list_resolver_endpoints()["ResolverEndpoints"]:
        add("aws_route53_resolver_endpoint", e["Id"])
    owned_rules = set()
    for r in resolver.list_resolver_rules()["ResolverRules"]:
        if r.get("OwnerId") != "Route 53 Resolver":  # the built-in rule for internet names
            owned_rules.add(r["Id"])
            add("aws_route53_resolver_rule", r["Id"])
    for a in resolver.list_resolver_rule_associations()["ResolverRuleAssociations"]:
        if a["ResolverRuleId"] in owned_rules:
            add("aws_route53_resolver_rule_association", a["Id"])
    scaled = set()
    for g in c["autoscaling"].describe_auto_scaling_groups()["AutoScalingGroups"]:
        add("aws_autoscaling_group", g["AutoScalingGroupName"])
        scaled |= {i["InstanceId"] for i in g.get("Instances", [])}
    for reservation in ec2.describe_instances()["Reservations"]:
        for i in reservation["Instances"]:
            if i["State"]["Name"] not in ("terminated", "shutting-down") and i["InstanceId"] not in scaled:
                add("aws_instance", i["InstanceId"])
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
