"""The AWS emulator for the tests and the rehearsal: moto 5.2.1's own server with the changes below, each where moto differs from AWS.

- Launch template versions: user data from CreateLaunchTemplateVersion is read as the base64 it is (moto failed with HTTP 500 when a group launched from it).
- Launch template tags: a version's data keeps no "launch-template" tag specification (moto copied them there, so every plan after a deploy made a new version).
- Instance refresh: Start, Describe and Cancel answer, every instance replaced at once (moto answered HTTP 500, so an apply that changed a group's template hung); behaviour under load is the fleet lab's to prove.
- Network load balancers: each subnet mapping's fixed private address is kept and shown (moto forgot it, so adopting an orphaned load balancer failed in SetSubnets).
- Transit Gateways: with default association and propagation disabled there is no default table and no automatic association; explicit (dis)associations show on the attachment, undoing a missing one answers, creation tags are kept, static routes name their attachment, and deleted gateways and attachments stay described as "deleted" (moto differed on each, and the provider failed or planned changes on it).
- Security group rules: writes to a group and its rules take one lock in turn (moto's threaded server could lose a rule when two writes to one group raced).
- Instances: a terminated instance gives its private addresses back (moto kept them taken, so replacing an instance at a fixed address failed with HTTP 500 for ever).
- Load balancers: SetSecurityGroups keeps EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic and DescribeLoadBalancers shows it (moto dropped it, so every plan after a deploy of a PrivateLink fleet changed it back to "off").
- VPC endpoint services: a service keeps the SupportedIpAddressTypes it was created with, "ipv4" when none are given (moto showed none, so every plan changed them).
- Systems Manager: DescribeInstanceInformation lists every running instance as a node whose agent is online (moto answered HTTP 500); Run Command still runs nothing, so npm run verify reports the servers' results as not judged.

  python3 proof/emulator/moto_server.py -H 127.0.0.1 -p PORT
"""

import functools
import sys
import threading
import uuid
from datetime import datetime, timezone

from moto.autoscaling.exceptions import AutoscalingClientError
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult
from moto.core.types import Base64EncodedString
from moto.ec2.models.instances import Instance
from moto.ec2.models.launch_templates import LaunchTemplateVersion
from moto.ec2.models.security_groups import SecurityGroupBackend
from moto.ec2.models.transit_gateway import TransitGateway, TransitGatewayBackend
from moto.ec2.models.transit_gateway_attachments import TransitGatewayAttachmentBackend
from moto.ec2.models.transit_gateway_route_tables import TransitGatewayRelations, TransitGatewayRouteTableBackend
from moto.ec2.responses.transit_gateway_attachments import TransitGatewayAttachment as AttachmentResponses
from moto.ec2.models.vpc_service_configuration import VPCServiceConfiguration
from moto.ec2.responses.vpc_service_configuration import VPCEndpointServiceConfiguration
from moto.elbv2.models import AvailabilityZone, ELBv2Backend, FakeLoadBalancer
from moto.elbv2.responses import ELBV2Response
from moto.ec2 import ec2_backends
from moto.server import main
from moto.ssm.responses import SimpleSystemManagerResponse

_gateway_init = TransitGateway.__init__
_create_vpc_attachment = TransitGatewayAttachmentBackend.create_transit_gateway_vpc_attachment
_set_association = TransitGatewayAttachmentBackend.set_attachment_association
_unset_association = TransitGatewayAttachmentBackend.unset_attachment_association
_disassociate = TransitGatewayRouteTableBackend.disassociate_transit_gateway_route_table
_disable = TransitGatewayRouteTableBackend.disable_transit_gateway_route_table_propagation


def _gateway(self, backend, description, options=None):
    _gateway_init(self, backend, description, options)
    if self.options.get("DefaultRouteTableAssociation") == "disable":
        self.options.pop("AssociationDefaultRouteTableId", None)
    if self.options.get("DefaultRouteTablePropagation") == "disable":
        self.options.pop("PropagationDefaultRouteTableId", None)


