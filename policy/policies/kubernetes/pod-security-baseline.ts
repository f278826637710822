/**
 * The baseline Pod Security Standards controls (B1-B12), policy version 1.35, one policy each,
 * with the semantics of the pod-security-admission checks of release v0.36.2.
 */
import { setsTo } from "./messages";
import { containersOf, isRecord, PodTemplate } from "./pod-template";
import { PodSecurityControl, podSecurityPolicy } from "./pod-security-control";

const allowedBaselineCapabilities = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);

const allowedSeLinuxTypes = new Set([
  "",
  "container_t",
  "container_init_t",
  "container_kvm_t",
  "container_engine_t",
]);

/** Safe sysctls of policy version 1.35 (1.0, 1.27, 1.29 and 1.32 additions). */
export const allowedSysctls = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_wmem",
]);

const appArmorAnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/";

/** Runs `check` on the pod-level security context and on every container's. */
function eachSecurityContext(
  pod: PodTemplate,
  attempt: (part: () => void) => void,
  check: (context: Record<string, unknown>, path: string) => void,
): void {
  attempt(() => {
    const podContext = pod.spec.securityContext;
    if (isRecord(podContext)) {
      check(podContext, `${pod.specPath}.securityContext`);
    }
  });
  for (const { container, path } of containersOf(pod)) {
    attempt(() => {
      const context = container.securityContext;
      if (isRecord(context)) {
        check(context, `${path}.securityContext`);
      }
    });
  }
}

