import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { TlsSettings } from "../settings";
import { restrictedPodSecurityLabels } from "./workloadNamespace";

/** Chart version, checked against the chart's values.yaml and its 1.21 upgrade notes. */
export const certManagerChart = {
  chart: "cert-manager",
  version: "v1.21.2",
  repo: "https://charts.jetstack.io",
} as const;

export const acmeDirectories = {
  "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
  "letsencrypt-production": "https://acme-v02.api.letsencrypt.org/directory",
} as const;

export interface CertificatesArgs {
  /** Which ClusterIssuer to create, and the ACME contact address when it is Let's Encrypt. */
  tls: TlsSettings;
  /** IngressClass that serves HTTP-01 challenges; must be the ingress controller's class. */
  ingressClassName: string;
  /**
   * Keep cert-manager's CRDs when the release is uninstalled, so a mistaken uninstall does not
   * delete every Certificate. Default false, so a stack can be torn down without manual steps.
   */
  keepCrds?: boolean;
  /** Namespace of cert-manager. Default `cert-manager`. */
  namespace?: string;
  /** The cluster's provider. */
  provider: k8s.Provider;
}

/**
 * cert-manager from its Helm chart, with its CRDs, and the ClusterIssuer that the settings
 * choose: Let's Encrypt (staging or production) over HTTP-01, or self-signed for local stacks.
 */
export class Certificates extends pulumi.ComponentResource {
  /** Name of the ClusterIssuer; Ingresses name it in `cert-manager.io/cluster-issuer`. */
  readonly issuerName: string;
  readonly issuer: k8s.apiextensions.CustomResource;
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: CertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:tls:Certificates", name, {}, opts);
    const childOpts = { parent: this, provider: args.provider };
    this.issuerName = args.tls.issuer;

    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: args.namespace ?? "cert-manager",
          labels: { ...restrictedPodSecurityLabels, "app.kubernetes.io/part-of": "bot3" },
        },
      },
      childOpts,
    );

    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: "cert-manager",
        chart: certManagerChart.chart,
        version: certManagerChart.version,
        repositoryOpts: { repo: certManagerChart.repo },
        namespace: namespace.metadata.name,
        createNamespace: false,
        atomic: true,
        cleanupOnFail: true,
        // The chart's startup check waits until the webhook answers, which takes a few minutes.
        timeout: 600,
        values: certManagerValues(args.keepCrds ?? false, args.namespace ?? "cert-manager"),
      },
      childOpts,
    );

    this.issuer = new k8s.apiextensions.CustomResource(
      `${name}-issuer`,
      {
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: this.issuerName },
        spec: clusterIssuerSpec(args.tls, args.ingressClassName),
      },
      // The ClusterIssuer kind exists only once the release has installed cert-manager's CRDs.
      { ...childOpts, dependsOn: [this.release] },
    );
    this.registerOutputs({ issuerName: this.issuerName });
  }
}

/** The ClusterIssuer's spec for the chosen issuer. */
export function clusterIssuerSpec(tls: TlsSettings, ingressClassName: string) {
  if (tls.issuer === "self-signed") return { selfSigned: {} };
  if (tls.acmeEmail === "") {
    throw new Error(
      `Certificates: bot3:tls.issuer = "${tls.issuer}" needs bot3:tls.acmeEmail, the address ` +
        "Let's Encrypt sends expiry warnings to",
    );
  }
  return {
    acme: {
      server: acmeDirectories[tls.issuer],
      email: tls.acmeEmail,
      privateKeySecretRef: { name: `${tls.issuer}-account-key` },
      solvers: [{ http01: { ingress: { ingressClassName } } }],
    },
  };
}

const podSecurityContext = { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
const containerSecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
};

/** The chart values; exported so tests read exactly what the release receives. */
export function certManagerValues(keepCrds: boolean, namespace: string) {
  const component = (cpu: string, memory: string) => ({
    securityContext: podSecurityContext,
    containerSecurityContext,
    resources: { requests: { cpu, memory }, limits: { cpu: "200m", memory: "256Mi" } },
  });
  return {
    crds: { enabled: true, keep: keepCrds },
    global: { leaderElection: { namespace } },
    // Deleting a Certificate deletes its Secret too, so no orphaned private key stays behind.
    enableCertificateOwnerRef: true,
    ...component("20m", "64Mi"),
    prometheus: { enabled: true, servicemonitor: { enabled: false } },
    webhook: component("10m", "32Mi"),
    cainjector: component("10m", "64Mi"),
    startupapicheck: component("10m", "32Mi"),
  };
}
