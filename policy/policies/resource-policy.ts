import type { EnforcementLevel, ResourceValidationPolicy, Severity } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { exemptResourcesSchema } from "./kubernetes/pod-policy";
import { DeferredUnknowns } from "./preview-unknowns";

export interface ResourceCheckContext<TConfig> {
  /** Pulumi resource name. */
  name: string;
  type: string;
  props: Record<string, unknown>;
  config: TConfig & { exemptResources?: string[] };
  report: (message: string) => void;
  /** Runs one independent part of the check so an unknown there does not hide the others. */
  attempt: (part: () => void) => boolean;
}

export interface ResourcePolicyDefinition<TConfig> {
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  severity?: Severity;
  /** Pulumi type tokens the policy checks. */
  types: readonly string[];
  options?: Record<string, PolicyConfigJSONSchema>;
  check: (context: ResourceCheckContext<TConfig>) => void;
}

/** A resource policy for a fixed set of types, with `exemptResources` and preview unknowns. */
export function resourcePolicy<TConfig = Record<string, never>>(
  definition: ResourcePolicyDefinition<TConfig>,
): ResourceValidationPolicy {
  return {
    name: definition.name,
    description: definition.description,
    enforcementLevel: definition.enforcementLevel,
    severity: definition.severity,
    configSchema: {
      properties: { exemptResources: exemptResourcesSchema, ...definition.options },
    },
    validateResource: (args, reportViolation) => {
      if (!definition.types.includes(args.type)) {
        return;
      }
      const config = args.getConfig<TConfig & { exemptResources?: string[] }>();
      if ((config.exemptResources ?? []).includes(args.name)) {
        return;
      }
      const unknowns = new DeferredUnknowns();
      definition.check({
        name: args.name,
        type: args.type,
        props: args.props,
        config,
        report: (message) => reportViolation(message),
        attempt: (part) => unknowns.attempt(part),
      });
      unknowns.settle();
    },
  };
}

/** A field that must be exactly `expected`; an absent field reads as the provider default. */
export function requireValue(
  context: ResourceCheckContext<unknown>,
  subject: string,
  field: string,
  expected: unknown,
  why: string,
): void {
  context.attempt(() => {
    const value = context.props[field];
    if (value !== expected) {
      const lead =
        value === undefined
          ? `${subject} does not set ${field}`
          : `${subject} sets ${field} to ${JSON.stringify(value)}`;
      context.report(`${lead}; ${why}. Set ${field} to ${JSON.stringify(expected)}.`);
    }
  });
}
