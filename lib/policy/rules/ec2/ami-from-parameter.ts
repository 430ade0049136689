import { PolicyRule } from "../../rule";

/** AMIs come from SSM parameters (kept current by AWS), never from ids written into the code. */
export const amiFromParameter: PolicyRule = {
  id: "PX-EC2-NO-HARDCODED-AMI",
  description: "No instance names an AMI id literally.",
  fix: "read the AMI id from an SSM parameter (amiParameter in the environment file)",
  resourceTypes: ["aws_instance", "aws_launch_template"],
  check: (r) => {
    const ami = r.attrs.ami ?? r.attrs.image_id;
    return typeof ami === "string" && /^ami-[0-9a-f]+$/.test(ami) ? `the AMI id ${ami} is written into the code` : undefined;
  },
};
