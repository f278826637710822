import { strict as assert } from "node:assert";
import { messagesOf } from "./policy-harness";
import {
  compliantContainer,
  deployment,
  mainContainer,
  Props,
  securityContextOf,
} from "./workload-builders";

type Edit = (spec: Props) => void;

const containerContext =
  (edit: (context: Props) => void): Edit =>
  (spec) =>
    edit(securityContextOf(mainContainer(spec)));
const initContext =
  (edit: (context: Props) => void): Edit =>
  (spec) =>
    edit(securityContextOf((spec.initContainers as Props[])[0]));
const podContext =
  (edit: (context: Props) => void): Edit =>
  (spec) =>
    edit(spec.securityContext as Props);
const withEphemeral =
  (edit: (context: Props) => void): Edit =>
  (spec) => {
    const debug = compliantContainer("debug");
    delete debug.resources;
    edit(securityContextOf(debug));
    spec.ephemeralContainers = [debug];
  };

/** [policy, what the pod does, edit of one field, path the message must name] */
const violations: [string, string, Edit, string][] = [
  [
    "pss-baseline-host-process",
    "runs a container as a Windows HostProcess",
    containerContext((c) => (c.windowsOptions = { hostProcess: true })),
    "spec.template.spec.containers[0].securityContext.windowsOptions.hostProcess",
  ],
  [
    "pss-baseline-host-process",
    "makes the whole pod a HostProcess pod",
    podContext((c) => (c.windowsOptions = { hostProcess: true })),
    "spec.template.spec.securityContext.windowsOptions.hostProcess",
  ],
  [
    "pss-baseline-host-namespaces",
    "shares the host network",
    (s) => (s.hostNetwork = true),
    "spec.template.spec.hostNetwork",
  ],
  [
    "pss-baseline-host-namespaces",
    "shares the host PID namespace",
    (s) => (s.hostPID = true),
    "spec.template.spec.hostPID",
  ],
  [
    "pss-baseline-host-namespaces",
    "shares the host IPC namespace",
    (s) => (s.hostIPC = true),
    "spec.template.spec.hostIPC",
  ],
  [
    "pss-baseline-privileged",
    "runs an init container privileged",
    initContext((c) => (c.privileged = true)),
    "spec.template.spec.initContainers[0].securityContext.privileged",
  ],
  [
    "pss-baseline-privileged",
    "runs an ephemeral container privileged",
    withEphemeral((c) => (c.privileged = true)),
    "spec.template.spec.ephemeralContainers[0].securityContext.privileged",
  ],
  [
    "pss-baseline-capabilities",
    "adds SYS_ADMIN",
    containerContext((c) => (c.capabilities = { drop: ["ALL"], add: ["SYS_ADMIN"] })),
    "spec.template.spec.containers[0].securityContext.capabilities.add",
  ],
  [
    "pss-baseline-capabilities",
    "adds a CAP_-prefixed name, which the exact compare rejects",
    containerContext((c) => (c.capabilities = { drop: ["ALL"], add: ["CAP_CHOWN"] })),
    "capabilities.add",
  ],
  [
    "pss-baseline-host-path-volumes",
    "mounts a hostPath volume",
    (s) => (s.volumes = [{ name: "host", hostPath: { path: "/var/run" } }]),
    "spec.template.spec.volumes[0].hostPath",
  ],
  [
    "pss-baseline-host-ports",
    "binds a host port",
    (s) => (mainContainer(s).ports = [{ containerPort: 8080, hostPort: 8080 }]),
    "spec.template.spec.containers[0].ports[0].hostPort",
  ],
  [
    "pss-baseline-host-probes",
    "probes another host",
    (s) => (mainContainer(s).livenessProbe = { httpGet: { host: "10.0.0.1", port: 80 } }),
    "spec.template.spec.containers[0].livenessProbe.httpGet.host",
  ],
  [
    "pss-baseline-host-probes",
    "calls another host from a preStop hook",
    (s) => (mainContainer(s).lifecycle = { preStop: { tcpSocket: { host: "db", port: 5432 } } }),
    "spec.template.spec.containers[0].lifecycle.preStop.tcpSocket.host",
  ],
  [
    "pss-baseline-apparmor",
    "sets AppArmor Unconfined",
    containerContext((c) => (c.appArmorProfile = { type: "Unconfined" })),
    "spec.template.spec.containers[0].securityContext.appArmorProfile.type",
  ],
  [
    "pss-baseline-apparmor",
    "sets the deprecated AppArmor annotation to unconfined",
    () => undefined,
    'spec.template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]',
  ],
  [
    "pss-baseline-selinux",
    "sets a custom SELinux type",
    podContext((c) => (c.seLinuxOptions = { type: "spc_t" })),
    "spec.template.spec.securityContext.seLinuxOptions.type",
  ],
  [
    "pss-baseline-selinux",
    "sets an SELinux user",
    containerContext((c) => (c.seLinuxOptions = { user: "system_u" })),
    "spec.template.spec.containers[0].securityContext.seLinuxOptions.user",
  ],
  [
    "pss-baseline-proc-mount",
    "unmasks /proc in the host user namespace",
    containerContext((c) => (c.procMount = "Unmasked")),
    "spec.template.spec.containers[0].securityContext.procMount",
  ],
  [
    "pss-baseline-seccomp",
    "sets seccomp Unconfined on a container",
    containerContext((c) => (c.seccompProfile = { type: "Unconfined" })),
    "spec.template.spec.containers[0].securityContext.seccompProfile.type",
  ],
  [
    "pss-baseline-sysctls",
    "sets an unsafe sysctl",
    podContext((c) => (c.sysctls = [{ name: "kernel.msgmax", value: "1" }])),
    "spec.template.spec.securityContext.sysctls[0].name",
  ],
  [
    "pss-restricted-volume-types",
    "mounts an NFS volume",
    (s) => (s.volumes = [{ name: "nfs", nfs: { server: "nfs", path: "/" } }]),
    "spec.template.spec.volumes[0].nfs",
  ],
  [
    "pss-restricted-privilege-escalation",
    "leaves allowPrivilegeEscalation unset",
    containerContext((c) => delete c.allowPrivilegeEscalation),
    "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation",
  ],
  [
    "pss-restricted-privilege-escalation",
    "allows privilege escalation in an ephemeral container",
    withEphemeral((c) => (c.allowPrivilegeEscalation = true)),
    "spec.template.spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation",
  ],
  [
    "pss-restricted-run-as-non-root",
    "sets runAsNonRoot false on an init container",
    initContext((c) => (c.runAsNonRoot = false)),
    "spec.template.spec.initContainers[0].securityContext.runAsNonRoot",
  ],
  [
    "pss-restricted-run-as-non-root",
    "sets runAsNonRoot nowhere",
    (s) => {
      podContext((c) => delete c.runAsNonRoot)(s);
      containerContext((c) => delete c.runAsNonRoot)(s);
    },
    "spec.template.spec.containers[0].securityContext.runAsNonRoot",
  ],
  [
    "pss-restricted-run-as-user",
    "runs a container as user 0",
    containerContext((c) => (c.runAsUser = 0)),
    "spec.template.spec.containers[0].securityContext.runAsUser",
  ],
  [
    "pss-restricted-run-as-user",
    "runs the pod as user 0",
    podContext((c) => (c.runAsUser = 0)),
    "spec.template.spec.securityContext.runAsUser",
  ],
  [
    "pss-restricted-seccomp",
    "sets no seccomp profile anywhere",
    (s) => {
      podContext((c) => delete c.seccompProfile)(s);
      containerContext((c) => delete c.seccompProfile)(s);
    },
    "spec.template.spec.containers[0].securityContext.seccompProfile.type",
  ],
  [
    "pss-restricted-capabilities",
    "does not drop ALL",
    containerContext((c) => (c.capabilities = { drop: ["NET_RAW"] })),
    "spec.template.spec.containers[0].securityContext.capabilities.drop",
  ],
  [
    "pss-restricted-capabilities",
    "adds CHOWN, which only baseline allows",
    containerContext((c) => (c.capabilities = { drop: ["ALL"], add: ["CHOWN"] })),
    "spec.template.spec.containers[0].securityContext.capabilities.add",
  ],
  [
    "pss-restricted-proc-mount",
    "unmasks /proc even in its own user namespace",
    (s) => {
      s.hostUsers = false;
      containerContext((c) => (c.procMount = "Unmasked"))(s);
    },
    "spec.template.spec.containers[0].securityContext.procMount",
  ],
];

