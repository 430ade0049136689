import { PolicyRule } from "../../rule";
import { companions } from "../../bucket-companions";

/** A bucket policy statement, as far as the rule reads it. */
interface DenyStatement {
  readonly Effect?: unknown;
  readonly Condition?: { readonly Bool?: Readonly<Record<string, unknown>> };
}

/** State travels only over TLS. */
export const bucketTlsOnly: PolicyRule = {
  id: "PX-S3-TLS-ONLY",
  description: "Bucket policies deny requests without TLS.",
  fix: 'add a bucket policy statement that denies s3:* when aws:SecureTransport is "false"',
  resourceTypes: ["aws_s3_bucket"],
  check: (r, stack) => {
    const policies = companions(r, stack, "aws_s3_bucket_policy").map((p) =>
      typeof p.attrs.policy === "string" ? p.attrs.policy : JSON.stringify(p.attrs.policy),
    );
    const denies = policies.some((text) => {
      try {
        const doc = JSON.parse(text) as { Statement?: DenyStatement | readonly DenyStatement[] };
        return [doc.Statement].flat().some((s) => s?.Effect === "Deny" && String(s.Condition?.Bool?.["aws:SecureTransport"]) === "false");
      } catch {
        return false;
      }
    });
    return denies ? undefined : "no bucket policy denies requests without TLS";
  },
};
