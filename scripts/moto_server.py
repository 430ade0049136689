"""The AWS emulator for the tests and the rehearsal: moto's own server, with the one change the
Transit Gateway variant needs.

moto 5.2.1 gives every Transit Gateway a default route table, even one created with default
route table association and propagation disabled (AWS creates none then). The AWS provider sees
that table and, for an attachment with transit_gateway_default_route_table_association = false,
asks to disassociate the attachment from it; moto never associated it, fails with a KeyError
(HTTP 500), and the provider retries for minutes. Here disassociating (or disabling propagation of)
an attachment that is not associated (or propagating) answers as AWS's absent call would leave it:
nothing to undo. Everything else is moto as installed.

  python3 scripts/moto_server.py -H 127.0.0.1 -p PORT
"""

import sys

from moto.ec2.models.transit_gateway_route_tables import TransitGatewayRelations, TransitGatewayRouteTableBackend
from moto.server import main

_disassociate = TransitGatewayRouteTableBackend.disassociate_transit_gateway_route_table
_disable = TransitGatewayRouteTableBackend.disable_transit_gateway_route_table_propagation


def _tolerant_disassociate(self, tgw_attach_id, tgw_rt_id):
    if tgw_attach_id not in self.transit_gateway_associations:
        return TransitGatewayRelations(self, tgw_attach_id, tgw_rt_id, state="disassociated")
    return _disassociate(self, tgw_attach_id, tgw_rt_id)


def _tolerant_disable(self, transit_gateway_attachment_id, transit_gateway_route_table_id):
    if transit_gateway_attachment_id not in self.transit_gateway_propagations:
        return TransitGatewayRelations(self, transit_gateway_attachment_id, transit_gateway_route_table_id, state="disabled")
    return _disable(self, transit_gateway_attachment_id, transit_gateway_route_table_id)


TransitGatewayRouteTableBackend.disassociate_transit_gateway_route_table = _tolerant_disassociate
TransitGatewayRouteTableBackend.disable_transit_gateway_route_table_propagation = _tolerant_disable

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
