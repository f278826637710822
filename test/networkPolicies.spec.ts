import { strict as assert } from "assert";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy" with {
  "resolution-mode": "import",
};
import { exchangeEgressExceptions } from "../components/engineNetworkPolicies";
import { engineLabels } from "../components/tradingEngine";
import { parseSettings } from "../settings";
import { schemaProblems } from "../tools/offline/kubernetesSchema";
import { resourcesOfType, runStack, type ProgramRun } from "./harness";

type Policy = INetworkPolicy & { spec: NonNullable<INetworkPolicy["spec"]> };
type Peer = NonNullable<NonNullable<Policy["spec"]["egress"]>[number]["to"]>[number];

function policiesOf(run: ProgramRun): Policy[] {
  return resourcesOfType(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map(
    (r) => r.inputs as unknown as Policy,
  );
}
function policy(run: ProgramRun, name: string): Policy {
  const found = policiesOf(run).find((p) => p.metadata?.name === name);
  assert.ok(found, `stack ${run.stack} has no NetworkPolicy ${name}`);
  return found;
}

/** True when a policy's podSelector selects pods with these labels. */
function selects(p: Policy, labels: Record<string, string>): boolean {
  const wanted = p.spec.podSelector?.matchLabels ?? {};
  return Object.entries(wanted).every(([k, v]) => labels[k] === v);
}
/** True when a label selector's matchLabels select a pod with these labels. */
function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Labels of a StatefulSet's pods, as its template declares them. */
function storePodLabels(run: ProgramRun, name: string): Record<string, string> {
  const set = resourcesOfType(run, "kubernetes:apps/v1:StatefulSet").find(
    (r) => (r.inputs.metadata as { name?: string }).name === name,
  );
  assert.ok(set, `no StatefulSet ${name}`);
  const spec = set.inputs.spec as { template: { metadata: { labels: Record<string, string> } } };
  return spec.template.metadata.labels;
}

function restrictsEgress(p: Policy): boolean {
  return p.spec.policyTypes?.includes("Egress") ?? false;
}

function toIp(address: string): number {
  return address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}
function inCidr(address: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toIp(address) / size) === Math.floor(toIp(base) / size);
}
function peerAdmits(peer: Peer, address: string): boolean {
  if (!peer.ipBlock) return false;
  return (
    inCidr(address, peer.ipBlock.cidr) &&
    !(peer.ipBlock.except ?? []).some((cidr) => inCidr(address, cidr))
  );
}

/**
 * Whether the engine's pods may open a TCP connection to an address outside the cluster:
 * the union of every egress rule of every policy that selects them.
 */
function engineMayReach(run: ProgramRun, address: string, port: number): boolean {
  return policiesOf(run)
    .filter((p) => restrictsEgress(p) && selects(p, engineLabels))
    .flatMap((p) => p.spec.egress ?? [])
    .some(
      (rule) =>
        (rule.ports ?? [{ protocol: "TCP", port }]).some(
          (p) => (p.protocol ?? "TCP") === "TCP" && p.port === port,
        ) && (rule.to ?? []).some((peer) => peerAdmits(peer, address)),
    );
}

function allowsDns(p: Policy): boolean {
  return (p.spec.egress ?? []).some((rule) => {
    const toKubeDns = (rule.to ?? []).some(
      (peer) =>
        peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "kube-system" &&
        peer.podSelector?.matchLabels?.["k8s-app"] === "kube-dns",
    );
    const protocols = (rule.ports ?? []).filter((p) => p.port === 53).map((p) => p.protocol);
    return toKubeDns && protocols.includes("UDP") && protocols.includes("TCP");
  });
}

