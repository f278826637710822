import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { restrictedPodSecurityLabels } from "./workloadNamespace";

/** Chart version, checked against the chart's values.yaml (controller v1.15.1). */
export const ingressNginxChart = {
  chart: "ingress-nginx",
  version: "4.15.1",
  repo: "https://kubernetes.github.io/ingress-nginx",
} as const;

export interface IngressControllerArgs {
  /**
   * `nlb` publishes the controller through an internet-facing AWS Network Load Balancer (EKS);
   * `none` uses a NodePort Service, for local clusters that map node ports to the host.
   */
  loadBalancer: "nlb" | "none";
  /** Controller replicas; the chart's PodDisruptionBudget keeps one up. Default 2. */
  replicas?: number;
  /** Namespace the controller runs in. Default `ingress-nginx`. */
  namespace?: string;
  /** The cluster's provider. */
  provider: k8s.Provider;
}

/**
 * ingress-nginx from its Helm chart, with every security-relevant value set explicitly: the
 * policy pack cannot see inside a chart, so the values are what tests check.
 */
export class IngressController extends pulumi.ComponentResource {
  /** The IngressClass that Ingresses name to be served by this controller. */
  readonly ingressClassName = "nginx";
  readonly namespace: string;
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: IngressControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:ingress:IngressController", name, {}, opts);
    const childOpts = { parent: this, provider: args.provider };
    this.namespace = args.namespace ?? "ingress-nginx";

    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: this.namespace,
          labels: { ...restrictedPodSecurityLabels, "app.kubernetes.io/part-of": "bot3" },
        },
      },
      childOpts,
    );

    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: "ingress-nginx",
        chart: ingressNginxChart.chart,
        version: ingressNginxChart.version,
        repositoryOpts: { repo: ingressNginxChart.repo },
        namespace: namespace.metadata.name,
        createNamespace: false,
        atomic: true,
        cleanupOnFail: true,
        // An NLB takes a few minutes to provision and register targets.
        timeout: 900,
        values: ingressNginxValues(args.loadBalancer, args.replicas ?? 2, this.ingressClassName),
      },
      childOpts,
    );
    this.registerOutputs({ namespace: this.namespace });
  }
}

const jobSecurityContext = {
  runAsNonRoot: true,
  runAsUser: 65532,
  runAsGroup: 65532,
  allowPrivilegeEscalation: false,
  seccompProfile: { type: "RuntimeDefault" },
  capabilities: { drop: ["ALL"] },
  readOnlyRootFilesystem: true,
};
const jobResources = {
  requests: { cpu: "10m", memory: "32Mi" },
  limits: { cpu: "100m", memory: "64Mi" },
};

/** The chart values; exported so tests read exactly what the release receives. */
export function ingressNginxValues(
  loadBalancer: "nlb" | "none",
  replicas: number,
  ingressClassName: string,
) {
  return {
    controller: {
      replicaCount: replicas,
      minAvailable: 1,
      image: {
        runAsNonRoot: true,
        runAsUser: 101,
        runAsGroup: 82,
        allowPrivilegeEscalation: false,
        seccompProfile: { type: "RuntimeDefault" },
        // Limitation: nginx writes its configuration and temporary files into the image's own
        // directories, so the chart offers no read-only root filesystem for the controller.
        readOnlyRootFilesystem: false,
      },
      resources: {
        requests: { cpu: "100m", memory: "128Mi" },
        limits: { cpu: "1", memory: "512Mi" },
      },
      ingressClassResource: { name: ingressClassName, enabled: true, default: false },
      watchIngressWithoutClass: false,
      // Snippet annotations let anyone who can write an Ingress inject nginx configuration.
      allowSnippetAnnotations: false,
      config: {
        "server-tokens": "false",
        "ssl-protocols": "TLSv1.2 TLSv1.3",
        hsts: "true",
        "hsts-include-subdomains": "true",
      },
      metrics: { enabled: true, port: 10254, serviceMonitor: { enabled: false } },
      service: serviceValues(loadBalancer),
      admissionWebhooks: {
        enabled: true,
        createSecretJob: { securityContext: jobSecurityContext, resources: jobResources },
        patchWebhookJob: { securityContext: jobSecurityContext, resources: jobResources },
      },
    },
    defaultBackend: { enabled: false },
  };
}

function serviceValues(loadBalancer: "nlb" | "none") {
  if (loadBalancer === "none") return { type: "NodePort" };
  return {
    type: "LoadBalancer",
    // Local keeps the client's address visible to nginx and skips a second hop between nodes.
    externalTrafficPolicy: "Local",
    annotations: {
      "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
      "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
      "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
    },
  };
}
