import type { Environment } from "../settings";

/** Tags that every AWS resource of a stack carries, so cost and ownership reports can group. */
export function commonTags(environment: Environment): Record<string, string> {
  return { project: "bot3", environment, "managed-by": "pulumi" };
}
