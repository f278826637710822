import { strict as assert } from "node:assert";
import { tlsHostCovers } from "../policies/kubernetes/network-exposure";
import { messagesOf } from "./policy-harness";
import { resource } from "./workload-builders";

const service = (type?: string) =>
  resource("kubernetes:core/v1:Service", "api", {
    metadata: { namespace: "trading" },
    spec: { type, ports: [{ port: 80 }] },
  });

describe("services-not-exposed", () => {
  const policy = "services-not-exposed";

  it("accepts a ClusterIP Service", () => {
    assert.deepEqual(messagesOf(policy, [service(), service("ClusterIP")]), []);
  });

  it("flags a LoadBalancer Service unless the stack allows it", () => {
    assert.deepEqual(messagesOf(policy, [service("LoadBalancer")]), [
      'Service "api" sets spec.type to "LoadBalancer", which this stack does not allow. Use ' +
        "ClusterIP " +
        "behind the Ingress, or set allowLoadBalancer (or exemptResources) in the " +
        "services-not-exposed policy config.",
    ]);
    assert.deepEqual(
      messagesOf(policy, [service("LoadBalancer")], { [policy]: { allowLoadBalancer: true } }),
      [],
    );
  });

  it("flags a NodePort Service unless the stack allows it", () => {
    assert.equal(messagesOf(policy, [service("NodePort")]).length, 1);
    assert.deepEqual(
      messagesOf(policy, [service("NodePort")], { [policy]: { allowNodePort: true } }),
      [],
    );
  });
});

describe("ingress-tls", () => {
  const policy = "ingress-tls";
  const ingress = (spec: Record<string, unknown>) =>
    resource("kubernetes:networking.k8s.io/v1:Ingress", "web", {
      metadata: { namespace: "trading" },
      spec,
    });
  const rules = [{ host: "app.bot3.example" }, { host: "api.bot3.example" }];

  it("accepts an Ingress whose TLS covers every host, also by wildcard", () => {
    const tls = [
      { hosts: ["app.bot3.example"], secretName: "app" },
      { hosts: ["*.bot3.example"], secretName: "w" },
    ];
    assert.deepEqual(messagesOf(policy, [ingress({ rules, tls })]), []);
  });

  it("flags a host that no TLS entry covers", () => {
    const tls = [{ hosts: ["app.bot3.example"], secretName: "app" }];
    assert.deepEqual(messagesOf(policy, [ingress({ rules, tls })]), [
      'Ingress "web" serves spec.rules[1].host "api.bot3.example" without TLS. ' +
        'Add "api.bot3.example" to spec.tls[].hosts with a certificate secret.',
    ]);
  });

  it("flags an Ingress without TLS and a rule without host", () => {
    assert.equal(messagesOf(policy, [ingress({ rules })]).length, 2);
    assert.match(
      messagesOf(policy, [ingress({ rules: [{}], tls: [] })])[0],
      /does not set spec\.rules\[0\]\.host/,
    );
    assert.match(messagesOf(policy, [ingress({})])[0], /has no spec\.rules/);
  });

  it("lets a wildcard cover exactly one label", () => {
    assert.ok(tlsHostCovers("*.bot3.example", "app.bot3.example"));
    assert.ok(!tlsHostCovers("*.bot3.example", "a.b.bot3.example"));
    assert.ok(!tlsHostCovers("*.bot3.example", "bot3.example"));
  });
});
