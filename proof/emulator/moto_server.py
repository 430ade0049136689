"""The AWS emulator for the tests and the rehearsal: moto's own server, with the changes the
Transit Gateway variant and the adoption of orphans need to behave as AWS does. Everything else is
moto as installed.

Launch templates: moto 5.2.1 keeps the user data of a version made by CreateLaunchTemplateVersion
as plain text where CreateLaunchTemplate keeps it as a Base64EncodedString, and then fails an
assertion (HTTP 500, retried for minutes) when an Auto Scaling group launches from that version.
Adopting an orphaned template updates it to a new version, so here a version's user data is read
as the base64 text it is.

Launch templates, tags: moto 5.2.1 copies the tags of CreateLaunchTemplate (those of the template
itself, resource type "launch-template") into the tag specifications of version 1's data, where AWS
keeps only the tags for what the template launches. The provider then sees a change on every plan
after a deploy, makes version 2, and the Auto Scaling group follows it into an instance refresh.
Here a version's data keeps no "launch-template" tag specification (AWS refuses one there).

Instance refresh: moto 5.2.1 implements none of StartInstanceRefresh, DescribeInstanceRefreshes
and CancelInstanceRefresh (each answers HTTP 500, which the provider retries for minutes, so an
apply that changes a group's launch template hangs). Here a refresh replaces every instance of the
group at once (moto launches them from the template's default version, which the stack keeps at
the latest) and is reported as Successful; cancelling
with no refresh under way answers ActiveInstanceRefreshNotFound, as AWS does. How a rolling change
behaves under load is proven by the fleet lab (npm run e2e), not by the emulator.

Network load balancers: moto 5.2.1 forgets the fixed private address of each subnet mapping, so
the plan after a deploy wants to set the mappings again, and applying that (adopting an orphaned
load balancer does) fails in moto's SetSubnets. Here the addresses given at creation are kept and
shown as each zone's load balancer address, as AWS does.

Transit Gateways:
moto 5.2.1 gives every Transit Gateway a default route table, even one created with default route
table association and propagation disabled, reports it in the gateway's options, and associates
every new attachment with it; an explicit association then never shows on the attachment. AWS
creates no default table in that case and associates nothing by itself. The AWS provider reads
the attachment's association to know when an explicit one is done, and (for an attachment with
transit_gateway_default_route_table_association = false) asks to disassociate from the reported
default table, which moto answers with HTTP 500. So here:
  - a gateway created with default association (propagation) disabled reports no default table;
  - an attachment to such a gateway is associated with nothing until it is associated explicitly;
  - an explicit association or disassociation shows on the attachment;
  - undoing an association or propagation that does not exist answers instead of failing;
  - the tags given when an attachment is created are kept (moto reads them from the route table
    entry of the request, so an attachment starts untagged, the plan after a deploy wants to tag
    it, and the orphan sweep cannot find it by its tags);
  - a static route names the attachment it goes to (moto keeps it in a shape it never returns,
    so the provider reads every static route as a blackhole and wants to replace it);
  - a deleted gateway or attachment is still described, by its id, with the state "deleted", as
    AWS does for a while (moto forgets it at once, and the provider's wait for the deletion then
    gives up with "couldn't find resource").

Security group rules: moto's server answers requests on threads, and moto 5.2.1 changes a group's
rule lists by reading the list and writing a new one (a revoke) or appending to it (an authorize)
with no lock, so two writes to one group at once can lose one. Terraform writes the rules of a
group in parallel; one rehearsal's destroy was answered InvalidPermission.NotFound for a rule its
deploy had authorized. Here the writes to security groups and their rules take one lock in turn.

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
from moto.ec2.models.launch_templates import LaunchTemplateVersion
from moto.ec2.models.security_groups import SecurityGroupBackend
from moto.ec2.models.transit_gateway import TransitGateway, TransitGatewayBackend
from moto.ec2.models.transit_gateway_attachments import TransitGatewayAttachmentBackend
from moto.ec2.models.transit_gateway_route_tables import TransitGatewayRelations, TransitGatewayRouteTableBackend
from moto.ec2.responses.transit_gateway_attachments import TransitGatewayAttachment as AttachmentResponses
from moto.elbv2.models import AvailabilityZone, ELBv2Backend, FakeLoadBalancer
from moto.server import main

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
