/** Runs the pack offline on test resources and picks out one policy's findings. */
import type { PolicyPackConfig } from "@pulumi/policy";
import { evaluatePolicies, OfflineResource, Violation } from "../policies/offline";

export function findingsOf(
  policyName: string,
  resources: OfflineResource[],
  config?: PolicyPackConfig,
): Violation[] {
  return evaluatePolicies(resources, { config }).filter((v) => v.policyName === policyName);
}

/** The policy's own messages, without the description the SDK puts in front. */
export function messagesOf(
  policyName: string,
  resources: OfflineResource[],
  config?: PolicyPackConfig,
): string[] {
  return findingsOf(policyName, resources, config).map((v) =>
    v.message.split("\n").slice(1).join("\n"),
  );
}
