import { strict as assert } from "node:assert";
import { unknownStringValue } from "../policies/sdk-proxy";
import { findingsOf } from "./policy-harness";
import {
  compliantContainer,
  deployment,
  mainContainer,
  Props,
  resource,
  securityContextOf,
} from "./workload-builders";

/** The wire sentinel the engine sends for any value not known during preview. */
const unknown = unknownStringValue;

function summary(policy: string, resources: Parameters<typeof findingsOf>[1]) {
  return findingsOf(policy, resources).map((v) => v.enforcementLevel);
}

describe("preview unknowns", () => {
  it("never lets an unknown satisfy a check: the advisory note names the value", () => {
    const workload = deployment(
      "engine",
      (s) => (securityContextOf(mainContainer(s)).readOnlyRootFilesystem = unknown),
    );
    const [finding] = findingsOf("containers-read-only-root-filesystem", [workload]);
    assert.equal(finding.enforcementLevel, "advisory");
    assert.match(
      finding.message,
      /^can't run policy 'containers-read-only-root-filesystem' from policy pack 'bot3-policy@v0/,
    );
    assert.match(
      finding.message,
      /during preview: .*containers\.0\.securityContext\.readOnlyRootFilesystem/,
    );
  });

  it("still reports what known containers prove next to an unknown one", () => {
    const workload = deployment("engine", (s) => {
      mainContainer(s).image = unknown;
      (s.initContainers as Props[])[0].image = "busybox:latest";
    });
    assert.deepEqual(summary("images-pinned", [workload]).sort(), ["advisory", "mandatory"]);
  });

  it("does not judge containers by an unknown pod-level runAsNonRoot", () => {
    const workload = deployment("engine", (s) => {
      (s.securityContext as Props).runAsNonRoot = unknown;
      delete securityContextOf(mainContainer(s)).runAsNonRoot;
    });
    assert.deepEqual(summary("pss-restricted-run-as-non-root", [workload]), ["advisory"]);
    assert.deepEqual(summary("containers-run-as-non-root", [workload]), ["advisory"]);
  });

  it("does not judge containers by an unknown pod-level seccomp profile", () => {
    const workload = deployment("engine", (s) => {
      (s.securityContext as Props).seccompProfile = unknown;
      delete securityContextOf(mainContainer(s)).seccompProfile;
    });
    assert.deepEqual(summary("pss-restricted-seccomp", [workload]), ["advisory"]);
  });

  it("flags a secret-named variable whose value is computed, known or not", () => {
    const workload = deployment(
      "engine",
      (s) => (mainContainer(s).env = [{ name: "DB_PASSWORD", value: unknown }]),
    );
    assert.deepEqual(summary("no-secret-literals-in-env", [workload]), ["mandatory"]);
  });

  it("leaves an unknown namespace to the advisory note", () => {
    const workload = deployment();
    (workload.props.metadata as Props).namespace = unknown;
    assert.deepEqual(summary("workloads-not-in-default-namespace", [workload]), ["advisory"]);
  });

  it("does not call a namespace undefended while a NetworkPolicy in the stack is unknown", () => {
    const netpol = resource("kubernetes:networking.k8s.io/v1:NetworkPolicy", "deny", {
      metadata: { namespace: "trading" },
      spec: unknown,
    });
    assert.deepEqual(summary("namespaces-default-deny", [deployment(), netpol]), ["advisory"]);
  });

  it("does not demand a budget while the only budget's selector is unknown", () => {
    const pdb = resource("kubernetes:policy/v1:PodDisruptionBudget", "pdb", {
      metadata: { namespace: "trading" },
      spec: { selector: unknown },
    });
    assert.deepEqual(
      summary("replicated-workloads-have-pdb", [deployment("engine", undefined, 3), pdb]),
      ["advisory"],
    );
  });

  it("keeps checking the known parts of an AWS resource", () => {
    const cluster = resource("aws:eks/cluster:Cluster", "bot3", {
      vpcConfig: unknown,
      enabledClusterLogTypes: [],
    });
    const findings = findingsOf("eks-cluster-hardened", [cluster]);
    assert.deepEqual(findings.map((v) => v.enforcementLevel).sort(), [
      "advisory",
      "mandatory",
      "mandatory",
    ]);
  });

  it("leaves an unknown CIDR of a security group rule to the advisory note", () => {
    const rule = resource("aws:ec2/securityGroupRule:SecurityGroupRule", "r", {
      type: "ingress",
      protocol: "tcp",
      fromPort: 22,
      toPort: 22,
      cidrBlocks: unknown,
    });
    assert.deepEqual(summary("security-groups-no-open-ingress", [rule]), ["advisory"]);
  });

  it("checks an ephemeral container whose image is known", () => {
    const workload = deployment(
      "engine",
      (s) => (s.ephemeralContainers = [{ ...compliantContainer("debug"), image: "busybox" }]),
    );
    assert.deepEqual(summary("images-pinned", [workload]), ["mandatory"]);
  });
});