export const baselineControls: PodSecurityControl[] = [
  podSecurityPolicy({
    id: "B1",
    checkId: "windowsHostProcess",
    level: "baseline",
    name: "pss-baseline-host-process",
    description: "Windows pods may not run as HostProcess containers (Pod Security Standards B1).",
    check: ({ pod, report, attempt }) =>
      eachSecurityContext(pod, attempt, (context, path) => {
        const options = context.windowsOptions;
        if (isRecord(options) && options.hostProcess === true) {
          report(
            setsTo(
              pod,
              `${path}.windowsOptions.hostProcess`,
              true,
              "Remove it or set it to false.",
            ),
          );
        }
      }),
  }),
  podSecurityPolicy({
    id: "B2",
    checkId: "hostNamespaces",
    level: "baseline",
    name: "pss-baseline-host-namespaces",
    description: "Pods may not share the host's network, PID or IPC namespace (PSS B2).",
    check: ({ pod, report, attempt }) => {
      for (const field of ["hostNetwork", "hostPID", "hostIPC"] as const) {
        attempt(() => {
          if (pod.spec[field] === true) {
            const path = `${pod.specPath}.${field}`;
            report(setsTo(pod, path, true, "Remove it or set it to false."));
          }
        });
      }
    },
  }),
  podSecurityPolicy({
    id: "B3",
    checkId: "privileged",
    level: "baseline",
    name: "pss-baseline-privileged",
    description: "Containers may not run privileged (Pod Security Standards B3).",
    check: ({ pod, report, attempt }) => {
      for (const { container, path } of containersOf(pod)) {
        attempt(() => {
          if (container.securityContext?.privileged === true) {
            const field = `${path}.securityContext.privileged`;
            report(setsTo(pod, field, true, "Remove it or set it to false."));
          }
        });
      }
    },
  }),
  podSecurityPolicy({
    id: "B4",
    checkId: "capabilities_baseline",
    level: "baseline",
    overriddenBy: "capabilities_restricted",
    name: "pss-baseline-capabilities",
    description: "Containers may add only the default container capabilities (PSS B4).",
    check: ({ pod, report, attempt }) => {
      for (const { container, path } of containersOf(pod)) {
        attempt(() => {
          const added = container.securityContext?.capabilities?.add ?? [];
          const forbidden = added.filter((name) => !allowedBaselineCapabilities.has(name));
          if (forbidden.length > 0) {
            report(
              setsTo(
                pod,
                `${path}.securityContext.capabilities.add`,
                [...added],
                `Remove ${forbidden.join(", ")}: only ` +
                  `${[...allowedBaselineCapabilities].join(", ")} may be added.`,
              ),
            );
          }
        });
      }
    },
  }),
  podSecurityPolicy({
    id: "B5",
    checkId: "hostPathVolumes",
    level: "baseline",
    overriddenBy: "restrictedVolumes",
    name: "pss-baseline-host-path-volumes",
    description: "Pods may not mount hostPath volumes (Pod Security Standards B5).",
    check: ({ pod, report, attempt }) => {
      (pod.spec.volumes ?? []).forEach((volume, index) =>
        attempt(() => {
          if (volume.hostPath !== undefined && volume.hostPath !== null) {
            const path = `${pod.specPath}.volumes[${index}].hostPath`;
            const fix =
              "Use a persistentVolumeClaim, emptyDir, configMap or secret volume instead.";
            report(setsTo(pod, path, volume.hostPath, fix));
          }
        }),
      );
    },
  }),
  podSecurityPolicy({
    id: "B6",
    checkId: "hostPorts",
    level: "baseline",
    name: "pss-baseline-host-ports",
    description: "Containers may not bind host ports (Pod Security Standards B6).",
    check: ({ pod, report, attempt }) => {
      for (const { container, path } of containersOf(pod)) {
        (container.ports ?? []).forEach((port, index) =>
          attempt(() => {
            const hostPort = port.hostPort;
            if (hostPort !== undefined && hostPort !== null && hostPort !== 0) {
              const field = `${path}.ports[${index}].hostPort`;
              report(setsTo(pod, field, hostPort, "Remove it and expose the port with a Service."));
            }
          }),
        );
      }
    },
  }),
  podSecurityPolicy({
    id: "B7",
    checkId: "hostProbesAndHostLifecycle",
    level: "baseline",
    name: "pss-baseline-host-probes",
    description: "Probes and lifecycle hooks may not target another host (PSS B7).",
    check: ({ pod, report, attempt }) => {
      for (const { container, path } of containersOf(pod)) {
        const handlers: [string, unknown][] = [
          ["livenessProbe", container.livenessProbe],
          ["readinessProbe", container.readinessProbe],
          ["startupProbe", container.startupProbe],
          ["lifecycle.postStart", container.lifecycle?.postStart],
          ["lifecycle.preStop", container.lifecycle?.preStop],
        ];
        for (const [handlerPath, handler] of handlers) {
          for (const action of ["httpGet", "tcpSocket"]) {
            attempt(() => {
              const target = isRecord(handler) ? handler[action] : undefined;
              const host = isRecord(target) ? target.host : undefined;
              if (typeof host === "string" && host !== "") {
                const field = `${path}.${handlerPath}.${action}.host`;
                report(setsTo(pod, field, host, "Remove it so the kubelet probes the pod itself."));
              }
            });
          }
        }
      }
    },
  }),
  podSecurityPolicy({
    id: "B8",
    checkId: "appArmorProfile",
    level: "baseline",
    name: "pss-baseline-apparmor",
    description: "Pods may not disable or override the default AppArmor profile (PSS B8).",
    check: ({ pod, report, attempt }) => {
      eachSecurityContext(pod, attempt, (context, path) => {
        const profile = context.appArmorProfile;
        const type = isRecord(profile) ? profile.type : undefined;
        if (type !== undefined && type !== "RuntimeDefault" && type !== "Localhost") {
          const fix = 'Set it to "RuntimeDefault" or "Localhost", or remove it.';
          report(setsTo(pod, `${path}.appArmorProfile.type`, type, fix));
        }
      });
      attempt(() => {
        const annotations = pod.metadata.annotations ?? {};
        for (const key of Object.keys(annotations)) {
          if (!key.startsWith(appArmorAnnotationPrefix)) {
            continue;
          }
          const value = annotations[key];
          if (
            typeof value === "string" &&
            value !== "" &&
            value !== "runtime/default" &&
            !value.startsWith("localhost/")
          ) {
            const fix = 'Set it to "runtime/default" or "localhost/<profile>", or remove it.';
            report(setsTo(pod, `${pod.metadataPath}.annotations["${key}"]`, value, fix));
          }
        }
      });
    },
  }),
  podSecurityPolicy({
    id: "B9",
    checkId: "seLinuxOptions",
    level: "baseline",
    name: "pss-baseline-selinux",
    description:
      "Pods may not set a custom SELinux user or role, nor a non-container type (PSS B9).",
    check: ({ pod, report, attempt }) =>
      eachSecurityContext(pod, attempt, (context, path) => {
        const options = context.seLinuxOptions;
        if (!isRecord(options)) {
          return;
        }
        const type = options.type;
        if (typeof type === "string" && !allowedSeLinuxTypes.has(type)) {
          const fix =
            "Use container_t, container_init_t, container_kvm_t or container_engine_t, or " +
            "remove it.";
          report(setsTo(pod, `${path}.seLinuxOptions.type`, type, fix));
        }
        for (const field of ["user", "role"]) {
          const value = options[field];
          if (typeof value === "string" && value !== "") {
            report(setsTo(pod, `${path}.seLinuxOptions.${field}`, value, "Remove it."));
          }
        }
      }),
  }),
  podSecurityPolicy({
    id: "B10",
    checkId: "procMount",
    level: "baseline",
    overriddenBy: "procMount_restricted",
    name: "pss-baseline-proc-mount",
    description:
      "Containers keep the default /proc mask unless the pod has its own user namespace (PSS B10).",
    check: ({ pod, report, attempt }) => {
      // From policy 1.35, a pod in its own user namespace may unmask /proc.
      if (pod.spec.hostUsers === false) {
        return;
      }
      for (const { container, path } of containersOf(pod)) {
        attempt(() => {
          const procMount = container.securityContext?.procMount;
          if (procMount !== undefined && procMount !== "Default") {
            const hostUsers = `${pod.specPath}.hostUsers`;
            const fix = `Remove it or set it to "Default" (or set ${hostUsers} to false).`;
            report(setsTo(pod, `${path}.securityContext.procMount`, procMount, fix));
          }
        });
      }
    },
  }),
  podSecurityPolicy({
    id: "B11",
    checkId: "seccompProfile_baseline",
    level: "baseline",
    overriddenBy: "seccompProfile_restricted",
    name: "pss-baseline-seccomp",
    description: "Pods may not set the seccomp profile to Unconfined (PSS B11).",
    check: ({ pod, report, attempt }) =>
      eachSecurityContext(pod, attempt, (context, path) => {
        const profile = context.seccompProfile;
        const type = isRecord(profile) ? profile.type : undefined;
        if (type !== undefined && type !== "RuntimeDefault" && type !== "Localhost") {
          const fix = 'Set it to "RuntimeDefault" or "Localhost".';
          report(setsTo(pod, `${path}.seccompProfile.type`, type, fix));
        }
      }),
  }),
  podSecurityPolicy({
    id: "B12",
    checkId: "sysctls",
    level: "baseline",
    name: "pss-baseline-sysctls",
    description: "Pods may set only the namespaced safe sysctls (Pod Security Standards B12).",
    check: ({ pod, report, attempt }) =>
      attempt(() => {
        (pod.spec.securityContext?.sysctls ?? []).forEach((sysctl, index) => {
          if (!allowedSysctls.has(sysctl.name)) {
            const path = `${pod.specPath}.securityContext.sysctls[${index}].name`;
            report(setsTo(pod, path, sysctl.name, "Remove it: only the safe sysctls are allowed."));
          }
        });
      }),
  }),
];
