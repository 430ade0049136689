import { blocks } from "../../../tf-json";
import { PolicyRule } from "../../rule";

/** Instances accept only IMDSv2 (session tokens), which blocks SSRF-style credential theft. */
export const imdsv2Required: PolicyRule = {
  id: "PX-EC2-IMDSV2",
  description: "Instances require IMDSv2.",
  fix: 'set metadata_options { http_tokens = "required" }',
  resourceTypes: ["aws_instance", "aws_launch_template"],
  check: (r) => {
    const tokens = blocks(r.attrs.metadata_options)[0]?.http_tokens;
    return tokens === "required" ? undefined : `metadata_options.http_tokens is ${JSON.stringify(tokens ?? null)}, so IMDSv1 is allowed`;
  },
};
