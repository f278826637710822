import { bucketSeries, engineMetrics } from "./metrics";
import { dashboard, GrafanaDashboard, PanelSpec } from "./grafanaDashboard";
import {
  AlertRuleSettings,
  defaultAlertRuleSettings,
  validateAlertRuleSettings,
} from "./alertRuleSettings";

export { GrafanaDashboard, datasourceRef } from "./grafanaDashboard";

/**
 * What the dashboards show: the alert rules' settings of the same names, so that a panel and
 * the alert about it look at the same objects. Without the data stores in the cluster the
 * PostgreSQL and Redis panels are left out: managed stores publish to CloudWatch instead.
 */
export type DashboardSettings = Pick<
  AlertRuleSettings,
  | "namespace"
  | "engineScrapeJob"
  | "engineAutoscaler"
  | "backupCronJob"
  | "maxBackupAgeSeconds"
  | "dataStoresInCluster"
>;

// Grafana widens this to at least four scrape intervals, so rates never fall between samples.
const rateWindow = "[$__rate_interval]";

/**
 * The Bot3 dashboards: trading performance, system, and data and risk. Throws, naming the
 * setting, when a setting is invalid.
 */
export function buildDashboards(settings: DashboardSettings): GrafanaDashboard[] {
  validateAlertRuleSettings({ ...defaultAlertRuleSettings, ...settings });
  return [
    dashboard("bot3-trading", "Bot3 trading performance", tradingPanels(settings)),
    dashboard("bot3-system", "Bot3 system", systemPanels(settings)),
    dashboard("bot3-data-risk", "Bot3 data and risk", dataAndRiskPanels(settings)),
  ];
}

function tradingPanels(s: DashboardSettings): PanelSpec[] {
  const engine = `{namespace="${s.namespace}", job="${s.engineScrapeJob}"}`;
  const { orderLatency, ordersSubmitted, ordersFilled, ordersRejected } = engineMetrics;
  const { requests, requestErrors, realizedPnl, unrealizedPnl, openPositions } = engineMetrics;
  const rate = (name: string, by = ""): string =>
    `sum${by ? ` by (${by})` : ""} (rate(${name}${engine}${rateWindow}))`;
  const latency = (quantile: number): [string, string] => [
    `histogram_quantile(${quantile}, ${rate(bucketSeries(orderLatency), "le")})`,
    `p${quantile * 100}`,
  ];
  return [
    { title: "Order latency", unit: "s", width: 24, queries: [0.5, 0.95, 0.99].map(latency) },
    {
      title: "Order throughput",
      unit: "ops",
      queries: [
        [rate(ordersSubmitted.name), "submitted"],
        [rate(ordersFilled.name), "filled"],
        [rate(ordersRejected.name), "rejected"],
      ],
    },
    {
      title: "Fill ratio",
      unit: "percentunit",
      range: { min: 0, max: 1 },
      queries: [[`${rate(ordersFilled.name)} / ${rate(ordersSubmitted.name)}`, "filled"]],
    },
    {
      title: "Rejections by reason",
      unit: "ops",
      queries: [[rate(ordersRejected.name, "reason"), "{{reason}}"]],
    },
    {
      title: "Venue request error ratio",
      unit: "percentunit",
      queries: [
        [`${rate(requestErrors.name, "venue")} / ${rate(requests.name, "venue")}`, "{{venue}}"],
      ],
    },
    {
      title: "Realized P&L by strategy",
      unit: "currencyUSD",
      queries: [[`sum by (strategy) (${realizedPnl.name}${engine})`, "{{strategy}}"]],
    },
    {
      title: "Unrealized P&L by strategy",
      unit: "currencyUSD",
      queries: [[`sum by (strategy) (${unrealizedPnl.name}${engine})`, "{{strategy}}"]],
    },
    {
      title: "Total P&L",
      type: "stat",
      unit: "currencyUSD",
      queries: [
        [`sum(${realizedPnl.name}${engine}) + sum(${unrealizedPnl.name}${engine})`, "total"],
      ],
    },
    {
      title: "Open positions by venue",
      unit: "short",
      queries: [[`sum by (venue) (${openPositions.name}${engine})`, "{{venue}}"]],
    },
  ];
}