def _vpc_attachment(self, transit_gateway_id, vpc_id, subnet_ids, tags=None, options=None):
    attachment = _create_vpc_attachment(self, transit_gateway_id, vpc_id, subnet_ids, tags, options)
    gateway = self.transit_gateways[transit_gateway_id]
    if gateway.options.get("DefaultRouteTableAssociation") == "disable":
        self.unset_route_table_association(gateway.default_route_table.id, tgw_attach_id=attachment.id)
        attachment.transit_gateway_route_table = None
    return attachment


def _associated(self, transit_gateway_attachment_id, transit_gateway_route_table_id):
    _set_association(self, transit_gateway_attachment_id, transit_gateway_route_table_id)
    table = self.transit_gateways_route_tables.get(transit_gateway_route_table_id)
    self.transit_gateway_attachments[transit_gateway_attachment_id].transit_gateway_route_table = table


def _unassociated(self, tgw_attach_id):
    _unset_association(self, tgw_attach_id)
    self.transit_gateway_attachments[tgw_attach_id].transit_gateway_route_table = None


def _tolerant_disassociate(self, tgw_attach_id, tgw_rt_id):
    if tgw_attach_id not in self.transit_gateway_associations:
        return TransitGatewayRelations(self, tgw_attach_id, tgw_rt_id, state="disassociated")
    return _disassociate(self, tgw_attach_id, tgw_rt_id)


def _tolerant_disable(self, transit_gateway_attachment_id, transit_gateway_route_table_id):
    if transit_gateway_attachment_id not in self.transit_gateway_propagations:
        return TransitGatewayRelations(self, transit_gateway_attachment_id, transit_gateway_route_table_id, state="disabled")
    return _disable(self, transit_gateway_attachment_id, transit_gateway_route_table_id)


_delete_attachment = TransitGatewayAttachmentBackend.delete_transit_gateway_vpc_attachment
_describe_attachments = TransitGatewayAttachmentBackend.describe_transit_gateway_vpc_attachments
_delete_gateway = TransitGatewayBackend.delete_transit_gateway
_describe_gateways = TransitGatewayBackend.describe_transit_gateways


def _remember(self, kind, item):
    gone = self.__dict__.setdefault("_deleted_" + kind, {})
    item.state = "deleted"
    gone[item.id] = item
    return item


def _asked_for(ids, filters, key):
    values = set(ids or [])
    if isinstance(filters, dict):
        values |= set(filters.get(key, []))
    return values


def _attachment_deleted(self, transit_gateway_attachment_id):
    return _remember(self, "attachments", _delete_attachment(self, transit_gateway_attachment_id))


def _attachments_described(self, transit_gateways_attachment_ids=None, filters=None):
    found = _describe_attachments(self, transit_gateways_attachment_ids, filters)
    wanted = _asked_for(transit_gateways_attachment_ids, filters, "transit-gateway-attachment-id")
    return found + [a for i, a in self.__dict__.get("_deleted_attachments", {}).items() if i in wanted]


def _gateway_deleted(self, transit_gateway_id):
    return _remember(self, "gateways", _delete_gateway(self, transit_gateway_id))


def _gateways_described(self, filters, transit_gateway_ids):
    found = _describe_gateways(self, filters, transit_gateway_ids)
    wanted = _asked_for(transit_gateway_ids, filters, "transit-gateway-id")
    return found + [g for i, g in self.__dict__.get("_deleted_gateways", {}).items() if i in wanted]


_parse_tags = AttachmentResponses._parse_tag_specification
_create_route = TransitGatewayRouteTableBackend.create_transit_gateway_route


def _attachment_tags(self, *args, **kwargs):
    parsed = _parse_tags(self, *args, **kwargs)
    if "transit-gateway-attachment" in parsed:
        parsed = {**parsed, "transit-gateway-route-table": parsed["transit-gateway-attachment"]}
    return parsed


def _static_route(self, transit_gateway_route_table_id, destination_cidr_block, transit_gateway_attachment_id=None, blackhole=False):
    route = _create_route(self, transit_gateway_route_table_id, destination_cidr_block, transit_gateway_attachment_id, blackhole)
    attachment = route.get("transitGatewayAttachments")
    if isinstance(attachment, dict):
        route["transitGatewayAttachments"] = [attachment]
    return route


_create_load_balancer = ELBv2Backend.create_load_balancer


