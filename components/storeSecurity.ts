import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

// Who may talk to a data store, and how its pods are locked down. The labels are the contract
// with the engine, the backup job and the monitoring stack, which are built elsewhere.

/** Pods of the trading engine. */
export const engineSelector = { "app.kubernetes.io/name": "bot3-engine" };
/** Pods of the in-cluster PostgreSQL server. */
export const postgresSelector = { "app.kubernetes.io/name": "bot3-postgres" };
/** Pods of the in-cluster Redis server. */
export const redisSelector = { "app.kubernetes.io/name": "bot3-redis" };
/** Pods of the PostgreSQL backup CronJob. */
export const backupSelector = { "app.kubernetes.io/name": "bot3-postgres-backup" };
/** The Prometheus server that scrapes the exporters. */
export const prometheusScraper = {
  namespace: "monitoring",
  podLabels: { "app.kubernetes.io/name": "prometheus" },
};
/** Label of every Service that exposes an exporter, for the monitoring stack to select. */
export const metricsServiceLabels = { "app.kubernetes.io/component": "metrics" };

/** Pod security context of the `restricted` Pod Security profile, as user and group `id`. */
export function restrictedPodSecurity(id: number): k8s.types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: id,
    runAsGroup: id,
    fsGroup: id,
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container security context: no privilege, no capability, nothing written outside volumes. */
export function restrictedContainerSecurity(id?: number): k8s.types.input.core.v1.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    ...(id === undefined ? {} : { runAsUser: id, runAsGroup: id }),
    capabilities: { drop: ["ALL"] },
  };
}

/** How a store is reached: its Services and the policy that says who may connect. */
export interface StoreEndpointArgs extends StoreNetworkPolicyArgs {
  /** Labels of the Services, on top of the store's pod labels. */
  labels: Record<string, string>;
  /** Name of the store's port on its pods and its headless Service (`postgres`, `redis`). */
  portName: string;
}

/**
 * Declares a store's headless Service, the Service of its exporter sidecar (labelled for the
 * monitoring stack to find, port `metrics`), and its NetworkPolicy.
 */
export function storeEndpoints(
  name: string,
  objectName: string,
  args: StoreEndpointArgs,
  opts: pulumi.CustomResourceOptions,
): void {
  const { namespace, labels, storeLabels: selector } = args;
  new k8s.core.v1.Service(
    `${name}-service`,
    {
      metadata: { name: objectName, namespace, labels },
      spec: {
        clusterIP: "None",
        selector,
        ports: [{ name: args.portName, port: args.port, targetPort: args.portName }],
      },
    },
    opts,
  );
  new k8s.core.v1.Service(
    `${name}-metrics`,
    {
      metadata: {
        name: `${objectName}-metrics`,
        namespace,
        labels: { ...labels, ...metricsServiceLabels },
      },
      spec: {
        selector,
        ports: [{ name: "metrics", port: args.metricsPort, targetPort: "metrics" }],
      },
    },
    opts,
  );
  storeNetworkPolicy(`${name}-network-policy`, objectName, args, opts);
}

export interface StoreNetworkPolicyArgs {
  namespace: pulumi.Input<string>;
  /** Labels of the store's pods. */
  storeLabels: Record<string, string>;
  /** Port of the store itself. */
  port: number;
  /** Port of the exporter sidecar, the only one Prometheus may reach. */
  metricsPort: number;
  /** Pods (in the store's namespace) that may connect to `port`. */
  clients: Record<string, string>[];
}

/**
 * Admits the listed clients to the store's port and Prometheus to the exporter's port, and
 * nothing else; the store itself may only resolve names, since it never dials out.
 */
function storeNetworkPolicy(
  name: string,
  objectName: string,
  args: StoreNetworkPolicyArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.networking.v1.NetworkPolicy {
  return new k8s.networking.v1.NetworkPolicy(
    name,
    {
      metadata: { name: objectName, namespace: args.namespace },
      spec: {
        podSelector: { matchLabels: args.storeLabels },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: args.clients.map((labels) => ({ podSelector: { matchLabels: labels } })),
            ports: [{ protocol: "TCP", port: args.port }],
          },
          {
            from: [
              {
                namespaceSelector: {
                  matchLabels: { "kubernetes.io/metadata.name": prometheusScraper.namespace },
                },
                podSelector: { matchLabels: prometheusScraper.podLabels },
              },
            ],
            ports: [{ protocol: "TCP", port: args.metricsPort }],
          },
        ],
        egress: [dnsEgress],
      },
    },
    opts,
  );
}

/** Name resolution through the cluster DNS, which every pod needs. */
export const dnsEgress: k8s.types.input.networking.v1.NetworkPolicyEgressRule = {
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