function systemPanels(s: DashboardSettings): PanelSpec[] {
  const containers = `{namespace="${s.namespace}", container!=""}`;
  const pods = `{namespace="${s.namespace}"}`;
  const hpa = `{namespace="${s.namespace}", horizontalpodautoscaler="${s.engineAutoscaler}"}`;
  // Loopback and the per-pod virtual interfaces would count pod traffic twice per node.
  const nodeDevices = `{device!~"lo|veth.*|eni.*"}`;
  return [
    {
      title: "CPU per pod (cores)",
      unit: "short",
      queries: [
        [
          `sum by (pod) (rate(container_cpu_usage_seconds_total${containers}${rateWindow}))`,
          "{{pod}}",
        ],
      ],
    },
    {
      title: "Memory per pod (working set)",
      unit: "bytes",
      queries: [[`sum by (pod) (container_memory_working_set_bytes${containers})`, "{{pod}}"]],
    },
    {
      title: "Network per pod",
      unit: "Bps",
      queries: [
        [
          `sum by (pod) (rate(container_network_receive_bytes_total${pods}${rateWindow}))`,
          "{{pod}} in",
        ],
        [
          `sum by (pod) (rate(container_network_transmit_bytes_total${pods}${rateWindow}))`,
          "{{pod}} out",
        ],
      ],
    },
    {
      title: "Engine autoscaler replicas",
      unit: "short",
      queries: [
        [`max(kube_horizontalpodautoscaler_status_current_replicas${hpa})`, "current"],
        [`max(kube_horizontalpodautoscaler_status_desired_replicas${hpa})`, "desired"],
        [`max(kube_horizontalpodautoscaler_spec_min_replicas${hpa})`, "minimum"],
        [`max(kube_horizontalpodautoscaler_spec_max_replicas${hpa})`, "maximum"],
      ],
    },
    {
      title: "CPU per node",
      unit: "percentunit",
      range: { min: 0, max: 1 },
      queries: [
        [
          `1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}${rateWindow}))`,
          "{{instance}}",
        ],
      ],
    },
    {
      title: "Memory used per node",
      unit: "percentunit",
      range: { min: 0, max: 1 },
      queries: [
        ["1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes", "{{instance}}"],
      ],
    },
    {
      title: "Network per node",
      unit: "Bps",
      queries: [
        [
          `sum by (instance) (rate(node_network_receive_bytes_total${nodeDevices}${rateWindow}))`,
          "{{instance}} in",
        ],
        [
          `sum by (instance) (rate(node_network_transmit_bytes_total${nodeDevices}${rateWindow}))`,
          "{{instance}} out",
        ],
      ],
    },
    {
      title: "Container restarts in the last hour",
      unit: "short",
      queries: [
        [`sum by (pod) (increase(kube_pod_container_status_restarts_total${pods}[1h]))`, "{{pod}}"],
      ],
    },
  ];
}

function dataAndRiskPanels(s: DashboardSettings): PanelSpec[] {
  const ns = `{namespace="${s.namespace}"}`;
  const engine = `{namespace="${s.namespace}", job="${s.engineScrapeJob}"}`;
  const cronJob = `{namespace="${s.namespace}", cronjob="${s.backupCronJob}"}`;
  const claims = "max by (persistentvolumeclaim)";
  const volumeAvailable = `kubelet_volume_stats_available_bytes${ns}`;
  const volumeCapacity = `kubelet_volume_stats_capacity_bytes${ns}`;
  const dataStorePanels: PanelSpec[] = [
    {
      title: "PostgreSQL connections",
      unit: "short",
      queries: [
        [`sum(pg_stat_database_numbackends${ns})`, "open"],
        [`max(pg_settings_max_connections${ns})`, "maximum"],
      ],
    },
    {
      title: "Redis operations",
      unit: "ops",
      queries: [[`sum(rate(redis_commands_processed_total${ns}${rateWindow}))`, "commands"]],
    },
    {
      title: "Redis clients",
      unit: "short",
      queries: [[`sum(redis_connected_clients${ns})`, "clients"]],
    },
    {
      title: "Redis memory",
      unit: "bytes",
      queries: [[`sum(redis_memory_used_bytes${ns})`, "used"]],
    },
  ];
  return [
    {
      title: "Risk-limit usage",
      type: "gauge",
      unit: "percentunit",
      range: { min: 0, max: 1 },
      warnAt: [0.8, 0.95],
      queries: [[`max by (limit) (${engineMetrics.riskLimitUsage.name}${engine})`, "{{limit}}"]],
    },
    {
      title: "Time since the last successful backup",
      type: "stat",
      unit: "s",
      warnAt: [s.maxBackupAgeSeconds * 0.75, s.maxBackupAgeSeconds],
      queries: [[`time() - max(kube_cronjob_status_last_successful_time${cronJob})`, "age"]],
    },
    ...(s.dataStoresInCluster ? dataStorePanels : []),
    {
      title: "Volume usage",
      unit: "percentunit",
      range: { min: 0, max: 1 },
      width: 24,
      queries: [
        [
          `1 - ${claims} (${volumeAvailable}) / ${claims} (${volumeCapacity})`,
          "{{persistentvolumeclaim}}",
        ],
      ],
    },
  ];
}
