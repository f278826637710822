import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterSettings, StorageSettings } from "../settings";
import type { ClusterAccess } from "./clusterAccess";

export interface ExistingClusterArgs {
  /** `kubeconfigContext` picks the context; empty uses the kubeconfig's current context. */
  cluster: ClusterSettings;
  /** `defaultClass` and `retainClass` name the cluster's classes; empty uses its default. */
  storage: StorageSettings;
}

/**
 * A cluster that already exists (kind, k3d, minikube, Docker Desktop), reached through a
 * kubeconfig context. Nothing is created in AWS.
 */
export class ExistingCluster extends pulumi.ComponentResource implements ClusterAccess {
  readonly provider: k8s.Provider;
  readonly clusterName: string;
  readonly engineArchitecture = "amd64" as const;
  readonly storageClasses: { default: string; retain: string };

  constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:cluster:ExistingCluster", name, {}, opts);
    const context = args.cluster.kubeconfigContext;
    this.clusterName = context === "" ? "current-context" : context;
    this.storageClasses = { default: args.storage.defaultClass, retain: args.storage.retainClass };
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      {
        ...(context === "" ? {} : { context }),
        enableServerSideApply: true,
      },
      { parent: this },
    );
    this.registerOutputs({ clusterName: this.clusterName });
  }
}
