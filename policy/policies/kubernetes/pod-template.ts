/**
 * The one place that knows where each Kubernetes kind keeps its pod template, mirroring the
 * Pod Security Admission pod-spec extractor, plus the minimal shapes of the fields the policies
 * read. Values come from the CrossGuard SDK, whose proxy throws UnknownValueError when a policy
 * reads a value that is not known during preview.
 */

export interface KeyValueSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface SeccompProfile {
  type?: string;
}

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  procMount?: string;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: SeccompProfile;
  appArmorProfile?: { type?: string };
  seLinuxOptions?: { type?: string; user?: string; role?: string; level?: string };
  windowsOptions?: { hostProcess?: boolean };
  sysctls?: { name: string; value?: string }[];
}

export interface HandlerWithHost {
  httpGet?: { host?: string };
  tcpSocket?: { host?: string };
}

export interface Container {
  name?: string;
  image?: string;
  securityContext?: SecurityContext;
  ports?: { containerPort?: number; hostPort?: number }[];
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  livenessProbe?: HandlerWithHost;
  readinessProbe?: HandlerWithHost;
  startupProbe?: HandlerWithHost;
  lifecycle?: { postStart?: HandlerWithHost; preStop?: HandlerWithHost };
}

export interface Volume {
  name?: string;
  [source: string]: unknown;
}

export interface PodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  hostUsers?: boolean;
  restartPolicy?: string;
  os?: { name?: string };
  securityContext?: SecurityContext;
  volumes?: Volume[];
  initContainers?: Container[];
  containers?: Container[];
  ephemeralContainers?: Container[];
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Pulumi type token to the Kubernetes kind and the path of its pod template. */
const podTemplateLocations: Record<string, { kind: string; templatePath: string[] }> = {
  "kubernetes:core/v1:Pod": { kind: "Pod", templatePath: [] },
  "kubernetes:core/v1:PodTemplate": { kind: "PodTemplate", templatePath: ["template"] },
  "kubernetes:core/v1:ReplicationController": {
    kind: "ReplicationController",
    templatePath: ["spec", "template"],
  },
  "kubernetes:apps/v1:ReplicaSet": { kind: "ReplicaSet", templatePath: ["spec", "template"] },
  "kubernetes:apps/v1:Deployment": { kind: "Deployment", templatePath: ["spec", "template"] },
  "kubernetes:apps/v1:StatefulSet": { kind: "StatefulSet", templatePath: ["spec", "template"] },
  "kubernetes:apps/v1:DaemonSet": { kind: "DaemonSet", templatePath: ["spec", "template"] },
  "kubernetes:batch/v1:Job": { kind: "Job", templatePath: ["spec", "template"] },
  "kubernetes:batch/v1:CronJob": {
    kind: "CronJob",
    templatePath: ["spec", "jobTemplate", "spec", "template"],
  },
};

/** Every Pulumi type that carries a pod template. */
export const podTemplateTypes: readonly string[] = Object.keys(podTemplateLocations);

export type ContainerList = "initContainers" | "containers" | "ephemeralContainers";

/** Visiting order of Pod Security Admission: init containers, containers, ephemeral ones. */
export const containerLists: readonly ContainerList[] = [
  "initContainers",
  "containers",
  "ephemeralContainers",
];

/** A pod template found in a resource, with the field paths a message needs to name. */
export interface PodTemplate {
  /** Kubernetes kind of the resource, e.g. `Deployment`. */
  kind: string;
  /** Pulumi resource name. */
  resourceName: string;
  /** Dotted path of the pod spec in the resource, e.g. `spec.template.spec`. */
  specPath: string;
  /** Dotted path of the pod metadata, e.g. `spec.template.metadata`. */
  metadataPath: string;
  spec: PodSpec;
  metadata: ObjectMeta;
}

export interface ContainerAt {
  container: Container;
  list: ContainerList;
  /** e.g. `spec.template.spec.initContainers[0]`. */
  path: string;
}

export function kindOfPodTemplateType(type: string): string | undefined {
  return podTemplateLocations[type]?.kind;
}

/**
 * Returns the pod template of a resource of any pod-carrying kind, or undefined for other types.
 * A missing template yields an empty spec, so checks that require a field still fire.
 */
export function extractPodTemplate(
  type: string,
  resourceName: string,
  props: Record<string, unknown>,
): PodTemplate | undefined {
  const location = podTemplateLocations[type];
  if (!location) {
    return undefined;
  }
  let template: unknown = props;
  for (const key of location.templatePath) {
    template = isRecord(template) ? template[key] : undefined;
  }
  const prefix = location.templatePath.join(".");
  const at = (field: string) => (prefix ? `${prefix}.${field}` : field);
  const templateRecord = isRecord(template) ? template : {};
  return {
    kind: location.kind,
    resourceName,
    specPath: at("spec"),
    metadataPath: at("metadata"),
    spec: isRecord(templateRecord.spec) ? templateRecord.spec : {},
    metadata: isRecord(templateRecord.metadata) ? templateRecord.metadata : {},
  };
}

/** Every container of the pod, in Pod Security Admission order, with its field path. */
export function containersOf(pod: PodTemplate, lists = containerLists): ContainerAt[] {
  const found: ContainerAt[] = [];
  for (const list of lists) {
    const containers = pod.spec[list];
    if (!Array.isArray(containers)) {
      continue;
    }
    containers.forEach((container, index) => {
      found.push({ container, list, path: `${pod.specPath}.${list}[${index}]` });
    });
  }
  return found;
}

/** How a message names the resource: `Deployment "api"`. */
export function describePodResource(pod: PodTemplate): string {
  return `${pod.kind} "${pod.resourceName}"`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
