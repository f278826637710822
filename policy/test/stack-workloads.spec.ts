import { strict as assert } from "node:assert";
import { selectorMatches } from "../policies/kubernetes/stack-workloads";
import { messagesOf } from "./policy-harness";
import { deployment, Props, resource } from "./workload-builders";

const denyAll = (namespace = "trading", spec: Props = {}) =>
  resource("kubernetes:networking.k8s.io/v1:NetworkPolicy", `deny-${namespace}`, {
    metadata: { name: "default-deny", namespace },
    spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], ...spec },
  });
const autoscaler = (target = "engine") =>
  resource("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "engine-hpa", {
    metadata: { name: "engine", namespace: "trading" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target },
      minReplicas: 2,
      maxReplicas: 6,
    },
  });
const budget = (selector: unknown, namespace = "trading") =>
  resource("kubernetes:policy/v1:PodDisruptionBudget", "engine-pdb", {
    metadata: { name: "engine", namespace },
    spec: { maxUnavailable: 1, selector },
  });

describe("autoscaled-workloads-omit-replicas", () => {
  const policy = "autoscaled-workloads-omit-replicas";

  it("accepts an autoscaled Deployment without spec.replicas", () => {
    assert.deepEqual(messagesOf(policy, [deployment(), autoscaler()]), []);
  });

  it("flags spec.replicas on the autoscaler's target", () => {
    assert.deepEqual(messagesOf(policy, [deployment("engine", undefined, 3), autoscaler()]), [
      'Deployment "engine" sets spec.replicas to 3 although HorizontalPodAutoscaler "engine-hpa" ' +
        "scales it, so every update resets the autoscaler's count. Remove spec.replicas and " +
        "set the " +
        "minimum in the autoscaler's spec.minReplicas.",
    ]);
  });

  it("ignores replicas on workloads that no autoscaler targets", () => {
    assert.deepEqual(
      messagesOf(policy, [deployment("engine", undefined, 3), autoscaler("other")]),
      [],
    );
  });
});

describe("replicated-workloads-have-pdb", () => {
  const policy = "replicated-workloads-have-pdb";

  it("accepts a replicated Deployment that a budget selects", () => {
    const selector = { matchLabels: { app: "engine" } };
    assert.deepEqual(
      messagesOf(policy, [deployment("engine", undefined, 3), budget(selector)]),
      [],
    );
  });

  it("does not ask a single-replica Deployment for a budget", () => {
    assert.deepEqual(
      messagesOf(policy, [deployment("engine", undefined, 1), deployment("api")]),
      [],
    );
  });

  it("flags a replicated Deployment without a budget", () => {
    assert.deepEqual(messagesOf(policy, [deployment("engine", undefined, 3)]), [
      'Deployment "engine" sets spec.replicas to 3 but no PodDisruptionBudget in namespace ' +
        '"trading" ' +
        'selects its pod labels {"app":"engine"}. Add a PodDisruptionBudget whose spec.selector ' +
        "matches them, with maxUnavailable: 1.",
    ]);
  });

  it("flags an autoscaled Deployment whose budget selects other pods or lives elsewhere", () => {
    const other = budget({ matchLabels: { app: "api" } });
    assert.match(
      messagesOf(policy, [deployment(), autoscaler(), other])[0],
      /is scaled by a HorizontalPodAutoscaler/,
    );
    const elsewhere = budget({ matchLabels: { app: "engine" } }, "monitoring");
    assert.equal(messagesOf(policy, [deployment("engine", undefined, 2), elsewhere]).length, 1);
  });

  it("matches selectors with Kubernetes semantics", () => {
    const labels = { app: "engine", tier: "core" };
    assert.ok(selectorMatches({}, labels), "an empty selector selects every pod");
    assert.ok(!selectorMatches(undefined, labels), "an absent selector selects none");
    assert.ok(
      selectorMatches(
        { matchExpressions: [{ key: "tier", operator: "In", values: ["core"] }] },
        labels,
      ),
    );
    assert.ok(
      !selectorMatches(
        { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["core"] }] },
        labels,
      ),
    );
    assert.ok(
      selectorMatches({ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, labels),
    );
  });
});

describe("namespaces-default-deny", () => {
  const policy = "namespaces-default-deny";

  it("accepts a namespace with a default-deny NetworkPolicy", () => {
    assert.deepEqual(messagesOf(policy, [deployment(), denyAll()]), []);
  });

  it("accepts a deny that still allows DNS on port 53", () => {
    const dns = { egress: [{ ports: [{ port: 53, protocol: "UDP" }] }] };
    assert.deepEqual(messagesOf(policy, [deployment(), denyAll("trading", dns)]), []);
  });

  it("flags a namespace without one, once", () => {
    assert.deepEqual(messagesOf(policy, [deployment(), deployment("api")]), [
      'Namespace "trading" runs Deployment "engine" but has no default-deny NetworkPolicy. Add a ' +
        'NetworkPolicy there with spec.podSelector: {} and spec.policyTypes: ["Ingress", ' +
        '"Egress"], ' +
        "then allow the needed traffic explicitly.",
    ]);
  });

  it("does not count a policy that selects some pods, misses Egress or allows everything", () => {
    const cases = [
      denyAll("trading", { podSelector: { matchLabels: { app: "engine" } } }),
      denyAll("trading", { policyTypes: ["Ingress"] }),
      denyAll("trading", { ingress: [{}] }),
      denyAll("monitoring"),
    ];
    for (const networkPolicy of cases) {
      assert.equal(
        messagesOf(policy, [deployment(), networkPolicy]).length,
        1,
        JSON.stringify(networkPolicy.props),
      );
    }
  });

  it("skips namespaces the config exempts", () => {
    assert.deepEqual(
      messagesOf(policy, [deployment()], { [policy]: { exemptNamespaces: ["trading"] } }),
      [],
    );
  });
});
