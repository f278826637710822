import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

type Rule = k8s.types.input.networking.v1.NetworkPolicyEgressRule;
type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

/** Pods in another namespace, found by the namespace's name and their labels. */
export interface PodsInNamespace {
  namespace: string;
  podLabels: Record<string, string>;
}

/** A data store the engine talks to: in-cluster pods, or a managed endpoint inside the VPC. */
export interface DataStoreEndpoint {
  mode: "in-cluster" | "managed";
  port: number;
  /** Labels of the in-cluster pods, in the engine's namespace. */
  podLabels: Record<string, string>;
}

export interface EngineNetworkPoliciesArgs {
  /** The engine's namespace; every pod in it is denied all traffic not allowed here. */
  namespace: pulumi.Input<string>;
  /** Labels that select the engine's pods. */
  engineLabels: Record<string, string>;
  /** Port of the engine's API, reached from the ingress controller only. */
  httpPort: number;
  /** Port of the engine's metrics, reached from Prometheus only. */
  metricsPort: number;
  /**
   * The ingress controller's pods. Default: `app.kubernetes.io/name: ingress-nginx` in the
   * `ingress-nginx` namespace.
   */
  ingressController?: PodsInNamespace;
  /** The metrics scraper's pods. Default: `app.kubernetes.io/name: prometheus` in `monitoring`. */
  metricsScraper?: PodsInNamespace;
  /** PostgreSQL; managed endpoints are reached through `vpcCidr`. */
  database: DataStoreEndpoint;
  /** Redis; managed endpoints are reached through `vpcCidr`. */
  cache: DataStoreEndpoint;
  /** The VPC's range: managed stores live in it, and the exchange egress rule excludes it. */
  vpcCidr: string;
  /**
   * Let the ingress controller reach cert-manager's HTTP-01 solver pods, which cert-manager
   * starts in this namespace while it proves control of the host. Default false.
   */
  allowAcmeSolver?: boolean;
  /** The cluster's provider. */
  provider: k8s.Provider;
}

/** Ranges the engine must never reach through its exchange egress rule. */
export const internalRanges = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  // Carrier-grade NAT space, which EKS custom networking uses for pod addresses.
  "100.64.0.0/10",
  // Link-local, home of the instance metadata service (169.254.169.254).
  "169.254.0.0/16",
  "127.0.0.0/8",
];

/** cert-manager's HTTP-01 solver pods listen here and carry this label. */
export const acmeSolver = { port: 8089, labels: { "acme.cert-manager.io/http01-solver": "true" } };

/**
 * Zero-trust networking for the engine's namespace: everything is denied, then DNS, the
 * ingress controller, Prometheus, the data stores and HTTPS to the exchanges are let through.
 */
export class EngineNetworkPolicies extends pulumi.ComponentResource {
  constructor(
    name: string,
    args: EngineNetworkPoliciesArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("bot3:engine:EngineNetworkPolicies", name, {}, opts);
    const childOpts = { parent: this, provider: args.provider };
    const ingressController = args.ingressController ?? {
      namespace: "ingress-nginx",
      podLabels: { "app.kubernetes.io/name": "ingress-nginx" },
    };
    const scraper = args.metricsScraper ?? {
      namespace: "monitoring",
      podLabels: { "app.kubernetes.io/name": "prometheus" },
    };
    const engine = { matchLabels: args.engineLabels };
    const policy = (
      role: string,
      objectName: string,
      spec: k8s.types.input.networking.v1.NetworkPolicySpec,
    ) =>
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${role}`,
        { metadata: { name: objectName, namespace: args.namespace }, spec },
        childOpts,
      );

    policy("default-deny", "default-deny-all", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
    });
    policy("dns", "allow-dns", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [dnsRule],
    });

    policy("from-ingress-controller", "engine-from-ingress-controller", {
      podSelector: engine,
      policyTypes: ["Ingress"],
      ingress: [{ from: [podsIn(ingressController)], ports: [tcp(args.httpPort)] }],
    });
    policy("from-metrics-scraper", "engine-from-prometheus", {
      podSelector: engine,
      policyTypes: ["Ingress"],
      ingress: [{ from: [podsIn(scraper)], ports: [tcp(args.metricsPort)] }],
    });

    const stores = [args.database, args.cache];
    policy("to-data-stores", "engine-to-data-stores", {
      podSelector: engine,
      policyTypes: ["Egress"],
      egress: stores.map((endpoint) => ({
        to: [
          endpoint.mode === "in-cluster"
            ? { podSelector: { matchLabels: endpoint.podLabels } }
            : { ipBlock: { cidr: args.vpcCidr } },
        ],
        ports: [tcp(endpoint.port)],
      })),
    });
    // The stores admit the engine with policies of their own (storeSecurity.ts), next to the
    // backup job and the metrics scraper.

    policy("to-exchanges", "engine-to-exchanges", {
      podSelector: engine,
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: "0.0.0.0/0", except: exchangeEgressExceptions(args.vpcCidr) } }],
          ports: [tcp(443)],
        },
      ],
    });

    if (args.allowAcmeSolver) {
      policy("acme-solver", "acme-solver-from-ingress-controller", {
        podSelector: { matchLabels: acmeSolver.labels },
        policyTypes: ["Ingress"],
        ingress: [{ from: [podsIn(ingressController)], ports: [tcp(acmeSolver.port)] }],
      });
    }
    this.registerOutputs({});
  }
}

/** Private, link-local and loopback ranges, plus the VPC when it lies outside them. */
export function exchangeEgressExceptions(vpcCidr: string): string[] {
  return internalRanges.some((range) => cidrContains(range, vpcCidr))
    ? [...internalRanges]
    : [...internalRanges, vpcCidr];
}

const dnsRule: Rule = {
  to: [
    {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
      podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
    },
  ],
  ports: [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ],
};

function podsIn(pods: PodsInNamespace): Peer {
  return {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": pods.namespace } },
    podSelector: { matchLabels: pods.podLabels },
  };
}

function tcp(port: number) {
  return { protocol: "TCP", port };
}

function cidrContains(outer: string, inner: string): boolean {
  const [outerBase, outerBits] = parseCidr(outer);
  const [innerBase, innerBits] = parseCidr(inner);
  if (innerBits < outerBits) return false;
  const size = 2 ** (32 - outerBits);
  return Math.floor(innerBase / size) === Math.floor(outerBase / size);
}

function parseCidr(cidr: string): [number, number] {
  const [address, bits] = cidr.split("/");
  const value = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
  return [value, Number(bits)];
}
