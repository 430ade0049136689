/**
 * Degraded states: the model with one availability zone taken out (its subnets, and the instances, NAT gateways, load balancer
 * addresses and interface endpoint addresses in them).
 */
import { TerraformJson } from "../../lib/tf-json";
import { Model, Place, Surroundings } from "./model";

/** The availability zones of the stack's subnets, sorted. */
export function zonesOf(model: Model): string[] {
  return [...new Set([...model.subnets.values()].flatMap((s) => (s.zone ? [s.zone] : [])))].sort();
}

/** The model of `stack` without `zone`: what sat there is gone, and routes to a NAT gateway there lead nowhere. */
export function withoutZone(stack: TerraformJson, surroundings: Surroundings, zone: string): Model {
  const model = new Model(stack, surroundings);
  const gone = new Set([...model.subnets].filter(([, s]) => s.zone === zone).map(([key]) => key));
  const stays = (p: Place) => !gone.has(p.subnet);
  for (const subnet of gone) {
    model.subnets.delete(subnet);
    model.routeTableOfSubnet.delete(subnet);
    model.lost.set(subnet, zone);
  }
  const endpoints = model.endpoints.splice(0).flatMap((e) => {
    const placements = e.placements.filter(stays);
    if (placements.length === 0) model.lost.set(e.address, zone);
    return placements.length > 0 ? [{ ...e, ...placements[0], placements }] : [];
  });
  model.endpoints.push(...endpoints);
  for (const [of, front] of model.frontends) model.frontends.set(of, { ...front, nodes: front.nodes.filter(stays) });
  for (const [address, endpoint] of model.interfaceEndpoints) {
    const placements = endpoint.placements.filter(stays);
    if (placements.length > 0) model.interfaceEndpoints.set(address, { ...endpoint, placements });
    else {
      model.interfaceEndpoints.delete(address);
      model.lost.set(address, zone);
    }
  }
  for (const [address, nat] of model.natGateways) {
    if (!gone.has(nat.subnet)) continue;
    model.natGateways.delete(address);
    model.lost.set(address, zone);
  }
  for (const [address, attachment] of model.tgwAttachments)
    model.tgwAttachments.set(address, { ...attachment, subnets: attachment.subnets.filter((s) => !gone.has(s)) });
  return model;
}
