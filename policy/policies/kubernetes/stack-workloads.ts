/**
 * Rules that need the whole stack: replicas owned by an autoscaler, disruption budgets for
 * replicated workloads, and a default-deny NetworkPolicy in every namespace that runs pods.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { DeferredUnknowns } from "../preview-unknowns";
import { ExemptionConfig, exemptResourcesSchema } from "./pod-policy";
import { extractPodTemplate, isRecord, KeyValueSelector } from "./pod-template";

/** A workload as the stack rules see it; read lazily so unknowns surface inside `attempt`. */
interface Workload {
  resource: PolicyResource;
  kind: string;
  name: string;
  namespace: string;
  replicas: unknown;
  podLabels: Record<string, string>;
}

const scalableKinds = new Set(["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"]);

function metadataOf(resource: PolicyResource): Record<string, unknown> {
  const metadata: unknown = resource.props.metadata;
  return isRecord(metadata) ? metadata : {};
}

/** The namespace a resource lands in: its own, else its provider's default, else `default`. */
export function namespaceOf(resource: PolicyResource): string {
  const namespace = metadataOf(resource).namespace;
  if (typeof namespace === "string" && namespace !== "") {
    return namespace;
  }
  const providerNamespace: unknown = resource.provider?.props.namespace;
  return typeof providerNamespace === "string" && providerNamespace !== ""
    ? providerNamespace
    : "default";
}

function nameOf(resource: PolicyResource): string {
  const name = metadataOf(resource).name;
  return typeof name === "string" && name !== "" ? name : resource.name;
}

function readWorkload(resource: PolicyResource): Workload | undefined {
  const pod = extractPodTemplate(resource.type, resource.name, resource.props);
  if (!pod) {
    return undefined;
  }
  const spec: unknown = resource.props.spec;
  return {
    resource,
    kind: pod.kind,
    name: nameOf(resource),
    namespace: namespaceOf(resource),
    replicas: pod.kind === "Pod" || !isRecord(spec) ? undefined : spec.replicas,
    podLabels: { ...(pod.metadata.labels ?? {}) },
  };
}

function isAutoscaler(resource: PolicyResource): boolean {
  return /^kubernetes:autoscaling\/[^:]+:HorizontalPodAutoscaler$/.test(resource.type);
}

/** Workloads with the autoscalers that target them (same namespace, kind and name). */
function workloadsOf(
  resources: PolicyResource[],
  unknowns: DeferredUnknowns,
): { workloads: Workload[]; autoscaledBy: Map<Workload, PolicyResource> } {
  const workloads: Workload[] = [];
  for (const resource of resources) {
    unknowns.attempt(() => {
      const workload = readWorkload(resource);
      if (workload) {
        workloads.push(workload);
      }
    });
  }
  const autoscaledBy = new Map<Workload, PolicyResource>();
  for (const autoscaler of resources.filter(isAutoscaler)) {
    unknowns.attempt(() => {
      const spec: unknown = autoscaler.props.spec;
      const target: unknown = isRecord(spec) ? spec.scaleTargetRef : undefined;
      if (!isRecord(target)) {
        return;
      }
      const namespace = namespaceOf(autoscaler);
      const workload = workloads.find(
        (candidate) =>
          candidate.kind === target.kind &&
          candidate.name === target.name &&
          candidate.namespace === namespace,
      );
      if (workload) {
        autoscaledBy.set(workload, autoscaler);
      }
    });
  }
  return { workloads, autoscaledBy };
}

export const autoscalerOwnsReplicasPolicy: StackValidationPolicy = {
  name: "autoscaled-workloads-omit-replicas",
  description: "A workload that a HorizontalPodAutoscaler scales does not set spec.replicas.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateStack: (args, reportViolation) => {
    const unknowns = new DeferredUnknowns();
    const { autoscaledBy } = workloadsOf(args.resources, unknowns);
    for (const [workload, autoscaler] of autoscaledBy) {
      if (workload.replicas !== undefined && workload.replicas !== null) {
        reportViolation(
          `${workload.kind} "${workload.resource.name}" sets spec.replicas to ` +
            `${JSON.stringify(workload.replicas)} although HorizontalPodAutoscaler ` +
            `"${autoscaler.name}" scales it, so every update resets the autoscaler's count. ` +
            "Remove spec.replicas and set the minimum in the autoscaler's spec.minReplicas.",
          workload.resource.urn,
        );
      }
    }
    unknowns.settle();
  },
};

/** Kubernetes label-selector semantics; an absent selector selects nothing. */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  if (!isRecord(selector)) {
    return false;
  }
  const { matchLabels = {}, matchExpressions = [] } = selector as KeyValueSelector;
  const labelsMatch = Object.entries(matchLabels).every(([key, value]) => labels[key] === value);
  return (
    labelsMatch &&
    matchExpressions.every(({ key, operator, values = [] }) => {
      const present = Object.prototype.hasOwnProperty.call(labels, key);
      switch (operator) {
        case "In":
          return present && values.includes(labels[key]);
        case "NotIn":
          return !present || !values.includes(labels[key]);
        case "Exists":
          return present;
        case "DoesNotExist":
          return !present;
        default:
          return false;
      }
    })
  );
}

function isDisruptionBudget(resource: PolicyResource): boolean {
  return /^kubernetes:policy\/[^:]+:PodDisruptionBudget$/.test(resource.type);
}

