import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MonitoringSettings } from "../../settings";
import { buildAlertRules, defaultAlertRuleSettings, type AlertRuleSettings } from "./alertRules";
import { maxBackupAgeSeconds } from "./backupSchedule";
import { buildDashboards } from "./dashboards";

/** What Bot3 runs in its namespace and Prometheus watches. */
export interface ScrapedObjects {
  /** The engine's namespace as created, so the ServiceMonitors wait for it. */
  namespace: pulumi.Input<string>;
  /** The same namespace's name, known before deployment: rules and dashboards embed it. */
  namespaceName: string;
  /**
   * Name of the engine's Deployment, HorizontalPodAutoscaler and Service. The Service must
   * carry the label `app.kubernetes.io/name: <engine>` and a port named `metrics`.
   */
  engine: string;
  /** PostgreSQL runs in the cluster, with a postgres_exporter Service. */
  postgresInCluster: boolean;
  /** Redis runs in the cluster, with a redis_exporter Service. */
  redisInCluster: boolean;
  /**
   * Cron schedule of the PostgreSQL backup; the backup age alert allows one period. Undefined
   * when backups are off, and then there is no backup age alert.
   */
  backupSchedule?: string;
}

export interface Bot3MonitorsArgs {
  /** The cluster's provider. */
  provider: k8s.Provider;
  /** The kube-prometheus-stack release that installs the ServiceMonitor and rule CRDs. */
  release: pulumi.Resource;
  /** Namespace of the release; the rules and dashboards go there. */
  monitoringNamespace: pulumi.Input<string>;
  /** Scrape interval and runbook URL. */
  monitoring: MonitoringSettings;
  scraped: ScrapedObjects;
  /** The label by which Grafana's dashboard sidecar finds ConfigMaps. */
  dashboardLabel: Readonly<Record<string, string>>;
}

// Exporter Services of the data stores carry this label and a port named `metrics`.
const exporterLabel = { "app.kubernetes.io/component": "metrics" };
const labels = { "app.kubernetes.io/part-of": "bot3" };

/**
 * The alert rule settings of a stack. Both data stores must run in the cluster for the
 * data-store alerts to exist: their "down" alerts fire on an absent exporter.
 */
export function alertRuleSettingsFor(
  monitoring: MonitoringSettings,
  scraped: ScrapedObjects,
): AlertRuleSettings {
  return {
    ...defaultAlertRuleSettings,
    namespace: scraped.namespaceName,
    engineDeployment: scraped.engine,
    engineAutoscaler: scraped.engine,
    engineScrapeJob: scraped.engine,
    ...(scraped.backupSchedule === undefined
      ? { backupsEnabled: false }
      : { maxBackupAgeSeconds: maxBackupAgeSeconds(scraped.backupSchedule) }),
    // Limitation: with only one store in the cluster its "down" alert is left out as well,
    // since alertRules.ts has one switch for both.
    dataStoresInCluster: scraped.postgresInCluster && scraped.redisInCluster,
    runbookBaseUrl: monitoring.runbookUrl,
  };
}

/**
 * Bot3's own monitoring objects: ServiceMonitors for the engine and the in-cluster data
 * stores' exporters, the PrometheusRule from alertRules.ts, and the dashboards as ConfigMaps.
 *
 * RDS and ElastiCache have no exporter: their health is in CloudWatch (AWS/RDS
 * DatabaseConnections, FreeStorageSpace, CPUUtilization; AWS/ElastiCache CurrConnections,
 * DatabaseMemoryUsagePercentage, EngineCPUUtilization) and in RDS and ElastiCache events.
 * Limitation: none of that is wired into Prometheus or Grafana; a CloudWatch data source with
 * its own IRSA role, or a CloudWatch exporter, would bring it in.
 */
export class Bot3Monitors extends pulumi.ComponentResource {
  constructor(name: string, a: Bot3MonitorsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:monitoring:Bot3Monitors", name, {}, opts);
    // The CRDs of ServiceMonitor and PrometheusRule exist only once the release is installed.
    const customOpts = { parent: this, provider: a.provider, dependsOn: [a.release] };
    const { scraped, monitoring } = a;
    const ruleSettings = alertRuleSettingsFor(monitoring, scraped);

    new k8s.apiextensions.CustomResource(
      `${name}-engine-monitor`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name: scraped.engine, namespace: scraped.namespace, labels },
        spec: {
          selector: { matchLabels: { "app.kubernetes.io/name": scraped.engine } },
          namespaceSelector: { matchNames: [scraped.namespaceName] },
          endpoints: [{ port: "metrics", path: "/metrics", interval: monitoring.scrapeInterval }],
        },
      },
      customOpts,
    );

    if (scraped.postgresInCluster || scraped.redisInCluster) {
      new k8s.apiextensions.CustomResource(
        `${name}-exporter-monitor`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "ServiceMonitor",
          metadata: { name: "bot3-data-store-exporters", namespace: scraped.namespace, labels },
          spec: {
            // Any exporter Service of the namespace, but never the engine's, which the
            // engine monitor already scrapes.
            selector: {
              matchLabels: exporterLabel,
              matchExpressions: [
                { key: "app.kubernetes.io/name", operator: "NotIn", values: [scraped.engine] },
              ],
            },
            namespaceSelector: { matchNames: [scraped.namespaceName] },
            endpoints: [{ port: "metrics", interval: monitoring.scrapeInterval }],
          },
        },
        customOpts,
      );
    }

    new k8s.apiextensions.CustomResource(
      `${name}-alert-rules`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "bot3-alerts", namespace: a.monitoringNamespace, labels },
        spec: buildAlertRules(ruleSettings),
      },
      customOpts,
    );

    for (const dashboard of buildDashboards(ruleSettings)) {
      new k8s.core.v1.ConfigMap(
        `${name}-dashboard-${dashboard.uid}`,
        {
          metadata: {
            name: `${dashboard.uid}-dashboard`,
            namespace: a.monitoringNamespace,
            labels: { ...labels, ...a.dashboardLabel },
          },
          data: { [`${dashboard.uid}.json`]: JSON.stringify(dashboard, null, 2) },
        },
        { parent: this, provider: a.provider },
      );
    }
    this.registerOutputs({});
  }
}
