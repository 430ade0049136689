/** Settings of `npm run deploy`, checked before anything runs. */

/** Why `value` is not a duration Terraform's -lock-timeout takes (Go's format: 30s, 5m, 1h30m), or undefined when it is. */
export function lockTimeoutProblem(value: string): string | undefined {
  return /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value) ? undefined : "is not a duration; write it as Terraform does, such as 30s, 5m or 1h30m";
}