describe("EngineNetworkPolicies", () => {
  for (const stack of ["local", "staging", "production"]) {
    describe(`on the ${stack} stack`, () => {
      let run: ProgramRun;
      let vpcCidr: string;
      before(async () => {
        run = await runStack(stack);
        vpcCidr = parseSettings(run.config.values).network.vpcCidr;
      });

      it("declares schema-valid policies in the engine namespace", async () => {
        const policies = policiesOf(run);
        assert.ok(policies.length >= 6);
        for (const p of policies) {
          assert.equal(p.metadata?.namespace, "bot3");
          assert.deepEqual(await schemaProblems(p as unknown as Record<string, unknown>), []);
        }
      });

      it("denies all ingress and egress in the namespace by default", () => {
        const deny = policy(run, "default-deny-all");
        assert.deepEqual(deny.spec.podSelector, {});
        assert.deepEqual([...(deny.spec.policyTypes ?? [])].sort(), ["Egress", "Ingress"]);
        assert.equal(deny.spec.ingress, undefined);
        assert.equal(deny.spec.egress, undefined);
      });

      it("still allows DNS to every pod that a policy restricts egress for", () => {
        const dnsPolicies = policiesOf(run).filter(allowsDns);
        for (const p of policiesOf(run).filter(restrictsEgress)) {
          const selected = p.spec.podSelector?.matchLabels ?? {};
          const covered = dnsPolicies.some((dns) => selects(dns, selected));
          assert.ok(covered, `${p.metadata?.name} restricts egress without allowing DNS`);
        }
      });

      it("lets only the ingress controller reach the engine's API port", () => {
        const engine = parseSettings(run.config.values).engine;
        const rule = policy(run, "engine-from-ingress-controller").spec.ingress?.[0];
        assert.deepEqual(rule?.ports, [{ protocol: "TCP", port: engine.httpPort }]);
        assert.deepEqual(rule?.from, [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "ingress-nginx" } },
          },
        ]);
      });

      it("lets only Prometheus reach the engine's metrics port", () => {
        const engine = parseSettings(run.config.values).engine;
        const rule = policy(run, "engine-from-prometheus").spec.ingress?.[0];
        assert.deepEqual(rule?.ports, [{ protocol: "TCP", port: engine.metricsPort }]);
        assert.deepEqual(rule?.from, [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
          },
        ]);
      });

      it("lets the engine reach exchanges over HTTPS and nothing else on the internet", () => {
        assert.equal(engineMayReach(run, "52.84.10.20", 443), true);
        assert.equal(engineMayReach(run, "52.84.10.20", 80), false);
        assert.equal(engineMayReach(run, "52.84.10.20", 8443), false);
      });

      it("keeps the engine's HTTPS egress away from metadata, cluster and VPC ranges", () => {
        for (const address of ["169.254.169.254", "10.96.0.1", "172.20.0.10", "127.0.0.1"]) {
          assert.equal(engineMayReach(run, address, 443), false, address);
        }
        const insideVpc = vpcCidr.replace(/\.0\/\d+$/, ".17");
        assert.equal(engineMayReach(run, insideVpc, 443), false, insideVpc);
      });

      it("lets the engine reach PostgreSQL and Redis where the settings put them", () => {
        const settings = parseSettings(run.config.values);
        const egress = policy(run, "engine-to-data-stores").spec.egress ?? [];
        const stores = [
          { mode: settings.database.mode, port: 5432, statefulSet: "bot3-postgres" },
          { mode: settings.cache.mode, port: 6379, statefulSet: "bot3-redis" },
        ];
        for (const store of stores) {
          const rule = egress.find((r) => r.ports?.some((p) => p.port === store.port));
          assert.ok(rule, `no egress to port ${store.port}`);
          if (store.mode === "managed") {
            assert.deepEqual(rule.to, [{ ipBlock: { cidr: vpcCidr } }]);
            continue;
          }
          // The rule must select the store's real pods, and the store must admit the engine:
          // both sides of the path, read from the objects the program declares.
          const podLabels = storePodLabels(run, store.statefulSet);
          const [peer] = rule.to ?? [];
          assert.ok(matches(peer?.podSelector?.matchLabels ?? {}, podLabels), store.statefulSet);
          const admits = policiesOf(run).some(
            (p) =>
              matches(p.spec.podSelector?.matchLabels ?? {}, podLabels) &&
              (p.spec.ingress ?? []).some(
                (r) =>
                  r.ports?.some((port) => port.port === store.port) &&
                  r.from?.some((f) => matches(f.podSelector?.matchLabels ?? {}, engineLabels)),
              ),
          );
          assert.ok(admits, `no policy admits the engine to ${store.statefulSet}`);
        }
      });

      it("opens the HTTP-01 solver to the ingress controller only for ACME issuers", () => {
        const issuer = parseSettings(run.config.values).tls.issuer;
        const solver = policiesOf(run).find(
          (p) => p.metadata?.name === "acme-solver-from-ingress-controller",
        );
        assert.equal(solver !== undefined, issuer !== "self-signed");
        if (solver) {
          assert.deepEqual(solver.spec.podSelector?.matchLabels, {
            "acme.cert-manager.io/http01-solver": "true",
          });
          assert.deepEqual(solver.spec.ingress?.[0].ports, [{ protocol: "TCP", port: 8089 }]);
        }
      });
    });
  }

  describe("the exchange egress exceptions", () => {
    it("cover a VPC inside the private ranges without listing it twice", () => {
      const except = exchangeEgressExceptions("10.30.0.0/16");
      assert.ok(except.includes("10.0.0.0/8"));
      assert.ok(!except.includes("10.30.0.0/16"));
    });
    it("add a VPC that uses public address space", () => {
      assert.ok(exchangeEgressExceptions("198.18.0.0/16").includes("198.18.0.0/16"));
    });
    it("always exclude the instance metadata range", () => {
      assert.ok(exchangeEgressExceptions("10.0.0.0/16").includes("169.254.0.0/16"));
    });
  });
});
