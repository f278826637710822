/**
 * The restricted Pod Security Standards controls (R1-R7), policy version 1.35, with the
 * semantics of the pod-security-admission checks of release v0.36.2.
 */
import { doesNotSet, setsTo } from "./messages";
import { containersOf, describePodResource, isRecord, PodTemplate } from "./pod-template";
import { PodSecurityControl, podSecurityPolicy } from "./pod-security-control";

/**
 * `image` joined the list in Kubernetes 1.33 without a new policy version, so it is allowed at
 * every version.
 */
export const allowedVolumeSources = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "image",
  "persistentVolumeClaim",
  "projected",
  "secret",
];

/** From policy 1.25 several restricted checks do not apply to Windows pods. */
function isWindowsPod(pod: PodTemplate): boolean {
  return pod.spec.os?.name === "windows";
}

function validSeccompType(type: unknown): boolean {
  return type === "RuntimeDefault" || type === "Localhost";
}

export const restrictedControls: PodSecurityControl[] = [
  podSecurityPolicy({
    id: "R1",
    checkId: "restrictedVolumes",
    level: "restricted",
    name: "pss-restricted-volume-types",
    description: "Pods may use only the core non-host volume types (Pod Security Standards R1).",
    check: ({ pod, report, attempt }) =>
      (pod.spec.volumes ?? []).forEach((volume, index) =>
        attempt(() => {
          const sources = Object.keys(volume).filter(
            (key) => key !== "name" && volume[key] !== undefined && volume[key] !== null,
          );
          // The API server defaults a volume without a source to emptyDir before admission.
          const forbidden = sources.filter((source) => !allowedVolumeSources.includes(source));
          for (const source of forbidden) {
            const path = `${pod.specPath}.volumes[${index}].${source}`;
            report(
              `${describePodResource(pod)} mounts a ${source} volume at ${path}. Replace it with ` +
                `one of these volume types: ${allowedVolumeSources.join(", ")}.`,
            );
          }
        }),
      ),
  }),
  podSecurityPolicy({
    id: "R2",
    checkId: "allowPrivilegeEscalation",
    level: "restricted",
    name: "pss-restricted-privilege-escalation",
    description: "Containers must set allowPrivilegeEscalation to false (PSS R2).",
    check: ({ pod, report, attempt }) => {
      if (isWindowsPod(pod)) {
        return;
      }
      for (const { container, path } of containersOf(pod)) {
        attempt(() => {
          const field = `${path}.securityContext.allowPrivilegeEscalation`;
          const value = container.securityContext?.allowPrivilegeEscalation;
          if (value === undefined) {
            report(doesNotSet(pod, field, "Set it to false."));
          } else if (value !== false) {
            report(setsTo(pod, field, value, "Set it to false."));
          }
        });
      }
    },
  }),
  podSecurityPolicy({
    id: "R3",
    checkId: "runAsNonRoot",
    level: "restricted",
    name: "pss-restricted-run-as-non-root",
    description: "Pods must require containers to run as a non-root user (PSS R3).",
    check: ({ pod, report, attempt }) => {
      // From policy 1.35 a pod in its own user namespace may run as root inside it.
      if (pod.spec.hostUsers === false) {
        return;
      }
      attempt(() => {
        const podValue = pod.spec.securityContext?.runAsNonRoot;
        if (podValue === false) {
          const path = `${pod.specPath}.securityContext.runAsNonRoot`;
          report(setsTo(pod, path, false, "Set it to true."));
        }
      });
      for (const { container, path } of containersOf(pod)) {
        attempt(() => {
          const field = `${path}.securityContext.runAsNonRoot`;
          const value = container.securityContext?.runAsNonRoot;
          if (value === false) {
            report(setsTo(pod, field, false, "Set it to true or remove it."));
          } else if (value !== true && pod.spec.securityContext?.runAsNonRoot !== true) {
            const podField = `${pod.specPath}.securityContext.runAsNonRoot`;
            report(doesNotSet(pod, field, `Set it (or ${podField}) to true.`));
          }
        });
      }
    },
  }),
  podSecurityPolicy({
    id: "R4",
    checkId: "runAsUser",
    level: "restricted",
    name: "pss-restricted-run-as-user",
    description: "Pods may not set runAsUser to 0, the root user (Pod Security Standards R4).",
    check: ({ pod, report, attempt }) => {
      if (pod.spec.hostUsers === false) {
        return;
      }
      const fix = "Set a non-zero user ID or remove it.";
      attempt(() => {
        if (pod.spec.securityContext?.runAsUser === 0) {
          report(setsTo(pod, `${pod.specPath}.securityContext.runAsUser`, 0, fix));
        }
      });
      for (const { container, path } of containersOf(pod)) {
        attempt(() => {
          if (container.securityContext?.runAsUser === 0) {
            report(setsTo(pod, `${path}.securityContext.runAsUser`, 0, fix));
          }
        });
      }
    },
  }),
  podSecurityPolicy({
    id: "R5",
    checkId: "seccompProfile_restricted",
    level: "restricted",
    name: "pss-restricted-seccomp",
    description: "Pods must set a RuntimeDefault or Localhost seccomp profile (PSS R5).",
    check: ({ pod, report, attempt }) => {
      if (isWindowsPod(pod)) {
        return;
      }
      const fix = 'Set it to "RuntimeDefault" or "Localhost".';
      const podField = `${pod.specPath}.securityContext.seccompProfile.type`;
      // Read in every part that needs it, so an unknown pod profile never decides a container.
      const podProfileType = () => {
        const profile = pod.spec.securityContext?.seccompProfile;
        return isRecord(profile) ? profile.type : undefined;
      };
      attempt(() => {
        const type = podProfileType();
        if (type !== undefined && !validSeccompType(type)) {
          report(setsTo(pod, podField, type, fix));
        }
      });
      for (const { container, path } of containersOf(pod)) {
        attempt(() => {
          const field = `${path}.securityContext.seccompProfile.type`;
          const profile = container.securityContext?.seccompProfile;
          const type = isRecord(profile) ? profile.type : undefined;
          if (type === undefined) {
            if (!validSeccompType(podProfileType())) {
              report(doesNotSet(pod, field, `Set it (or ${podField}) to "RuntimeDefault".`));
            }
          } else if (!validSeccompType(type)) {
            report(setsTo(pod, field, type, fix));
          }
        });
      }
    },
  }),
  podSecurityPolicy({
    id: "R6",
    checkId: "capabilities_restricted",
    level: "restricted",
    name: "pss-restricted-capabilities",
    description: "Containers must drop ALL capabilities and may add only NET_BIND_SERVICE (R6).",
    check: ({ pod, report, attempt }) => {
      if (isWindowsPod(pod)) {
        return;
      }
      for (const { container, path } of containersOf(pod)) {
        attempt(() => {
          const capabilities = container.securityContext?.capabilities;
          const dropPath = `${path}.securityContext.capabilities.drop`;
          const drop = capabilities?.drop;
          if (drop === undefined) {
            report(doesNotSet(pod, dropPath, 'Set it to ["ALL"].'));
          } else if (!drop.includes("ALL")) {
            report(setsTo(pod, dropPath, [...drop], 'Include "ALL" in it.'));
          }
          const added = capabilities?.add ?? [];
          const forbidden = added.filter((name) => name !== "NET_BIND_SERVICE");
          if (forbidden.length > 0) {
            const fix = `Remove ${forbidden.join(", ")}: only NET_BIND_SERVICE may be added.`;
            report(setsTo(pod, `${path}.securityContext.capabilities.add`, [...added], fix));
          }
        });
      }
    },
  }),
  podSecurityPolicy({
    id: "R7",
    checkId: "procMount_restricted",
    level: "restricted",
    name: "pss-restricted-proc-mount",
    description: "Containers must keep the default /proc mask, even in a user namespace (PSS R7).",
    check: ({ pod, report, attempt }) => {
      for (const { container, path } of containersOf(pod)) {
        attempt(() => {
          const procMount = container.securityContext?.procMount;
          if (procMount !== undefined && procMount !== "Default") {
            const fix = 'Remove it or set it to "Default".';
            report(setsTo(pod, `${path}.securityContext.procMount`, procMount, fix));
          }
        });
      }
    },
  }),
];
