/**
 * Workload rules beyond the Pod Security Standards: pinned images, a real namespace, no secret
 * literals in the environment, and health probes on long-running workloads.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { doesNotSet, setsTo } from "./messages";
import { containersOf, extractPodTemplate, isRecord, PodTemplate } from "./pod-template";
import { ExemptionConfig, exemptResourcesSchema, podPolicy } from "./pod-policy";

/** The parts of an image reference that pinning cares about. */
export function parseImageReference(image: string): { tag?: string; digest?: string } {
  const at = image.indexOf("@");
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const name = at >= 0 ? image.slice(0, at) : image;
  const lastSlash = name.lastIndexOf("/");
  const colon = name.indexOf(":", lastSlash + 1);
  return { tag: colon >= 0 ? name.slice(colon + 1) : undefined, digest };
}

export const imagesPinnedPolicy: ResourceValidationPolicy = podPolicy<{ requireDigest?: boolean }>({
  name: "images-pinned",
  description: "Every container image names a fixed version: a tag other than latest, or a digest.",
  enforcementLevel: "mandatory",
  severity: "medium",
  options: {
    requireDigest: {
      type: "boolean",
      default: false,
      description: "Require an `@sha256:` digest on every image, tag or not.",
    },
  },
  check: ({ pod, config, report, attempt }) => {
    for (const { container, path } of containersOf(pod)) {
      attempt(() => {
        const image = container.image;
        const field = `${path}.image`;
        if (typeof image !== "string" || image === "") {
          report(doesNotSet(pod, field, "Set it to an image with a version tag or digest."));
          return;
        }
        const { tag, digest } = parseImageReference(image);
        if (config.requireDigest === true && !digest?.startsWith("sha256:")) {
          const fix = "Append the image digest (`@sha256:...`): this stack requires digests.";
          report(setsTo(pod, field, image, fix));
        } else if (!digest && (tag === undefined || tag === "latest")) {
          const fix = "Use an explicit version tag or an `@sha256:` digest instead of latest.";
          report(setsTo(pod, field, image, fix));
        }
      });
    }
  },
});

/** The namespace a Kubernetes resource lands in, following the provider's default namespace. */
function effectiveNamespace(
  props: Record<string, unknown>,
  providerProps: Record<string, unknown> | undefined,
): string | undefined {
  const metadata = props.metadata;
  const namespace = isRecord(metadata) ? metadata.namespace : undefined;
  if (typeof namespace === "string" && namespace !== "") {
    return namespace;
  }
  const providerNamespace = providerProps?.namespace;
  return typeof providerNamespace === "string" && providerNamespace !== ""
    ? providerNamespace
    : undefined;
}

export const noDefaultNamespacePolicy: ResourceValidationPolicy = {
  name: "workloads-not-in-default-namespace",
  description: "Workloads run in a dedicated namespace, never in the default one.",
  enforcementLevel: "mandatory",
  severity: "medium",
  configSchema: { properties: { exemptResources: exemptResourcesSchema } },
  validateResource: (args, reportViolation) => {
    const pod = extractPodTemplate(args.type, args.name, args.props);
    const { exemptResources = [] } = args.getConfig<ExemptionConfig>();
    if (!pod || exemptResources.includes(args.name)) {
      return;
    }
    const namespace = effectiveNamespace(args.props, args.provider?.props);
    const subject = `${pod.kind} "${args.name}"`;
    if (namespace === undefined) {
      reportViolation(
        `${subject} does not set metadata.namespace and its provider sets no default namespace, ` +
          "so it lands in the default namespace. Set metadata.namespace to the workload's " +
          "namespace.",
      );
    } else if (namespace === "default") {
      reportViolation(
        `${subject} sets metadata.namespace to "default". ` +
          "Set it to a dedicated namespace for the workload.",
      );
    }
  },
};

const secretNamePattern =
  /PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL/i;

export const noSecretLiteralsPolicy: ResourceValidationPolicy = podPolicy({
  name: "no-secret-literals-in-env",
  description: "Secret-looking environment variables are read from a Secret, not set literally.",
  enforcementLevel: "mandatory",
  severity: "high",
  check: ({ pod, report, attempt }) => {
    for (const { container, path } of containersOf(pod)) {
      attempt(() => {
        (container.env ?? []).forEach((variable, index) => {
          if (!secretNamePattern.test(variable.name)) {
            return;
          }
          // Presence, not content, decides: a value computed by another resource (unknown at
          // preview, e.g. a generated password) is just as exposed as a literal.
          if (!Object.prototype.hasOwnProperty.call(variable, "value")) {
            return;
          }
          const descriptor = Object.getOwnPropertyDescriptor(variable, "value");
          if (descriptor?.value === undefined || descriptor.value === "") {
            return;
          }
          report(
            `${pod.kind} "${pod.resourceName}" sets ${path}.env[${index}].value for ` +
              `${variable.name} in plain text. Store it in a Secret and reference it with ` +
              `${path}.env[${index}].valueFrom.secretKeyRef instead.`,
          );
        });
      });
    }
  },
});

function isJobLikePod(pod: PodTemplate): boolean {
  const restartPolicy = pod.spec.restartPolicy;
  return restartPolicy === "Never" || restartPolicy === "OnFailure";
}

const longRunningKinds = new Set([
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
]);

export const probesPolicy: ResourceValidationPolicy = podPolicy({
  name: "workloads-have-probes",
  description: "Containers of long-running workloads declare liveness and readiness probes.",
  enforcementLevel: "mandatory",
  severity: "medium",
  // Jobs, CronJobs and run-to-completion Pods end on their own; PodTemplates are not run as is.
  appliesToKind: (kind, pod) =>
    longRunningKinds.has(kind) || (kind === "Pod" && !isJobLikePod(pod)),
  check: ({ pod, report, attempt }) => {
    // Init and ephemeral containers cannot carry these probes.
    for (const { container, path } of containersOf(pod, ["containers"])) {
      for (const probe of ["livenessProbe", "readinessProbe"] as const) {
        attempt(() => {
          if (container[probe] === undefined || container[probe] === null) {
            const fix = `Add a ${probe} that checks the container's health endpoint.`;
            report(doesNotSet(pod, `${path}.${probe}`, fix));
          }
        });
      }
    }
  },
});

export const workloadHygienePolicies: ResourceValidationPolicy[] = [
  imagesPinnedPolicy,
  noDefaultNamespacePolicy,
  noSecretLiteralsPolicy,
  probesPolicy,
];
