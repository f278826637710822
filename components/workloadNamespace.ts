import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface WorkloadNamespaceArgs {
  /** Name of the namespace. */
  namespace: string;
  /** Hard limits for the whole namespace (ResourceQuota). */
  quota: { cpu: string; memory: string; pods: number };
  /** Requests and limits a container gets when it declares none (LimitRange). */
  containerDefaults: {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
  };
  /** The cluster's provider. */
  provider: k8s.Provider;
}

/** Labels that make Pod Security Admission enforce, audit and warn on `restricted`. */
export const restrictedPodSecurityLabels: Record<string, string> = Object.fromEntries(
  ["enforce", "audit", "warn"].flatMap((mode) => [
    [`pod-security.kubernetes.io/${mode}`, "restricted"],
    [`pod-security.kubernetes.io/${mode}-version`, "latest"],
  ]),
);

/**
 * A namespace that Pod Security Admission holds to the `restricted` profile (enforced, audited
 * and warned), with a ResourceQuota and a LimitRange so that no pod runs unbounded.
 */
export class WorkloadNamespace extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: WorkloadNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:platform:WorkloadNamespace", name, {}, opts);
    const childOpts = { parent: this, provider: args.provider };

    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: args.namespace,
          labels: { ...restrictedPodSecurityLabels, "app.kubernetes.io/part-of": "bot3" },
        },
      },
      childOpts,
    );
    this.name = namespace.metadata.name;

    new k8s.core.v1.ResourceQuota(
      `${name}-quota`,
      {
        metadata: { name: "bot3-quota", namespace: this.name },
        spec: {
          hard: {
            "limits.cpu": args.quota.cpu,
            "limits.memory": args.quota.memory,
            "requests.cpu": args.quota.cpu,
            "requests.memory": args.quota.memory,
            pods: String(args.quota.pods),
          },
        },
      },
      childOpts,
    );

    new k8s.core.v1.LimitRange(
      `${name}-limits`,
      {
        metadata: { name: "bot3-container-defaults", namespace: this.name },
        spec: {
          limits: [
            {
              type: "Container",
              defaultRequest: args.containerDefaults.requests,
              default: args.containerDefaults.limits,
            },
          ],
        },
      },
      childOpts,
    );
    this.registerOutputs({ name: this.name });
  }
}
