/**
 * The platform's mandatory container hardening, stricter than the Pod Security Standards:
 * non-root without the user-namespace relaxation, a read-only root filesystem, and resources.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { doesNotSet, setsTo } from "./messages";
import { containersOf } from "./pod-template";
import { podPolicy } from "./pod-policy";

export const runAsNonRootPolicy: ResourceValidationPolicy = podPolicy({
  name: "containers-run-as-non-root",
  description: "Every container runs as a non-root user, whatever the pod's user namespace.",
  enforcementLevel: "mandatory",
  severity: "high",
  check: ({ pod, report, attempt }) => {
    const podContextPath = `${pod.specPath}.securityContext`;
    attempt(() => {
      const context = pod.spec.securityContext;
      if (context?.runAsNonRoot === false) {
        report(setsTo(pod, `${podContextPath}.runAsNonRoot`, false, "Set it to true."));
      }
      if (context?.runAsUser === 0) {
        const fix = "Set a non-zero user ID, e.g. 10001.";
        report(setsTo(pod, `${podContextPath}.runAsUser`, 0, fix));
      }
    });
    for (const { container, path } of containersOf(pod)) {
      attempt(() => {
        const field = `${path}.securityContext.runAsNonRoot`;
        const value = container.securityContext?.runAsNonRoot;
        if (value === false) {
          report(setsTo(pod, field, false, "Set it to true or remove it."));
        } else if (value !== true && pod.spec.securityContext?.runAsNonRoot !== true) {
          const fix = `Set it (or ${podContextPath}.runAsNonRoot) to true.`;
          report(doesNotSet(pod, field, fix));
        }
      });
      attempt(() => {
        if (container.securityContext?.runAsUser === 0) {
          const fix = "Set a non-zero user ID, e.g. 10001.";
          report(setsTo(pod, `${path}.securityContext.runAsUser`, 0, fix));
        }
      });
    }
  },
});

export const readOnlyRootFilesystemPolicy: ResourceValidationPolicy = podPolicy({
  name: "containers-read-only-root-filesystem",
  description: "Every container mounts its root filesystem read-only.",
  enforcementLevel: "mandatory",
  severity: "medium",
  check: ({ pod, report, attempt }) => {
    for (const { container, path } of containersOf(pod)) {
      attempt(() => {
        const field = `${path}.securityContext.readOnlyRootFilesystem`;
        const value = container.securityContext?.readOnlyRootFilesystem;
        const fix = "Set it to true and mount an emptyDir volume where the process must write.";
        if (value === undefined) {
          report(doesNotSet(pod, field, fix));
        } else if (value !== true) {
          report(setsTo(pod, field, value, fix));
        }
      });
    }
  },
});

const requiredResources = [
  ["requests", "cpu"],
  ["requests", "memory"],
  ["limits", "cpu"],
  ["limits", "memory"],
] as const;

export const resourceRequirementsPolicy: ResourceValidationPolicy = podPolicy({
  name: "containers-resource-requirements",
  description: "Every container sets CPU and memory requests and limits.",
  enforcementLevel: "mandatory",
  severity: "medium",
  check: ({ pod, report, attempt }) => {
    // The API rejects resources on ephemeral containers, so only the other two lists can comply.
    for (const { container, path } of containersOf(pod, ["initContainers", "containers"])) {
      for (const [section, resource] of requiredResources) {
        attempt(() => {
          const quantity = container.resources?.[section]?.[resource];
          if (quantity === undefined || quantity === null || quantity === "") {
            const field = `${path}.resources.${section}.${resource}`;
            report(doesNotSet(pod, field, `Set it to the ${resource} the container needs.`));
          }
        });
      }
    }
  },
});

export const containerHardeningPolicies: ResourceValidationPolicy[] = [
  runAsNonRootPolicy,
  readOnlyRootFilesystemPolicy,
  resourceRequirementsPolicy,
];