def _load_balancer(self, *args, **kwargs):
    balancer = _create_load_balancer(self, *args, **kwargs)
    mappings = kwargs.get("subnet_mappings") if "subnet_mappings" in kwargs else (args[3] if len(args) > 3 else None)
    balancer.fixed_addresses = {m["SubnetId"]: m["PrivateIPv4Address"] for m in mappings or [] if m.get("PrivateIPv4Address")}
    return balancer


def _zones(self):
    zones = []
    for subnet in self.subnets:
        zone = AvailabilityZone(subnet)
        address = getattr(self, "fixed_addresses", {}).get(subnet.id)
        if address:
            zone.load_balancer_addresses = [{"PrivateIPv4Address": address}]
        zones.append(zone)
    return zones


def _version_user_data(self):
    user_data = self.data.get("UserData")
    if isinstance(user_data, str):
        user_data = self.data["UserData"] = Base64EncodedString(user_data)
    return user_data


_version_init = LaunchTemplateVersion.__init__


def _version(self, template, number, data, description):
    specs = data.get("TagSpecifications")
    if specs:
        data = {**data, "TagSpecifications": [t for t in specs if t.get("ResourceType") != "launch-template"]}
        if not data["TagSpecifications"]:
            del data["TagSpecifications"]
    _version_init(self, template, number, data, description)


def _refreshes(backend):
    return backend.__dict__.setdefault("_instance_refreshes", {})


def _start_instance_refresh(self):
    backend = self.autoscaling_backend
    name = self._get_param("AutoScalingGroupName")
    group = backend.autoscaling_groups.get(name)
    if group is None:
        raise AutoscalingClientError("ValidationError", f"AutoScalingGroup name not found - {name}")
    started = datetime.now(timezone.utc)
    replaced = [state.instance.id for state in list(group.instance_states)]
    for instance_id in replaced:
        # Terminating without lowering the desired capacity launches a replacement from the
        # group's launch template, which is what a rolling refresh ends with.
        backend.terminate_instance(instance_id, should_decrement=False)
    refresh = {
        "InstanceRefreshId": str(uuid.uuid4()),
        "AutoScalingGroupName": name,
        "Status": "Successful",
        "StatusReason": f"emulated: {len(replaced)} instances replaced at once",
        "StartTime": started,
        "EndTime": datetime.now(timezone.utc),
        "PercentageComplete": 100,
        "InstancesToUpdate": 0,
    }
    strategy = self._get_param("Strategy")
    if strategy:
        refresh["Strategy"] = strategy
    preferences = self._get_param("Preferences")
    if preferences:
        refresh["Preferences"] = preferences
    _refreshes(backend).setdefault(name, []).insert(0, refresh)
    return ActionResult({"InstanceRefreshId": refresh["InstanceRefreshId"]})


def _describe_instance_refreshes(self):
    name = self._get_param("AutoScalingGroupName")
    wanted = set(self._get_param("InstanceRefreshIds", []) or [])
    found = [r for r in _refreshes(self.autoscaling_backend).get(name, []) if not wanted or r["InstanceRefreshId"] in wanted]
    return ActionResult({"InstanceRefreshes": found})


def _cancel_instance_refresh(self):
    # Every emulated refresh has ended by the time it is answered, so none is ever under way.
    name = self._get_param("AutoScalingGroupName")
    raise AutoscalingClientError("ActiveInstanceRefreshNotFound", f"No in progress or pending Instance Refresh found for Auto Scaling group {name}")


_security_group_writes = threading.RLock()
_SECURITY_GROUP_WRITES = (
    "authorize_security_group_ingress",
    "authorize_security_group_egress",
    "revoke_security_group_ingress",
    "revoke_security_group_egress",
    "modify_security_group_rules",
    "update_security_group_rule_descriptions_ingress",
    "update_security_group_rule_descriptions_egress",
    "create_security_group",
    "delete_security_group",
)


def _one_at_a_time(write):
    @functools.wraps(write)
    def serialized(*args, **kwargs):
        with _security_group_writes:
            return write(*args, **kwargs)

    return serialized


for _name in _SECURITY_GROUP_WRITES:
    setattr(SecurityGroupBackend, _name, _one_at_a_time(getattr(SecurityGroupBackend, _name)))

