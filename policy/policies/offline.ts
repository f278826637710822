/**
 * Runs the pack without the Pulumi CLI: on resources rendered by the mock runtime (the render
 * tool) and in tests. It builds the validation arguments the way @pulumi/policy 1.21.0's analyzer
 * server does (server.ts: makeAnalyzeRpcFun, makeAnalyzeStackRpcFun), so a policy cannot tell
 * the difference: props behind the SDK's unknown-checking proxy, `isType`/`asType`,
 * `getConfig` without the enforcement level, `notApplicable`, `opts`, the provider, and for
 * stack policies parents, dependencies and propertyDependencies resolved to resources.
 */
import {
  EnforcementLevel,
  Policies,
  PolicyPackConfig,
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { unknownCheckingProxy, UnknownValueError } from "./sdk-proxy";
import { version as packVersion } from "../package.json";
import { policies as packPolicies } from "./index";
import { reconcilePolicyConfig } from "./pack-config";

export const packName = "bot3-policy";

export interface OfflineResource {
  type: string;
  name: string;
  urn: string;
  props: Record<string, unknown>;
  /** URN of the parent resource. */
  parent?: string;
  /** Provider reference, `<provider urn>::<id>`, or the provider's URN. */
  provider?: string;
  dependencies?: string[];
  /** Property name to the URNs its value was computed from. */
  propertyDependencies?: Record<string, string[]>;
  protect?: boolean;
}

export interface Violation {
  policyName: string;
  enforcementLevel: EnforcementLevel;
  message: string;
  urn: string;
  resourceName: string;
}

export interface EvaluationOptions {
  /** The contents of a `config.<stack>.json` file. */
  config?: PolicyPackConfig;
  /** Defaults to every policy of the pack. */
  policies?: Policies;
  stackTags?: ReadonlyMap<string, string>;
}

/** The secret wrapper of Pulumi's wire format, which the SDK unwraps before policies run. */
const secretSignatureKey = "4dabf18193072939515e22adb298388d";
const secretSignature = "1b47061264138c4ac30d75fd1eb44270";

class NotApplicable extends Error {}

/**
 * Evaluates resource policies on every resource, then stack policies on the whole set, and
 * returns the diagnostics the CLI would print. Disabled policies are skipped; `remediate` is
 * reported as `mandatory`, as the SDK does when a remediated resource still violates.
 */
export function evaluatePolicies(
  resources: OfflineResource[],
  options: EvaluationOptions = {},
): Violation[] {
  const policies = options.policies ?? packPolicies;
  const config = reconcilePolicyConfig(policies, "advisory", options.config);
  const stackTags = options.stackTags ?? new Map<string, string>();
  const byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
  const violations: Violation[] = [];

  const levelOf = (policyName: string): EnforcementLevel => {
    const level = config.get(policyName)?.enforcementLevel ?? "advisory";
    return level === "remediate" ? "mandatory" : level;
  };
  const getConfigFor =
    (policyName: string) =>
    <T>() =>
      structuredClone(config.get(policyName)?.properties ?? {}) as T;
  const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
  };

  for (const resource of resources) {
    for (const policy of policies) {
      const level = levelOf(policy.name);
      const validations = resourceValidations(policy);
      if (level === "disabled" || validations.length === 0) {
        continue;
      }
      const declaredType = validations.length === 1 ? pulumiTypeOf(validations[0]) : undefined;
      if (declaredType && declaredType !== resource.type) {
        continue;
      }
      const report = reporter(policy, level, violations, byUrn, resource);
      for (const validation of validations) {
        const props = proxiedProps(resource.props);
        const args: ResourceValidationArgs = {
          type: resource.type,
          props,
          urn: resource.urn,
          name: resource.name,
          opts: resourceOptions(resource),
          stackTags,
          isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
          asType: (resourceClass) =>
            isTypeOf(resource.type, resourceClass) ? (props as never) : undefined,
          getConfig: getConfigFor(policy.name),
          notApplicable,
        };
        const provider = providerOf(resource, byUrn);
        if (provider) {
          args.provider = provider;
        }
        runValidation(policy.name, () => validation(args, report), violations, resource);
      }
    }
  }

  const stackResources = policyResources(resources);
  for (const policy of policies) {
    const level = levelOf(policy.name);
    if (level === "disabled" || !isStackPolicy(policy)) {
      continue;
    }
    const declaredType = pulumiTypeOf(policy.validateStack);
    if (declaredType && !resources.some((resource) => resource.type === declaredType)) {
      continue;
    }
    const args: StackValidationArgs = {
      resources: stackResources,
      getConfig: getConfigFor(policy.name),
      stackTags,
      notApplicable,
    };
    const report = reporter(policy, level, violations, byUrn);
    runValidation(policy.name, () => policy.validateStack(args, report), violations);
  }
  return violations;
}

function resourceValidations(policy: Policies[number]) {
  const validate = (policy as ResourceValidationPolicy).validateResource;
  if (validate === undefined) {
    return [];
  }
  return Array.isArray(validate) ? validate : [validate];
}

