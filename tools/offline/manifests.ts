import type { RegisteredResource } from "./runProgram";

/** A Kubernetes object as the API server would receive it, and where render writes it. */
export interface Manifest {
  /** `<namespace>/<Kind>-<name>.yaml`, or `_cluster/<Kind>-<name>.yaml`. */
  path: string;
  /** The object with secrets in place, for validation only. */
  object: Record<string, unknown>;
  /** The object with every secret replaced by the marker: what is written. */
  masked: Record<string, unknown>;
  resource: RegisteredResource;
  /** Server-side apply patches carry only the fields they own, so no schema check applies. */
  isPatch: boolean;
}

const clusterScopedKinds = new Set([
  "Namespace",
  "Node",
  "PersistentVolume",
  "StorageClass",
  "PriorityClass",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "IngressClass",
  "CSIDriver",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
  "ClusterIssuer",
  "APIService",
]);

/** True for Pulumi types that are Kubernetes objects (Helm releases and providers are not). */
export function isKubernetesObject(type: string): boolean {
  return (
    type.startsWith("kubernetes:") &&
    !type.startsWith("kubernetes:helm.sh/") &&
    !type.startsWith("kubernetes:yaml") &&
    !type.startsWith("kubernetes:kustomize")
  );
}

/**
 * Turns the program's Kubernetes resources into manifests. Objects the API server would
 * misplace or reject before any schema check (no name, a namespaced kind without a
 * namespace, two objects in one file) are reported as problems.
 */
export function kubernetesManifests(resources: RegisteredResource[]): {
  manifests: Manifest[];
  problems: string[];
} {
  const manifests: Manifest[] = [];
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const resource of resources) {
    if (!resource.custom || !isKubernetesObject(resource.type)) continue;
    const kind =
      typeof resource.inputs.kind === "string" ? resource.inputs.kind : resource.type.split(":")[2];
    const metadata = (resource.inputs.metadata ?? {}) as { name?: unknown; namespace?: unknown };
    const isPatch = kind.endsWith("Patch") || resource.type.endsWith("Patch");
    const name = typeof metadata.name === "string" ? metadata.name : undefined;
    if (name === undefined) {
      problems.push(`${resource.type} "${resource.name}" has no metadata.name; set it explicitly`);
      continue;
    }
    let folder: string;
    if (clusterScopedKinds.has(kind)) {
      folder = "_cluster";
    } else if (typeof metadata.namespace === "string" && metadata.namespace !== "") {
      folder = metadata.namespace;
    } else {
      problems.push(
        `${kind} "${name}" (${resource.name}) has no metadata.namespace; it would land in ` +
          "whatever namespace the provider defaults to",
      );
      continue;
    }
    const path = `${folder}/${kind}-${name}${isPatch ? ".patch" : ""}.yaml`;
    const previous = seen.get(path);
    if (previous !== undefined) {
      problems.push(`${resource.name} and ${previous} both declare ${path}`);
      continue;
    }
    seen.set(path, resource.name);
    manifests.push({
      path,
      object: resource.inputs,
      masked: resource.maskedInputs,
      resource,
      isPatch,
    });
  }
  return { manifests, problems };
}
