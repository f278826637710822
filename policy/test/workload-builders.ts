/**
 * Small builders for test resources: a compliant pod spec, the same pod wrapped in each of the
 * nine pod-carrying kinds, and stack resources, all as OfflineResources.
 */
import type { OfflineResource } from "../policies/offline";

export type Props = Record<string, unknown>;

export function urnOf(type: string, name: string): string {
  return `urn:pulumi:test::bot3::${type}::${name}`;
}

export function resource(
  type: string,
  name: string,
  props: Props,
  extra: Partial<OfflineResource> = {},
): OfflineResource {
  return { type, name, urn: urnOf(type, name), props, ...extra };
}

/** A container that satisfies every container policy of the pack. */
export function compliantContainer(name = "app"): Props {
  return {
    name,
    image: "registry.example.com/bot3/engine:1.4.2@sha256:" + "a".repeat(64),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 10001,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    resources: {
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "500m", memory: "256Mi" },
    },
    livenessProbe: { httpGet: { path: "/healthz", port: 8080 } },
    readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
  };
}

/** A pod spec that satisfies every pod policy of the pack. */
export function compliantPodSpec(): Props {
  return {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    initContainers: [
      { ...compliantContainer("init"), livenessProbe: undefined, readinessProbe: undefined },
    ],
    containers: [compliantContainer()],
    volumes: [{ name: "tmp", emptyDir: {} }],
  };
}

export const podKindTypes = {
  Pod: "kubernetes:core/v1:Pod",
  PodTemplate: "kubernetes:core/v1:PodTemplate",
  ReplicationController: "kubernetes:core/v1:ReplicationController",
  ReplicaSet: "kubernetes:apps/v1:ReplicaSet",
  Deployment: "kubernetes:apps/v1:Deployment",
  StatefulSet: "kubernetes:apps/v1:StatefulSet",
  DaemonSet: "kubernetes:apps/v1:DaemonSet",
  Job: "kubernetes:batch/v1:Job",
  CronJob: "kubernetes:batch/v1:CronJob",
} as const;

export type PodKind = keyof typeof podKindTypes;
export const podKinds = Object.keys(podKindTypes) as PodKind[];

/** Wraps pod metadata and spec the way `kind` carries its pod template. */
export function wrapPod(
  kind: PodKind,
  name: string,
  podMetadata: Props,
  podSpec: Props,
  namespace = "trading",
): OfflineResource {
  const metadata = { name, namespace };
  const template = { metadata: podMetadata, spec: podSpec };
  const selector = { matchLabels: (podMetadata.labels as Record<string, string>) ?? {} };
  let props: Props;
  switch (kind) {
    case "Pod":
      props = { metadata: { ...podMetadata, name, namespace }, spec: podSpec };
      break;
    case "PodTemplate":
      props = { metadata, template };
      break;
    case "Job":
      props = { metadata, spec: { template } };
      break;
    case "CronJob":
      props = { metadata, spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template } } } };
      break;
    default:
      props = { metadata, spec: { selector, template } };
  }
  return resource(podKindTypes[kind], name, props);
}

/** A compliant Deployment; `edit` changes one field of a deep copy of its pod spec. */
export function deployment(
  name = "engine",
  edit: (spec: Props) => void = () => undefined,
  replicas?: number,
): OfflineResource {
  const spec = compliantPodSpec();
  edit(spec);
  const workload = wrapPod("Deployment", name, { labels: { app: name } }, spec);
  if (replicas !== undefined) {
    (workload.props.spec as Props).replicas = replicas;
  }
  return workload;
}

/** The first app container of a compliant pod spec, for one-field edits. */
export function mainContainer(spec: Props): Props {
  return (spec.containers as Props[])[0];
}

export function securityContextOf(container: Props): Props {
  return container.securityContext as Props;
}
