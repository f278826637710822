import type { EnforcementLevel, ResourceValidationPolicy, Severity } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { DeferredUnknowns } from "../preview-unknowns";
import { extractPodTemplate, PodTemplate } from "./pod-template";

/** Config every Kubernetes policy accepts: Pulumi resource names that it must skip. */
export interface ExemptionConfig {
  exemptResources?: string[];
}

export const exemptResourcesSchema: PolicyConfigJSONSchema = {
  type: "array",
  items: { type: "string" },
  default: [],
  description:
    "Pulumi resource names (e.g. `monitoring/node-exporter` for a chart object) this policy skips.",
};

export interface PodCheckContext<TConfig> {
  pod: PodTemplate;
  config: TConfig & ExemptionConfig;
  report: (message: string) => void;
  /** Runs one independent part of the check so an unknown there does not hide the others. */
  attempt: (part: () => void) => boolean;
}

export interface PodPolicyDefinition<TConfig> {
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  severity?: Severity;
  framework?: ResourceValidationPolicy["framework"];
  /** Options beyond `exemptResources`. */
  options?: Record<string, PolicyConfigJSONSchema>;
  /** Restricts the policy to some of the pod-carrying kinds, e.g. long-running ones. */
  appliesToKind?: (kind: string, pod: PodTemplate) => boolean;
  check: (context: PodCheckContext<TConfig>) => void;
}

/**
 * Builds a resource policy that runs `check` once on the pod template of every pod-carrying kind,
 * so no policy repeats the per-kind extraction.
 */
export function podPolicy<TConfig = Record<string, never>>(
  definition: PodPolicyDefinition<TConfig>,
): ResourceValidationPolicy {
  return {
    name: definition.name,
    description: definition.description,
    enforcementLevel: definition.enforcementLevel,
    severity: definition.severity,
    framework: definition.framework,
    configSchema: {
      properties: { exemptResources: exemptResourcesSchema, ...definition.options },
    },
    validateResource: (args, reportViolation) => {
      const unknowns = new DeferredUnknowns();
      const pod = extractPodTemplate(args.type, args.name, args.props);
      if (!pod) {
        return;
      }
      if (definition.appliesToKind && !definition.appliesToKind(pod.kind, pod)) {
        return;
      }
      const config = args.getConfig<TConfig & ExemptionConfig>();
      if ((config.exemptResources ?? []).includes(args.name)) {
        return;
      }
      definition.check({
        pod,
        config,
        report: (message) => reportViolation(message),
        attempt: (part) => unknowns.attempt(part),
      });
      unknowns.settle();
    },
  };
}