def _instance_information(self):
    # As if every running instance's agent had registered: the nodes npm run verify asks for.
    wanted = [v for f in self._get_param("Filters", []) if f.get("Key") == "InstanceIds" for v in f.get("Values", [])]
    nodes = [
        {
            "InstanceId": i.id,
            "PingStatus": "Online",
            "PlatformType": "Windows" if i.platform == "windows" else "Linux",
            "IPAddress": i.private_ip,
            "ResourceType": "EC2Instance",
        }
        for i in ec2_backends[self.current_account][self.region].all_instances()
        if i.state == "running" and (not wanted or i.id in wanted)
    ]
    return ActionResult({"InstanceInformationList": nodes})


_terminate = Instance.terminate


def _terminated(self):
    # As AWS, which deletes the primary interface: its addresses are free for the next instance (a replacement at the same address).
    previous = _terminate(self)
    for nic in self.nics.values():
        for ip in [a["PrivateIpAddress"] for a in nic.private_ip_addresses]:
            if nic.subnet._subnet_ips.get(ip) is self:
                nic.subnet.del_subnet_ip(ip)
    return previous


_set_security_groups = ELBV2Response.set_security_groups


def _security_groups_set(self):
    # As AWS: the PrivateLink setting comes with the groups, and DescribeLoadBalancers shows it from then on.
    result = _set_security_groups(self)
    enforce = self._get_param("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic")
    if enforce:
        self.elbv2_backend.load_balancers[self._get_param("LoadBalancerArn")].enforce_security_group_inbound_rules_on_private_link_traffic = enforce
        result = ActionResult({"SecurityGroupIds": self._get_param("SecurityGroups", []), "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic": enforce})
    return result


_create_service_configuration = VPCEndpointServiceConfiguration.create_vpc_endpoint_service_configuration
_service_configuration_init = VPCServiceConfiguration.__init__


def _service_configuration(self, *args, **kwargs):
    _service_configuration_init(self, *args, **kwargs)
    self.supported_ip_address_types = ["ipv4"]


def _service_configuration_created(self):
    # The types asked for are kept on the service the backend just stored (AWS's default: ipv4).
    result = _create_service_configuration(self)
    types = self._get_param("SupportedIpAddressTypes", [])
    if types:
        result.result["ServiceConfiguration"].supported_ip_address_types = types
    return result


Instance.terminate = _terminated
ELBV2Response.set_security_groups = _security_groups_set
VPCServiceConfiguration.__init__ = _service_configuration
VPCEndpointServiceConfiguration.create_vpc_endpoint_service_configuration = _service_configuration_created
SimpleSystemManagerResponse.describe_instance_information = _instance_information
LaunchTemplateVersion.__init__ = _version
AutoScalingResponse.start_instance_refresh = _start_instance_refresh
AutoScalingResponse.describe_instance_refreshes = _describe_instance_refreshes
AutoScalingResponse.cancel_instance_refresh = _cancel_instance_refresh
LaunchTemplateVersion.user_data = property(_version_user_data)
ELBv2Backend.create_load_balancer = _load_balancer
TransitGatewayAttachmentBackend.delete_transit_gateway_vpc_attachment = _attachment_deleted
TransitGatewayAttachmentBackend.describe_transit_gateway_vpc_attachments = _attachments_described
TransitGatewayBackend.delete_transit_gateway = _gateway_deleted
TransitGatewayBackend.describe_transit_gateways = _gateways_described
FakeLoadBalancer.availability_zones = property(_zones)
AttachmentResponses._parse_tag_specification = _attachment_tags
TransitGatewayRouteTableBackend.create_transit_gateway_route = _static_route
TransitGateway.__init__ = _gateway
TransitGatewayAttachmentBackend.create_transit_gateway_vpc_attachment = _vpc_attachment
TransitGatewayAttachmentBackend.set_attachment_association = _associated
TransitGatewayAttachmentBackend.unset_attachment_association = _unassociated
TransitGatewayRouteTableBackend.disassociate_transit_gateway_route_table = _tolerant_disassociate
TransitGatewayRouteTableBackend.disable_transit_gateway_route_table_propagation = _tolerant_disable

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
