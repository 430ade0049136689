import { blocks } from "../../../tf-json";
import { PolicyRule } from "../../rule";

/** A principal that names no one in particular: "*" itself, or a "*" outside a Terraform reference (arn:aws:iam::*:root). */
function isWildcard(principal: unknown): boolean {
  return typeof principal === "string" && principal.replace(/\$\{[^}]*\}/g, "").includes("*");
}

/** Only named accounts may connect endpoints to an endpoint service: a "*" lets any AWS account reach the proxy. */
export const endpointServiceNoWildcardPrincipal: PolicyRule = {
  id: "PX-VPCE-NO-WILDCARD-PRINCIPAL",
  description: 'VPC endpoint services allow named principals only, never "*".',
  fix: "list the app VPCs' accounts (arn:aws:iam::<account>:root) or roles in allowed_principals (connectivity.allowedPrincipals)",
  resourceTypes: ["aws_vpc_endpoint_service", "aws_vpc_endpoint_service_allowed_principal"],
  check: (r) => {
    const principals = r.type === "aws_vpc_endpoint_service" ? blocks(r.attrs.allowed_principals) : [r.attrs.principal_arn];
    const wild = principals.filter(isWildcard);
    return wild.length === 0
      ? undefined
      : `${r.type === "aws_vpc_endpoint_service" ? "allowed_principals lists" : "principal_arn is"} ${wild.map((p) => JSON.stringify(p)).join(", ")}: any AWS account could create an endpoint to the proxy${r.attrs.acceptance_required === true ? " and ask for its acceptance" : " and use it at once"}`;
  },
};