export const disruptionBudgetPolicy: StackValidationPolicy = {
  name: "replicated-workloads-have-pdb",
  description: "A PodDisruptionBudget selects every workload with more than one replica.",
  enforcementLevel: "mandatory",
  severity: "medium",
  configSchema: { properties: { exemptResources: exemptResourcesSchema } },
  validateStack: (args, reportViolation) => {
    const { exemptResources = [] } = args.getConfig<ExemptionConfig>();
    const unknowns = new DeferredUnknowns();
    const { workloads, autoscaledBy } = workloadsOf(args.resources, unknowns);
    const budgets = args.resources.filter(isDisruptionBudget);
    for (const workload of workloads) {
      if (!scalableKinds.has(workload.kind) || exemptResources.includes(workload.resource.name)) {
        continue;
      }
      const replicated =
        autoscaledBy.has(workload) ||
        (typeof workload.replicas === "number" && workload.replicas > 1);
      if (!replicated) {
        continue;
      }
      unknowns.attempt(() => {
        const covered = budgets.some((budget) => {
          const spec: unknown = budget.props.spec;
          return (
            namespaceOf(budget) === workload.namespace &&
            selectorMatches(isRecord(spec) ? spec.selector : undefined, workload.podLabels)
          );
        });
        if (!covered) {
          const why = autoscaledBy.has(workload)
            ? "is scaled by a HorizontalPodAutoscaler"
            : `sets spec.replicas to ${JSON.stringify(workload.replicas)}`;
          reportViolation(
            `${workload.kind} "${workload.resource.name}" ${why} but no PodDisruptionBudget in ` +
              `namespace "${workload.namespace}" selects its pod labels ` +
              `${JSON.stringify(workload.podLabels)}. Add a PodDisruptionBudget whose ` +
              "spec.selector matches them, with maxUnavailable: 1.",
            workload.resource.urn,
          );
        }
      });
    }
    unknowns.settle();
  },
};

function isEmptySelector(selector: unknown): boolean {
  if (!isRecord(selector)) {
    return false;
  }
  const { matchLabels = {}, matchExpressions = [] } = selector as KeyValueSelector;
  return Object.keys(matchLabels).length === 0 && matchExpressions.length === 0;
}

/** A rule without peers and without ports lets all traffic through, undoing the deny. */
function allowsEverything(rules: unknown, peersField: "from" | "to"): boolean {
  return (
    Array.isArray(rules) &&
    rules.some((rule: unknown) => {
      const record = isRecord(rule) ? rule : {};
      const peers = record[peersField];
      const ports = record.ports;
      const noPeers = !Array.isArray(peers) || peers.length === 0;
      const noPorts = !Array.isArray(ports) || ports.length === 0;
      return noPeers && noPorts;
    })
  );
}

export function isDefaultDeny(networkPolicy: PolicyResource): boolean {
  const spec: unknown = networkPolicy.props.spec;
  if (!isRecord(spec) || !isEmptySelector(spec.podSelector)) {
    return false;
  }
  const types = Array.isArray(spec.policyTypes) ? (spec.policyTypes as unknown[]) : [];
  return (
    types.includes("Ingress") &&
    types.includes("Egress") &&
    !allowsEverything(spec.ingress, "from") &&
    !allowsEverything(spec.egress, "to")
  );
}

const exemptNamespacesSchema: PolicyConfigJSONSchema = {
  type: "array",
  items: { type: "string" },
  default: [],
  description: "Namespaces managed outside this program (e.g. kube-system) that are skipped.",
};

export const defaultDenyNetworkPolicy: StackValidationPolicy = {
  name: "namespaces-default-deny",
  description: "Every namespace that runs workloads has a default-deny NetworkPolicy.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: { properties: { exemptNamespaces: exemptNamespacesSchema } },
  validateStack: (args, reportViolation) => {
    const { exemptNamespaces = [] } = args.getConfig<{ exemptNamespaces?: string[] }>();
    const unknowns = new DeferredUnknowns();
    const { workloads } = workloadsOf(args.resources, unknowns);
    const denied = new Set<string>();
    let everyNetworkPolicyKnown = true;
    for (const resource of args.resources) {
      if (resource.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy") {
        const known = unknowns.attempt(() => {
          if (isDefaultDeny(resource)) {
            denied.add(namespaceOf(resource));
          }
        });
        everyNetworkPolicyKnown = everyNetworkPolicyKnown && known;
      }
    }
    if (!everyNetworkPolicyKnown) {
      // An unknown NetworkPolicy may be the namespace's default deny: leave it to `pulumi up`.
      unknowns.settle();
    }
    const reported = new Set<string>();
    for (const workload of workloads) {
      const namespace = workload.namespace;
      if (
        denied.has(namespace) ||
        reported.has(namespace) ||
        exemptNamespaces.includes(namespace)
      ) {
        continue;
      }
      reported.add(namespace);
      reportViolation(
        `Namespace "${namespace}" runs ${workload.kind} "${workload.resource.name}" but has no ` +
          "default-deny NetworkPolicy. Add a NetworkPolicy there with spec.podSelector: {} and " +
          'spec.policyTypes: ["Ingress", "Egress"], then allow the needed traffic explicitly.',
        workload.resource.urn,
      );
    }
    unknowns.settle();
  },
};

export const stackWorkloadPolicies: StackValidationPolicy[] = [
  autoscalerOwnsReplicasPolicy,
  disruptionBudgetPolicy,
  defaultDenyNetworkPolicy,
];