function workloadWith(edit: Edit, annotations?: Record<string, string>) {
  const workload = deployment("engine", edit);
  if (annotations) {
    const template = (workload.props.spec as Props).template as Props;
    (template.metadata as Props).annotations = annotations;
  }
  return workload;
}

describe("Pod Security Standards controls", () => {
  const controls = [...new Set(violations.map(([policy]) => policy))];

  for (const policy of controls) {
    it(`${policy} accepts the compliant Deployment`, () => {
      assert.deepEqual(messagesOf(policy, [deployment()]), []);
    });
  }

  for (const [policy, behaviour, edit, path] of violations) {
    it(`${policy} flags a pod that ${behaviour}`, () => {
      const annotations = behaviour.includes("annotation")
        ? { "container.apparmor.security.beta.kubernetes.io/app": "unconfined" }
        : undefined;
      const messages = messagesOf(policy, [workloadWith(edit, annotations)]);
      assert.equal(messages.length, 1, messages.join("\n"));
      assert.ok(messages[0].includes('Deployment "engine"'), messages[0]);
      assert.ok(messages[0].includes(path), `${messages[0]}\nshould name ${path}`);
    });
  }

  it("pss-baseline-proc-mount allows an unmasked /proc in a pod's own user namespace", () => {
    const edit: Edit = (s) => {
      s.hostUsers = false;
      containerContext((c) => (c.procMount = "Unmasked"))(s);
    };
    assert.deepEqual(messagesOf("pss-baseline-proc-mount", [deployment("engine", edit)]), []);
  });

  it("pss-restricted-run-as-non-root accepts a pod in its own user namespace (policy 1.35)", () => {
    const edit: Edit = (s) => {
      s.hostUsers = false;
      podContext((c) => (c.runAsNonRoot = false))(s);
    };
    assert.deepEqual(
      messagesOf("pss-restricted-run-as-non-root", [deployment("engine", edit)]),
      [],
    );
  });

  it("pss-restricted-seccomp and -capabilities skip Windows pods, as policy 1.25 does", () => {
    const edit: Edit = (s) => {
      s.os = { name: "windows" };
      podContext((c) => delete c.seccompProfile)(s);
      containerContext((c) => {
        delete c.seccompProfile;
        delete c.capabilities;
      })(s);
    };
    const workload = deployment("engine", edit);
    assert.deepEqual(messagesOf("pss-restricted-seccomp", [workload]), []);
    assert.deepEqual(messagesOf("pss-restricted-capabilities", [workload]), []);
  });

  it("pss-restricted-volume-types allows the image volume type added in Kubernetes 1.33", () => {
    const edit: Edit = (s) => (s.volumes = [{ name: "model", image: { reference: "model:1" } }]);
    assert.deepEqual(messagesOf("pss-restricted-volume-types", [deployment("engine", edit)]), []);
  });

  it("pss-baseline-sysctls allows the tcp_rmem sysctl added in policy 1.32", () => {
    const edit = podContext((c) => (c.sysctls = [{ name: "net.ipv4.tcp_rmem", value: "4096" }]));
    assert.deepEqual(messagesOf("pss-baseline-sysctls", [deployment("engine", edit)]), []);
  });
});
