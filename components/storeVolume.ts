import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

// A StatefulSet's volumeClaimTemplates are immutable: the API server rejects any change to
// them, so a new size in settings cannot go through the template. The single replica's claim is
// therefore also declared on its own, under the name the StatefulSet controller would give it;
// the controller adopts the existing claim, and a larger size becomes an in-place expansion of
// that claim. The template keeps its first size and the StatefulSet ignores later changes to it.

/** Name of the volume in the pod and of the claim template. */
export const dataVolumeName = "data";

/** StatefulSet fields that must not be sent again after creation. */
export const immutableClaimTemplateFields = ["spec.volumeClaimTemplates"];

export interface StoreVolumeArgs {
  namespace: pulumi.Input<string>;
  /** metadata.name of the StatefulSet that mounts the volume. */
  statefulSetName: string;
  labels: Record<string, string>;
  /** Requested size, such as 20Gi. */
  size: string;
  /** StorageClass; "" leaves storageClassName unset so the cluster's default class applies. */
  storageClass: string;
}

/** The claim template for the StatefulSet spec. */
export function claimTemplate(
  args: StoreVolumeArgs,
): k8s.types.input.core.v1.PersistentVolumeClaim {
  return { metadata: { name: dataVolumeName, labels: args.labels }, spec: claimSpec(args) };
}

/**
 * The claim of replica 0, declared so that Pulumi owns its size (and its deletion on teardown).
 * Limitation: a smaller size is rejected by the API server (volumes only grow), and a larger
 * one needs a StorageClass with allowVolumeExpansion.
 */
export function replicaClaim(
  name: string,
  args: StoreVolumeArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.PersistentVolumeClaim {
  return new k8s.core.v1.PersistentVolumeClaim(
    name,
    {
      metadata: {
        name: `${dataVolumeName}-${args.statefulSetName}-0`,
        namespace: args.namespace,
        labels: args.labels,
        // With WaitForFirstConsumer the claim binds only once the StatefulSet's pod exists,
        // which is created after it; the StatefulSet's own readiness covers the volume.
        annotations: { "pulumi.com/skipAwait": "true" },
      },
      spec: claimSpec(args),
    },
    opts,
  );
}

function claimSpec(args: StoreVolumeArgs): k8s.types.input.core.v1.PersistentVolumeClaimSpec {
  return {
    accessModes: ["ReadWriteOnce"],
    ...(args.storageClass === "" ? {} : { storageClassName: args.storageClass }),
    resources: { requests: { storage: args.size } },
  };
}
