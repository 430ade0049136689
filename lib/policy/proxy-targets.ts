/**
 * What a load balancer delivers to, read from synthesized resources: an endpoint service's load
 * balancers, their listeners' target groups, and the Squid configuration that each target group's
 * instances boot with (the http_port lines of their user data), for the rules that relate the two.
 */
import { Attributes, blocks, referencedAddress, referenceTo, ResourceView } from "../tf-json";
import { StackView } from "./rule";

/** The target group types of the provider (aws_alb_target_group is the older name). */
const TARGET_GROUP_TYPES = ["aws_lb_target_group", "aws_alb_target_group"];
const LOAD_BALANCER_TYPES = ["aws_lb", "aws_alb"];
const LISTENER_TYPES = ["aws_lb_listener", "aws_alb_listener"];

const address = (r: ResourceView) => `${r.type}.${r.logicalId}`;

/** The resources of `types` that a list of references (or one) points at. */
function referenced(stack: StackView, types: readonly string[], refs: unknown): ResourceView[] {
  const addresses = new Set((Array.isArray(refs) ? refs : [refs]).map(referencedAddress).filter(Boolean));
  return types.flatMap((t) => stack.resourcesOf(t)).filter((r) => addresses.has(address(r)));
}

/** The load balancers an endpoint service fronts (network_load_balancer_arns, gateway_load_balancer_arns). */
export function loadBalancersOf(service: ResourceView, stack: StackView): ResourceView[] {
  return referenced(stack, LOAD_BALANCER_TYPES, [
    ...blocks(service.attrs.network_load_balancer_arns),
    ...blocks(service.attrs.gateway_load_balancer_arns),
  ]);
}

/** The target groups a load balancer's listeners forward to (default_action's target_group_arn or forward blocks). */
export function targetGroupsOf(loadBalancer: ResourceView, stack: StackView): ResourceView[] {
  const arn = referenceTo(loadBalancer, "arn");
  const listeners = LISTENER_TYPES.flatMap((t) => stack.resourcesOf(t)).filter((l) => l.attrs.load_balancer_arn === arn);
  const refs = listeners.flatMap((l) =>
    blocks(l.attrs.default_action).flatMap((a) => [
      a.target_group_arn,
      ...blocks(a.forward).flatMap((f) => blocks(f.target_group).map((g) => g.arn)),
    ]),
  );
  return referenced(stack, TARGET_GROUP_TYPES, refs);
}

/** User data as text: plain (an instance's user_data), or base64 (a launch template's, an instance's user_data_base64). */
function userDataText(attrs: Attributes, key: "user_data" | "user_data_base64", base64: boolean): string | undefined {
  const value = attrs[key];
  if (typeof value !== "string") return undefined;
  if (!base64) return value;
  // A reference or function call (such as base64encode(...)) is not text the rule can read.
  if (!/^[A-Za-z0-9+/=\s]+$/.test(value)) return undefined;
  return Buffer.from(value, "base64").toString("utf8");
}

/** One target's boot script, named by the resource it comes from. */
export interface TargetUserData {
  /** The resource whose user data it is, such as aws_launch_template.Fleet_LaunchTemplate_1234. */
  readonly source: string;
  readonly text: string;
}

/** The user data of the instances a target group sends to: its Auto Scaling groups' launch templates and its attached instances. */
export function targetUserData(targetGroup: ResourceView, stack: StackView): TargetUserData[] {
  const arn = referenceTo(targetGroup, "arn");
  const groups = [
    ...stack
      .resourcesOf("aws_autoscaling_group")
      .filter((g) => (Array.isArray(g.attrs.target_group_arns) ? g.attrs.target_group_arns : []).includes(arn)),
    ...stack
      .resourcesOf("aws_autoscaling_attachment")
      .filter((a) => a.attrs.lb_target_group_arn === arn)
      .flatMap((a) => referenced(stack, ["aws_autoscaling_group"], a.attrs.autoscaling_group_name)),
  ];
  const templates = groups.flatMap((g) =>
    blocks(g.attrs.launch_template).flatMap((t) => referenced(stack, ["aws_launch_template"], [t.id, t.name])),
  );
  const instances = stack
    .resourcesOf("aws_lb_target_group_attachment")
    .filter((a) => a.attrs.target_group_arn === arn)
    .flatMap((a) => referenced(stack, ["aws_instance"], a.attrs.target_id));
  const found = [
    ...templates.map((t) => ({ source: address(t), text: userDataText(t.attrs, "user_data", true) })),
    ...instances.map((i) => ({
      source: address(i),
      text: userDataText(i.attrs, "user_data", false) ?? userDataText(i.attrs, "user_data_base64", true),
    })),
  ];
  const unique = new Map(found.filter((f): f is TargetUserData => f.text !== undefined).map((f) => [f.source, f]));
  return [...unique.values()];
}

/** A Squid http_port line: its port and its options. */
export interface SquidListener {
  readonly port: number;
  readonly options: readonly string[];
}

/** The http_port lines of a squid.conf, or of a script that writes one. */
export function squidListeners(text: string): SquidListener[] {
  return [...text.matchAll(/^[ \t]*http_port[ \t]+(?:\S*:)?(\d+)([^\n]*)$/gm)].map((m) => ({
    port: Number(m[1]),
    options: m[2].trim().split(/\s+/).filter(Boolean),
  }));
}

/** A target's Squid listener on the target group's port: does it require the PROXY protocol header? */
export interface SquidOnPort {
  readonly source: string;
  readonly requiresProxyHeader: boolean;
}

/** The Squid listeners of a target group's instances on the port it sends to (targets that run no Squid on it are left out). */
export function squidOnTargetPort(targetGroup: ResourceView, stack: StackView): SquidOnPort[] {
  const port = Number(targetGroup.attrs.port);
  return targetUserData(targetGroup, stack).flatMap(({ source, text }) =>
    squidListeners(text)
      .filter((l) => l.port === port)
      .map((l) => ({ source, requiresProxyHeader: l.options.includes("require-proxy-header") })),
  );
}

/** Does a target group send a PROXY protocol v2 header (proxy_protocol_v2 true, or "true" as a string)? */
export function sendsProxyProtocol(targetGroup: ResourceView): boolean {
  return targetGroup.attrs.proxy_protocol_v2 === true || targetGroup.attrs.proxy_protocol_v2 === "true";
}
