import { strict as assert } from "node:assert";
import { messagesOf } from "./policy-harness";
import {
  deployment,
  mainContainer,
  podKinds,
  Props,
  securityContextOf,
  wrapPod,
  compliantPodSpec,
} from "./workload-builders";

describe("containers-run-as-non-root", () => {
  const policy = "containers-run-as-non-root";

  it("accepts the compliant Deployment", () => {
    assert.deepEqual(messagesOf(policy, [deployment()]), []);
  });

  it("accepts containers that inherit runAsNonRoot from the pod", () => {
    const workload = deployment(
      "engine",
      (s) => delete securityContextOf(mainContainer(s)).runAsNonRoot,
    );
    assert.deepEqual(messagesOf(policy, [workload]), []);
  });

  it("flags an init container that sets runAsNonRoot to false", () => {
    const workload = deployment("engine", (s) => {
      securityContextOf((s.initContainers as Props[])[0]).runAsNonRoot = false;
    });
    assert.deepEqual(messagesOf(policy, [workload]), [
      'Deployment "engine" sets ' +
        "spec.template.spec.initContainers[0].securityContext.runAsNonRoot " +
        "to false. Set it to true or remove it.",
    ]);
  });

  it("flags a container without runAsNonRoot when the pod does not set it either", () => {
    const workload = deployment("engine", (s) => {
      delete (s.securityContext as Props).runAsNonRoot;
      delete securityContextOf(mainContainer(s)).runAsNonRoot;
    });
    const [message] = messagesOf(policy, [workload]);
    assert.match(
      message,
      /does not set spec\.template\.spec\.containers\[0\]\.securityContext\.runAsNonRoot/,
    );
  });

  it("flags runAsUser 0 even when the pod has its own user namespace", () => {
    const workload = deployment("engine", (s) => {
      s.hostUsers = false;
      securityContextOf(mainContainer(s)).runAsUser = 0;
    });
    const [message] = messagesOf(policy, [workload]);
    assert.match(
      message,
      /containers\[0\]\.securityContext\.runAsUser to 0\. Set a non-zero user ID/,
    );
  });

  it("flags a pod-level runAsNonRoot false", () => {
    const workload = deployment(
      "engine",
      (s) => ((s.securityContext as Props).runAsNonRoot = false),
    );
    assert.ok(
      messagesOf(policy, [workload]).some((m) =>
        m.includes("spec.template.spec.securityContext.runAsNonRoot to false"),
      ),
    );
  });

  for (const kind of podKinds) {
    it(`checks a ${kind}'s pod template at its own path`, () => {
      const spec = compliantPodSpec();
      securityContextOf(mainContainer(spec)).runAsNonRoot = false;
      const [message] = messagesOf(policy, [wrapPod(kind, "w", {}, spec)]);
      const prefix =
        {
          Pod: "spec",
          PodTemplate: "template.spec",
          CronJob: "spec.jobTemplate.spec.template.spec",
        }[kind as string] ?? "spec.template.spec";
      assert.ok(
        message.includes(`${kind} "w" sets ${prefix}.containers[0].securityContext.runAsNonRoot`),
        message,
      );
    });
  }
});

describe("containers-read-only-root-filesystem", () => {
  const policy = "containers-read-only-root-filesystem";

  it("accepts the compliant Deployment", () => {
    assert.deepEqual(messagesOf(policy, [deployment()]), []);
  });

  it("flags a container that leaves readOnlyRootFilesystem unset", () => {
    const workload = deployment(
      "engine",
      (s) => delete securityContextOf(mainContainer(s)).readOnlyRootFilesystem,
    );
    assert.deepEqual(messagesOf(policy, [workload]), [
      'Deployment "engine" does not set spec.template.spec.containers[0].securityContext.' +
        "readOnlyRootFilesystem. Set it to true and mount an emptyDir volume where the process " +
        "must write.",
    ]);
  });

  it("flags an init container that sets it to false", () => {
    const workload = deployment("engine", (s) => {
      securityContextOf((s.initContainers as Props[])[0]).readOnlyRootFilesystem = false;
    });
    assert.match(
      messagesOf(policy, [workload])[0],
      /initContainers\[0\]\.securityContext\.readOnlyRootFilesystem to false/,
    );
  });

  it("flags an ephemeral container without it", () => {
    const workload = deployment(
      "engine",
      (s) => (s.ephemeralContainers = [{ name: "debug", image: "busybox:1.36" }]),
    );
    assert.match(
      messagesOf(policy, [workload])[0],
      /ephemeralContainers\[0\]\.securityContext\.readOnlyRootFilesystem/,
    );
  });
});

describe("containers-resource-requirements", () => {
  const policy = "containers-resource-requirements";

  it("accepts the compliant Deployment", () => {
    assert.deepEqual(messagesOf(policy, [deployment()]), []);
  });

  for (const [section, resource] of [
    ["requests", "cpu"],
    ["requests", "memory"],
    ["limits", "cpu"],
    ["limits", "memory"],
  ]) {
    it(`flags a container without ${section}.${resource}`, () => {
      const workload = deployment("engine", (s) => {
        delete ((mainContainer(s).resources as Props)[section] as Props)[resource];
      });
      assert.deepEqual(messagesOf(policy, [workload]), [
        `Deployment "engine" does not set ` +
          `spec.template.spec.containers[0].resources.${section}.${resource}. ` +
          `Set it to the ${resource} the container needs.`,
      ]);
    });
  }

  it("flags an init container without resources", () => {
    const workload = deployment("engine", (s) => delete (s.initContainers as Props[])[0].resources);
    assert.equal(messagesOf(policy, [workload]).length, 4);
  });

  it("does not ask ephemeral containers for resources, which the API forbids them", () => {
    const workload = deployment(
      "engine",
      (s) => (s.ephemeralContainers = [{ name: "debug", image: "busybox:1.36" }]),
    );
    assert.deepEqual(messagesOf(policy, [workload]), []);
  });
});
