import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ClusterAccess } from "../clusterAccess";
import type { MonitoringSettings } from "../../settings";
import { alertmanagerConfigFile } from "./alertmanagerConfig";
import { dashboardLabel, kubePrometheusStackChart, kubePrometheusStackValues } from "./chartValues";
import { Bot3Monitors, type ScrapedObjects } from "./bot3Monitors";

const grafanaAdminSecret = "grafana-admin";
const alertmanagerConfigSecret = "alertmanager-bot3-config";

export interface MonitoringStackArgs {
  /** `storageClasses.default` holds the Prometheus and Alertmanager volumes; the provider. */
  cluster: ClusterAccess;
  /** Scrape interval, retention, volume size, receivers and runbook URL. */
  monitoring: MonitoringSettings;
  /** Webhook URL of each receiver in `monitoring.receivers`; secret Outputs. */
  alertWebhookUrls: Record<string, pulumi.Input<string>>;
  /** Public host name of Grafana, served over TLS by the `nginx` ingress class. */
  grafanaHost: string;
  /**
   * Name of the cert-manager ClusterIssuer that signs Grafana's certificate. The issuer is
   * referenced by annotation only: cert-manager issues the certificate once both exist.
   */
  clusterIssuer: string;
  /** What Bot3 runs and Prometheus scrapes: the engine, its data stores and the backup. */
  scraped: ScrapedObjects;
  /** Namespace of the chart's components. Default `monitoring`. */
  namespace?: string;
  /**
   * Resources the release waits for, such as the ingress controller whose admission webhook
   * must answer before Grafana's Ingress can be created. Default none.
   */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * kube-prometheus-stack (Prometheus, Alertmanager, Grafana, the operator, kube-state-metrics
 * and node-exporter) with Bot3's ServiceMonitors, alert rules and dashboards. Build it only
 * when `bot3:monitoring.enabled` is true. Grafana's admin password and the webhook URLs reach
 * the chart only through Secrets this component writes.
 */
export class MonitoringStack extends pulumi.ComponentResource {
  /** The namespace of Prometheus, Alertmanager and Grafana. */
  readonly namespace: pulumi.Output<string>;
  /** Grafana's address. */
  readonly grafanaUrl: pulumi.Output<string>;
  /** The release that installs the prometheus-operator CRDs. */
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:monitoring:MonitoringStack", name, {}, opts);
    const childOpts = { parent: this, provider: args.cluster.provider };
    const namespaceName = args.namespace ?? "monitoring";
    const labels = { "app.kubernetes.io/part-of": "bot3" };
    const nodeExporterNamespaceName = `${namespaceName}-node-exporter`;

    // Every component of the chart except node-exporter runs as non-root without host
    // access, so the release namespace enforces the restricted profile. node-exporter shares
    // the node's network and PID namespaces and mounts hostPath volumes, which even the
    // baseline profile forbids; it gets a namespace of its own that holds nothing else.
    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: namespaceName, labels: { ...labels, ...podSecurity("restricted") } } },
      childOpts,
    );
    const nodeExporterNamespace = new k8s.core.v1.Namespace(
      `${name}-node-exporter-namespace`,
      {
        metadata: {
          name: nodeExporterNamespaceName,
          labels: { ...labels, ...podSecurity("privileged") },
        },
      },
      childOpts,
    );
    this.namespace = namespace.metadata.name;

    const adminPassword = new random.RandomPassword(
      `${name}-grafana-admin-password`,
      { length: 32, special: false },
      { parent: this },
    );
    const grafanaAdmin = new k8s.core.v1.Secret(
      `${name}-grafana-admin`,
      {
        metadata: { name: grafanaAdminSecret, namespace: this.namespace, labels },
        type: "Opaque",
        stringData: { "admin-user": "admin", "admin-password": adminPassword.result },
      },
      childOpts,
    );

    const receivers = args.monitoring.receivers.map((receiver) => {
      const url = args.alertWebhookUrls[receiver];
      if (url === undefined) {
        throw new Error(
          `bot3:monitoring.receivers lists ${receiver}, but bot3:alertWebhookUrls.${receiver} ` +
            `is not set; run pulumi config set --secret --path bot3:alertWebhookUrls.${receiver} <url>`,
        );
      }
      return pulumi.output(url).apply((u) => ({ name: receiver, url: u }));
    });
    const alertmanagerConfig = new k8s.core.v1.Secret(
      `${name}-alertmanager-config`,
      {
        metadata: { name: alertmanagerConfigSecret, namespace: this.namespace, labels },
        type: "Opaque",
        stringData: {
          "alertmanager.yaml": pulumi.secret(pulumi.all(receivers).apply(alertmanagerConfigFile)),
        },
      },
      childOpts,
    );

    const values = kubePrometheusStackValues({
      monitoring: args.monitoring,
      namespace: namespaceName,
      nodeExporterNamespace: nodeExporterNamespaceName,
      storageClass: args.cluster.storageClasses.default,
      grafanaHost: args.grafanaHost,
      clusterIssuer: args.clusterIssuer,
      grafanaAdminSecret,
      alertmanagerConfigSecret,
    });
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: kubePrometheusStackChart.releaseName,
        chart: kubePrometheusStackChart.chart,
        version: kubePrometheusStackChart.version,
        repositoryOpts: { repo: kubePrometheusStackChart.repo },
        namespace: this.namespace,
        atomic: true,
        timeout: kubePrometheusStackChart.timeoutSeconds,
        values,
      },
      {
        ...childOpts,
        // The chart names these by plain string: Grafana and Alertmanager pods fail to start,
        // and the atomic release rolls back, if the Secrets or node-exporter's namespace are
        // not there yet.
        dependsOn: [
          grafanaAdmin,
          alertmanagerConfig,
          nodeExporterNamespace,
          ...(args.dependsOn ?? []),
        ],
      },
    );

    new Bot3Monitors(
      `${name}-bot3`,
      {
        provider: args.cluster.provider,
        release: this.release,
        monitoringNamespace: this.namespace,
        monitoring: args.monitoring,
        scraped: args.scraped,
        dashboardLabel,
      },
      { parent: this },
    );

    this.grafanaUrl = pulumi.output(`https://${args.grafanaHost}`);
    this.registerOutputs({ namespace: this.namespace, grafanaUrl: this.grafanaUrl });
  }
}

function podSecurity(level: "restricted" | "privileged"): Record<string, string> {
  return Object.fromEntries(
    ["enforce", "audit", "warn"].flatMap((mode) => [
      [`pod-security.kubernetes.io/${mode}`, level],
      [`pod-security.kubernetes.io/${mode}-version`, "latest"],
    ]),
  );
}
