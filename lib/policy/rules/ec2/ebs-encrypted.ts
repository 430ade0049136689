import { blocks } from "../../../tf-json";
import { PolicyRule } from "../../rule";

/** Every volume is encrypted at rest. */
export const ebsEncrypted: PolicyRule = {
  id: "PX-EC2-EBS-ENCRYPTED",
  description: "EBS volumes are encrypted.",
  fix: "set encrypted = true on root_block_device, every ebs_block_device and aws_ebs_volume",
  resourceTypes: ["aws_instance", "aws_ebs_volume", "aws_launch_template"],
  check: (r) => {
    if (r.type === "aws_ebs_volume") return r.attrs.encrypted === true ? undefined : "the volume is not encrypted";
    if (r.type === "aws_launch_template") {
      const volumes = blocks(r.attrs.block_device_mappings)
        .map((m) => blocks(m.ebs)[0])
        .filter(Boolean);
      if (volumes.length === 0) return "no block_device_mappings, so the root volume takes the AMI's (often unencrypted) setting";
      return volumes.every((v) => String(v.encrypted) === "true")
        ? undefined
        : "block_device_mappings has an ebs volume that is not encrypted";
    }
    const devices = [
      ...blocks(r.attrs.root_block_device).map((d) => ["root_block_device", d] as const),
      ...blocks(r.attrs.ebs_block_device).map((d) => ["ebs_block_device", d] as const),
    ];
    if (blocks(r.attrs.root_block_device).length === 0)
      return "root_block_device is not set, so the root volume takes the AMI's (often unencrypted) setting";
    const plain = devices.filter(([, d]) => d.encrypted !== true).map(([name]) => name);
    return plain.length === 0 ? undefined : `${plain.join(", ")} not encrypted`;
  },
};
