/**
 * Reconciles a policy pack config file with the policies' defaults the way the Pulumi CLI does
 * before it hands config to the analyzer: defaults first (each policy's enforcement level and
 * its schema's `default`s), then `all` sets every enforcement level, then each policy's own
 * entry overrides its level and merges its properties. The result is validated against the
 * schemas, and an invalid config fails the run, as `pulumi preview` does.
 */
import type { EnforcementLevel, Policies, PolicyPackConfig } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";

export interface ReconciledPolicyConfig {
  enforcementLevel: EnforcementLevel;
  properties: Record<string, unknown>;
}

const enforcementLevels: readonly string[] = ["advisory", "mandatory", "remediate", "disabled"];

function isEnforcementLevel(value: unknown): value is EnforcementLevel {
  return typeof value === "string" && enforcementLevels.includes(value);
}

export function reconcilePolicyConfig(
  policies: Policies,
  packEnforcementLevel: EnforcementLevel,
  config: PolicyPackConfig = {},
): Map<string, ReconciledPolicyConfig> {
  const result = new Map<string, ReconciledPolicyConfig>();
  for (const policy of policies) {
    const properties: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
      if (schema.default !== undefined) {
        properties[key] = structuredClone(schema.default);
      }
    }
    result.set(policy.name, {
      enforcementLevel: policy.enforcementLevel ?? packEnforcementLevel,
      properties,
    });
  }

  const entries = Object.entries(config).map(([name, value]): [string, ParsedEntry] => [
    name,
    parseEntry(name, value),
  ]);
  const all = entries.find(([name]) => name === "all")?.[1];
  if (all?.enforcementLevel) {
    for (const reconciled of result.values()) {
      reconciled.enforcementLevel = all.enforcementLevel;
    }
  }
  for (const [name, entry] of entries) {
    if (name === "all") {
      continue;
    }
    const reconciled = result.get(name);
    if (!reconciled) {
      continue;
    }
    reconciled.enforcementLevel = entry.enforcementLevel ?? reconciled.enforcementLevel;
    Object.assign(reconciled.properties, entry.properties);
  }

  const errors = policies.flatMap((policy) =>
    validateProperties(
      policy.name,
      policy.configSchema?.properties ?? {},
      policy.configSchema?.required ?? [],
      result.get(policy.name)?.properties ?? {},
    ),
  );
  if (errors.length > 0) {
    throw new Error(`The policy pack config is invalid:\n${errors.join("\n")}`);
  }
  return result;
}

interface ParsedEntry {
  enforcementLevel?: EnforcementLevel;
  properties: Record<string, unknown>;
}

function parseEntry(name: string, value: unknown): ParsedEntry {
  if (typeof value === "string") {
    if (!isEnforcementLevel(value)) {
      throw new Error(
        `The policy pack config sets "${name}" to "${value}", which is not an enforcement ` +
          `level. Use one of ${enforcementLevels.join(", ")}.`,
      );
    }
    return { enforcementLevel: value, properties: {} };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(
      `The policy pack config sets "${name}" to ${JSON.stringify(value)}. ` +
        "Use an enforcement level or an object of options.",
    );
  }
  const { enforcementLevel, ...properties } = value as Record<string, unknown>;
  if (enforcementLevel !== undefined && !isEnforcementLevel(enforcementLevel)) {
    throw new Error(
      `The policy pack config sets "${name}.enforcementLevel" to ` +
        `${JSON.stringify(enforcementLevel)}. Use one of ${enforcementLevels.join(", ")}.`,
    );
  }
  return { enforcementLevel, properties };
}

/** The JSON-schema subset the pack's own schemas use: type, items, enum, minimum, required. */
function validateProperties(
  policyName: string,
  schemas: Record<string, PolicyConfigJSONSchema>,
  required: string[],
  properties: Record<string, unknown>,
): string[] {
  const errors = required
    .filter((key) => properties[key] === undefined)
    .map((key) => `${policyName}: ${key} is required.`);
  for (const [key, value] of Object.entries(properties)) {
    const schema = schemas[key];
    if (schema) {
      errors.push(...validateValue(`${policyName}: ${key}`, schema, value));
    }
  }
  return errors;
}

function validateValue(path: string, schema: PolicyConfigJSONSchema, value: unknown): string[] {
  const types = schema.type === undefined ? [] : [schema.type].flat();
  if (types.length > 0 && !types.some((type) => matchesType(type, value))) {
    return [`${path} must be of type ${types.join(" or ")}, not ${JSON.stringify(value)}.`];
  }
  const errors: string[] = [];
  if (schema.enum && !schema.enum.some((allowed) => allowed === value)) {
    errors.push(`${path} must be one of ${JSON.stringify(schema.enum)}.`);
  }
  if (schema.minimum !== undefined && typeof value === "number" && value < schema.minimum) {
    errors.push(`${path} must be at least ${schema.minimum}.`);
  }
  const items = schema.items;
  if (Array.isArray(value) && items && !Array.isArray(items) && typeof items !== "boolean") {
    value.forEach((item, index) => errors.push(...validateValue(`${path}[${index}]`, items, item)));
  }
  return errors;
}

function matchesType(type: string, value: unknown): boolean {
  switch (type) {
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "integer":
      return Number.isInteger(value);
    case "null":
      return value === null;
    default:
      return typeof value === type;
  }
}