function isStackPolicy(policy: Policies[number]): policy is StackValidationPolicy {
  return typeof (policy as StackValidationPolicy).validateStack === "function";
}

/** The SDK prefixes the policy description to a string message; the CLI shows both. */
function reporter(
  policy: Policies[number],
  enforcementLevel: EnforcementLevel,
  violations: Violation[],
  byUrn: Map<string, OfflineResource>,
  resource?: OfflineResource,
): ReportViolation {
  return (message: string, urn?: string) => {
    const target = resource?.urn ?? urn ?? "";
    violations.push({
      policyName: policy.name,
      enforcementLevel,
      message: message ? `${policy.description}\n${message}` : policy.description,
      urn: target,
      resourceName: byUrn.get(target)?.name ?? "",
    });
  };
}

function runValidation(
  policyName: string,
  validation: () => unknown,
  violations: Violation[],
  resource?: OfflineResource,
): void {
  try {
    const result = validation();
    if (result instanceof Promise) {
      // Limitation: the evaluator is synchronous, as every policy of this pack is.
      throw new Error(`Policy ${policyName} returned a promise; make it synchronous.`);
    }
  } catch (error) {
    if (error instanceof UnknownValueError) {
      const from = `policy '${policyName}' from policy pack '${packName}@v${packVersion}'`;
      violations.push({
        policyName,
        enforcementLevel: "advisory",
        message: `can't run ${from} during preview: ${error.message}`,
        urn: resource?.urn ?? "",
        resourceName: resource?.name ?? "",
      });
    } else if (!(error instanceof NotApplicable)) {
      throw error;
    }
  }
}

/** Unwraps secrets and drops undefined properties, as the SDK's deserializer does. */
function proxiedProps(props: Record<string, unknown>): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props)) {
    if (value !== undefined) {
      plain[key] = unwrapSecrets(value);
    }
  }
  return unknownCheckingProxy(plain);
}

function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(unwrapSecrets);
  }
  if (typeof value !== "object" || value === null) {
    return value;
  }
  const record = value as Record<string, unknown>;
  if (record[secretSignatureKey] === secretSignature) {
    return unwrapSecrets(record.value);
  }
  return Object.fromEntries(
    Object.entries(record)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => [key, unwrapSecrets(item)]),
  );
}

function resourceOptions(resource: OfflineResource): PolicyResourceOptions {
  const options: PolicyResourceOptions = {
    protect: resource.protect ?? false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
  };
  if (resource.parent) {
    options.parent = resource.parent;
  }
  return options;
}

function providerOf(resource: OfflineResource, byUrn: Map<string, OfflineResource>) {
  if (!resource.provider) {
    return undefined;
  }
  const reference = resource.provider;
  const separator = reference.lastIndexOf("::");
  const provider =
    byUrn.get(reference) ?? (separator > 0 ? byUrn.get(reference.slice(0, separator)) : undefined);
  if (!provider) {
    return undefined;
  }
  return {
    type: provider.type,
    props: proxiedProps(provider.props),
    urn: provider.urn,
    name: provider.name,
  };
}

/** The same object graph the SDK builds for stack policies. */
function policyResources(resources: OfflineResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const offlineByUrn = new Map(resources.map((resource) => [resource.urn, resource]));
  const built = resources.map((resource) => {
    const props = proxiedProps(resource.props);
    const built: PolicyResource = {
      type: resource.type,
      props,
      urn: resource.urn,
      name: resource.name,
      opts: resourceOptions(resource),
      dependencies: [],
      propertyDependencies: {},
      isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
      asType: (resourceClass) =>
        isTypeOf(resource.type, resourceClass) ? (props as never) : undefined,
    };
    const provider = providerOf(resource, offlineByUrn);
    if (provider) {
      built.provider = provider;
    }
    byUrn.set(resource.urn, built);
    return built;
  });
  const resolve = (urns: string[] = []) =>
    urns.map((urn) => byUrn.get(urn)).filter((found): found is PolicyResource => !!found);
  resources.forEach((resource, index) => {
    const target = built[index];
    const parent = resource.parent ? byUrn.get(resource.parent) : undefined;
    if (parent) {
      target.parent = parent;
    }
    target.dependencies = resolve(resource.dependencies);
    for (const [property, urns] of Object.entries(resource.propertyDependencies ?? {})) {
      target.propertyDependencies[property] = resolve(urns);
    }
  });
  return built;
}

/** The type that `validateResourceOfType` and friends attach to the function they return. */
function pulumiTypeOf(validation: unknown): string | undefined {
  const pulumiType = (validation as { __pulumiType?: unknown }).__pulumiType;
  return typeof pulumiType === "string" && pulumiType.length > 0 ? pulumiType : undefined;
}

/** The SDK's type test: the class's `__pulumiType`, else its `isInstance`. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
  const pulumiType = (resourceClass as { __pulumiType?: unknown } | undefined)?.__pulumiType;
  if (typeof pulumiType === "string" && pulumiType.length > 0) {
    return type === pulumiType;
  }
  const isInstance = (resourceClass as { isInstance?: (value: unknown) => unknown } | undefined)
    ?.isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}
