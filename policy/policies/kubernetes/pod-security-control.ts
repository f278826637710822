import type { ResourceValidationPolicy } from "@pulumi/policy";
import { PodCheckContext, podPolicy } from "./pod-policy";

export type PodSecurityLevel = "baseline" | "restricted";

/** A Pod Security Standards control and the policy that enforces it. */
export interface PodSecurityControl {
  /** Number in the standard's tables, e.g. `B4` or `R6`. */
  id: string;
  /** Check ID of pod-security-admission, e.g. `capabilities_baseline`. */
  checkId: string;
  level: PodSecurityLevel;
  /** The restricted check that replaces this baseline one in the restricted profile. */
  overriddenBy?: string;
  policy: ResourceValidationPolicy;
}

export interface PodSecurityDefinition {
  id: string;
  checkId: string;
  level: PodSecurityLevel;
  overriddenBy?: string;
  name: string;
  description: string;
  check: (context: PodCheckContext<Record<string, never>>) => void;
}

export function podSecurityPolicy(definition: PodSecurityDefinition): PodSecurityControl {
  const { id, checkId, level, overriddenBy } = definition;
  return {
    id,
    checkId,
    level,
    overriddenBy,
    policy: podPolicy({
      name: definition.name,
      description: definition.description,
      enforcementLevel: "mandatory",
      severity: "high",
      framework: {
        name: "Kubernetes Pod Security Standards",
        version: "v1.35",
        reference: checkId,
        specification: `${level} ${id}`,
      },
      check: definition.check,
    }),
  };
}

/**
 * The controls of a profile as pod-security-admission evaluates it: the restricted profile is
 * every restricted control plus the baseline controls that no restricted control overrides.
 */
export function controlsOfProfile(
  controls: readonly PodSecurityControl[],
  level: PodSecurityLevel,
): PodSecurityControl[] {
  if (level === "baseline") {
    return controls.filter((control) => control.level === "baseline");
  }
  return controls.filter((control) => control.level === "restricted" || !control.overriddenBy);
}
