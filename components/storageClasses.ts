import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

const defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class";

export interface StorageClassesArgs {
  /** The cluster's provider. */
  provider: k8s.Provider;
  /** KMS key for the volumes; undefined uses the account's default EBS key. */
  kmsKeyArn?: string;
  /** Name of the default class; "gp3" by default. */
  defaultClassName?: string;
  /** Name of the class whose volumes outlive their claims; "gp3-retain" by default. */
  retainClassName?: string;
  /**
   * The class that EKS creates and may mark as default; "gp2" by default. It is kept, but
   * no longer default.
   */
  legacyDefaultClassName?: string;
}

/**
 * EBS storage classes of an EKS cluster: a default encrypted gp3 class, a gp3 class that
 * retains its volumes (for databases), and the legacy gp2 class demoted from default.
 */
export class StorageClasses extends pulumi.ComponentResource {
  readonly defaultClassName: string;
  readonly retainClassName: string;

  constructor(name: string, args: StorageClassesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:storage:StorageClasses", name, {}, opts);
    // Every object waits for the component's dependencies (the CSI driver that provisions).
    const childOpts = { parent: this, provider: args.provider, dependsOn: opts?.dependsOn };
    this.defaultClassName = args.defaultClassName ?? "gp3";
    this.retainClassName = args.retainClassName ?? "gp3-retain";
    const legacyClassName = args.legacyDefaultClassName ?? "gp2";

    const parameters: Record<string, string> = {
      type: "gp3",
      encrypted: "true",
      "csi.storage.k8s.io/fstype": "ext4",
      ...(args.kmsKeyArn === undefined ? {} : { kmsKeyId: args.kmsKeyArn }),
    };
    const gp3 = (className: string, isDefault: boolean, reclaimPolicy: "Delete" | "Retain") => ({
      metadata: {
        name: className,
        annotations: { [defaultClassAnnotation]: String(isDefault) },
        labels: { "app.kubernetes.io/part-of": "bot3" },
      },
      provisioner: "ebs.csi.aws.com",
      parameters,
      reclaimPolicy,
      // Binding waits for the pod, so the volume is created in the zone the pod lands in.
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
    });

    new k8s.storage.v1.StorageClass(
      `${name}-default`,
      gp3(this.defaultClassName, true, "Delete"),
      childOpts,
    );
    new k8s.storage.v1.StorageClass(
      `${name}-retain`,
      gp3(this.retainClassName, false, "Retain"),
      childOpts,
    );

    // EKS creates the legacy class outside Pulumi. The patch applies only this annotation
    // through server-side apply under its own field manager, so Pulumi owns that one field and
    // nothing else of the object. `patchForce` takes the field over from the manager that set
    // it to "true" at cluster creation; if something later re-applies "true" under that
    // manager, the next `pulumi up` takes it back. Deleting this resource releases the field,
    // which removes the annotation rather than restoring "true".
    new k8s.storage.v1.StorageClassPatch(
      `${name}-legacy-not-default`,
      {
        metadata: {
          name: legacyClassName,
          annotations: { [defaultClassAnnotation]: "false", "pulumi.com/patchForce": "true" },
        },
      },
      childOpts,
    );
    this.registerOutputs({
      defaultClassName: this.defaultClassName,
      retainClassName: this.retainClassName,
    });
  }
}
