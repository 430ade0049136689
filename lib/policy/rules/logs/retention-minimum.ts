import { PolicyRule } from "../../rule";

/** The shortest retention that needs no reason: the access log is the record of who went where. */
export const MIN_LOG_RETENTION_DAYS = 365;

/** Logs outlive the questions asked of them: who went where, who talked to whom. */
export const logRetentionMinimum: PolicyRule = {
  id: "PX-LOGS-RETENTION",
  description: `Log groups keep events for at least ${MIN_LOG_RETENTION_DAYS} days (or for ever).`,
  fix: `set retention_in_days to ${MIN_LOG_RETENTION_DAYS} or more (logRetentionDays in the environment file)`,
  resourceTypes: ["aws_cloudwatch_log_group"],
  check: (r) => {
    const days = r.attrs.retention_in_days;
    if (days === undefined || days === 0) return undefined;
    return Number(days) >= MIN_LOG_RETENTION_DAYS ? undefined : `retention_in_days is ${days}`;
  },
};
