import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { Architecture } from "../settings/instanceTypes";

/** Nodes reserved for the trading engine: what a pod needs to be scheduled there. */
export interface DedicatedNodes {
  /** Labels that every node of the group carries. */
  labels: Record<string, string>;
  /** The taint that keeps every other workload off the group. */
  taint: { key: string; value: string; effect: "NoSchedule" };
}

/** What the rest of the program needs from a cluster, whichever way it was obtained. */
export interface ClusterAccess {
  /** The cluster's explicit provider; every Kubernetes resource must use it. */
  provider: k8s.Provider;
  /** Name of the cluster, for outputs and tags. */
  clusterName: pulumi.Input<string>;
  /** CPU architecture of the nodes the engine runs on; the image is built for it. */
  engineArchitecture: Architecture;
  /** The engine's dedicated node group, when there is one. */
  engineNodes?: DedicatedNodes;
  /** StorageClass names: "" means the cluster's default class. */
  storageClasses: { default: string; retain: string };
}
