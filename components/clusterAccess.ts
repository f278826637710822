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
  /** What AWS-side components need; present only on an EKS cluster. */
  aws?: AwsClusterResources;
}

/** An IAM role that exactly one Kubernetes service account can assume (IRSA). */
export interface ServiceAccountRole {
  arn: pulumi.Output<string>;
  name: pulumi.Output<string>;
}

/** The EKS cluster's network and identity, for RDS, ElastiCache and IRSA roles. */
export interface AwsClusterResources {
  vpcId: pulumi.Output<string>;
  /** The VPC's address range, for security-group rules that admit the whole VPC. */
  vpcCidr: string;
  /** One subnet per zone; nodes, databases and caches belong here. */
  privateSubnetIds: pulumi.Output<string>[];
  /**
   * The EKS cluster security group, which every managed node carries: a database admits its
   * port from this group to admit the nodes (and so the pods on them).
   */
  nodeSecurityGroupId: pulumi.Output<string>;
  oidcProviderArn: pulumi.Output<string>;
  /** The OIDC issuer without `https://`, as IAM condition keys spell it. */
  oidcProviderUrl: pulumi.Output<string>;
  /** Tags every AWS resource of the stack carries (project, environment, managed-by). */
  tags: Record<string, string>;
  /**
   * Makes an IAM role that only `namespace/serviceAccount` can assume, with the given managed
   * policies attached. Annotate the service account with
   * `eks.amazonaws.com/role-arn: <role.arn>`.
   */
  irsaRole(
    name: string,
    namespace: string,
    serviceAccount: string,
    policyArns: pulumi.Input<string>[],
    opts?: pulumi.ComponentResourceOptions,
  ): ServiceAccountRole;
}
