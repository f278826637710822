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
  /**
   * StorageClass names: "" means the cluster's default class. The retain class must allow
   * volume expansion: the in-cluster data stores grow their volumes in place.
   */
  storageClasses: { default: string; retain: string };
  /**
   * The AWS network the nodes run in. Present on EKS clusters, absent on existing ones;
   * managed data stores (RDS, ElastiCache) need it for their subnet groups.
   */
  network?: ClusterNetwork;
  /** Security group of the worker nodes; managed data stores admit traffic only from it. */
  nodeSecurityGroupId?: pulumi.Input<string>;
  /**
   * Creates an IAM role that `serviceAccount` in `namespace` assumes through IRSA, with the
   * given managed policies attached. Present on EKS clusters only.
   */
  irsaRole?(
    name: string,
    namespace: pulumi.Input<string>,
    serviceAccount: string,
    policyArns: pulumi.Input<string>[],
  ): { arn: pulumi.Output<string> };
}

/** The VPC of an EKS cluster, as the managed data stores need it. */
export interface ClusterNetwork {
  vpcId: pulumi.Input<string>;
  /** Private subnets, one per availability zone; databases are placed only in these. */
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
}
