import { bucketSeries, engineMetrics } from "./metrics";
import { AlertRuleSettings, validateAlertRuleSettings } from "./alertRuleSettings";

export { AlertRuleSettings, defaultAlertRuleSettings } from "./alertRuleSettings";

/** Critical alerts page someone now; warnings are for working hours. */
export type Severity = "critical" | "warning";

/** One alerting rule, in the shape of a Prometheus rule file. */
export interface AlertingRule {
  alert: string;
  expr: string;
  /** How long the condition must hold before the alert fires. */
  for: string;
  labels: { severity: Severity };
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface RuleGroup {
  name: string;
  rules: AlertingRule[];
}

/** A Prometheus rule file; also the `spec` of a prometheus-operator `PrometheusRule`. */
export interface PrometheusRuleFile {
  groups: RuleGroup[];
}

/** The alerts that exist only when PostgreSQL and Redis run in the cluster. */
export const dataStoreAlertNames = ["Bot3PostgresDown", "Bot3RedisDown"] as const;

// cert-manager renews a certificate when a third of its lifetime is left (30 days for the
// usual 90-day certificate), so two weeks left means renewal has failed for two weeks.
const certificateMinimumLifetimeSeconds = 14 * 24 * 3600;
// Below this free fraction a PostgreSQL volume has little room for WAL bursts and vacuum.
const volumeMinimumFreeRatio = 0.15;

/**
 * Builds the platform's alert rule groups. Throws, naming the setting, when a setting is
 * invalid. The data-store group exists only when PostgreSQL and Redis run in the cluster,
 * because managed stores have no exporters and their "down" alerts would fire forever.
 */
export function buildAlertRules(settings: AlertRuleSettings): PrometheusRuleFile {
  validateAlertRuleSettings(settings);
  const groups = [engineGroup(settings), platformGroup(settings)];
  if (settings.dataStoresInCluster) groups.push(dataStoreGroup(settings));
  return { groups };
}

function engineGroup(s: AlertRuleSettings): RuleGroup {
  const ns = `namespace="${s.namespace}"`;
  const deployment = `{${ns}, deployment="${s.engineDeployment}"}`;
  const target = `{${ns}, job="${s.engineScrapeJob}"}`;
  const hpa = `{${ns}, horizontalpodautoscaler="${s.engineAutoscaler}"}`;
  const byHpa = "max by (namespace, horizontalpodautoscaler)";
  const where = `${s.namespace}/${s.engineDeployment}`;
  const available = `kube_deployment_status_replicas_available${deployment}`;
  const errorLimit = percent(s.errorRateThreshold);
  const { orderLatency, requestErrors, requests } = engineMetrics;
  return {
    name: "bot3-engine",
    rules: [
      rule(s, "Bot3EngineUnavailable", "critical", "2m", {
        expr: lines(
          `(max by (namespace, deployment) (${available}) < 1)`,
          `or absent(${available})`,
        ),
        summary: `The trading engine ${where} has no available pod.`,
        description:
          `Deployment ${where} has no available replica, or kube-state-metrics does not ` +
          "report it at all; the engine is not trading.",
      }),
      rule(s, "Bot3EngineScrapeFailing", "critical", "5m", {
        expr: lines(`(max by (namespace, job) (up${target}) == 0)`, `or absent(up${target})`),
        summary: `Prometheus cannot scrape any trading engine pod in ${s.namespace}.`,
        description:
          `No target of job ${s.engineScrapeJob} in namespace ${s.namespace} is up, so every ` +
          "engine alert (latency, errors) is blind.",
      }),
      rule(s, "Bot3OrderLatencyHigh", "warning", "10m", {
        expr: lines(
          "histogram_quantile(0.99,",
          `  sum by (namespace, le) (rate(${bucketSeries(orderLatency)}${target}[5m]))`,
          `) > ${s.p99LatencyThresholdSeconds}`,
        ),
        summary: `Order latency p99 in ${s.namespace} is above ${s.p99LatencyThresholdSeconds}s.`,
        description:
          "The 99th percentile of order acknowledgement latency is " +
          `{{ $value | humanizeDuration }} (threshold ${s.p99LatencyThresholdSeconds}s).`,
      }),
      // Limitation: with very little traffic one failed request is a large ratio; the
      // 10-minute hold damps that, but a quiet venue can still raise this alert.
      rule(s, "Bot3EngineErrorRateHigh", "critical", "10m", {
        expr: lines(
          `sum by (namespace) (rate(${requestErrors.name}${target}[5m]))`,
          `/ sum by (namespace) (rate(${requests.name}${target}[5m]))`,
          `> ${s.errorRateThreshold}`,
        ),
        summary: `Venue request errors in ${s.namespace} are above ${errorLimit}.`,
        description:
          "{{ $value | humanizePercentage }} of the engine's venue requests fail " +
          `(threshold ${errorLimit}).`,
      }),
      rule(s, "Bot3EngineAutoscalerAtMaximum", "warning", "15m", {
        expr: lines(
          `(${byHpa} (kube_horizontalpodautoscaler_status_current_replicas${hpa})`,
          `  >= ${byHpa} (kube_horizontalpodautoscaler_spec_max_replicas${hpa}))`,
          "and on (namespace, horizontalpodautoscaler)",
          `(${byHpa} (kube_horizontalpodautoscaler_spec_max_replicas${hpa})`,
          `  > ${byHpa} (kube_horizontalpodautoscaler_spec_min_replicas${hpa}))`,
        ),
        summary: `The engine autoscaler ${s.namespace}/${s.engineAutoscaler} is at its maximum.`,
        description:
          `HorizontalPodAutoscaler ${s.namespace}/${s.engineAutoscaler} has run ` +
          "{{ $value }} replicas, its maximum, for 15 minutes; load beyond this is not absorbed.",
      }),
    ],
  };
}

function platformGroup(s: AlertRuleSettings): RuleGroup {
  const ns = `namespace="${s.namespace}"`;
  const byPod = "max by (namespace, pod, container)";
  const byClaim = "max by (namespace, persistentvolumeclaim)";
  const cronJob = `{${ns}, cronjob="${s.backupCronJob}"}`;
  const maxAge = s.maxBackupAgeSeconds;
  const byCronJob = "max by (namespace, cronjob)";
  const lastSuccess = `kube_cronjob_status_last_successful_time${cronJob}`;
  const crashLoop = `kube_pod_container_status_waiting_reason{${ns}, reason="CrashLoopBackOff"}`;
  const minimumFree = percent(volumeMinimumFreeRatio);
  return {
    name: "bot3-platform",
    rules: [
      rule(s, "Bot3PodCrashLooping", "warning", "10m", {
        expr: lines(
          `${byPod} (max_over_time(${crashLoop}[5m])) >= 1`,
          `or ${byPod} (increase(kube_pod_container_status_restarts_total{${ns}}[15m])) > 3`,
        ),
        summary: "Container {{ $labels.container }} of pod {{ $labels.pod }} is crash-looping.",
        description:
          "Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} " +
          "is in CrashLoopBackOff or restarted more than 3 times in 15 minutes.",
      }),
      rule(s, "Bot3VolumeFillingUp", "warning", "15m", {
        expr: lines(
          `${byClaim} (kubelet_volume_stats_available_bytes{${ns}})`,
          `/ ${byClaim} (kubelet_volume_stats_capacity_bytes{${ns}})`,
          `< ${volumeMinimumFreeRatio}`,
        ),
        summary: "Volume {{ $labels.persistentvolumeclaim }} is almost full.",
        description:
          "PersistentVolumeClaim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} " +
          `has {{ $value | humanizePercentage }} free (minimum ${minimumFree}).`,
      }),
      rule(s, "Bot3CertificateExpiringSoon", "warning", "1h", {
        expr: `${certificateExpiry(s)} - time() < ${certificateMinimumLifetimeSeconds}`,
        summary: "Certificate {{ $labels.name }} expires in less than 14 days.",
        description:
          "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in " +
          "{{ $value | humanizeDuration }}; cert-manager has not renewed it.",
      }),
      // Nodes belong to no namespace: the platform owns its EKS cluster, so any node counts.
      rule(s, "Bot3NodeNotReady", "warning", "15m", {
        expr: 'max by (node) (kube_node_status_condition{condition="Ready", status="true"}) == 0',
        summary: "Node {{ $labels.node }} is not ready.",
        description:
          "Node {{ $labels.node }} has not reported Ready for 15 minutes; its pods are " +
          "being evicted or are unreachable.",
      }),
      ...(s.backupsEnabled ? [backupTooOld(s, byCronJob, lastSuccess, cronJob, maxAge)] : []),
    ],
  };
}

function backupTooOld(
  s: AlertRuleSettings,
  byCronJob: string,
  lastSuccess: string,
  cronJob: string,
  maxAge: number,
): AlertingRule {
  return rule(s, "Bot3BackupTooOld", "warning", "15m", {
    expr: lines(
      `(time() - ${byCronJob} (${lastSuccess}) > ${maxAge})`,
      `or ((time() - ${byCronJob} (kube_cronjob_created${cronJob}) > ${maxAge})`,
      `  unless on (namespace, cronjob) ${lastSuccess})`,
      `or absent(kube_cronjob_created${cronJob})`,
    ),
    summary: `The PostgreSQL backup ${s.namespace}/${s.backupCronJob} is overdue.`,
    description:
      `CronJob ${s.namespace}/${s.backupCronJob} has not completed a backup in the last ` +
      `${duration(maxAge)} (the allowed age), or the CronJob does not exist.`,
  });
}

function dataStoreGroup(s: AlertRuleSettings): RuleGroup {
  const ns = `{namespace="${s.namespace}"}`;
  return {
    name: "bot3-data-stores",
    rules: [
      rule(s, "Bot3PostgresDown", "critical", "2m", {
        expr: `(min by (namespace) (pg_up${ns}) == 0) or absent(pg_up${ns})`,
        summary: `PostgreSQL in ${s.namespace} is down.`,
        description:
          `postgres_exporter in namespace ${s.namespace} cannot reach PostgreSQL, or is not ` +
          "scraped at all; the engine cannot persist orders.",
      }),
      rule(s, "Bot3RedisDown", "critical", "2m", {
        expr: `(min by (namespace) (redis_up${ns}) == 0) or absent(redis_up${ns})`,
        summary: `Redis in ${s.namespace} is down.`,
        description:
          `redis_exporter in namespace ${s.namespace} cannot reach Redis, or is not scraped ` +
          "at all; the engine loses its cache and order book state.",
      }),
    ],
  };
}

interface RuleText {
  expr: string;
  summary: string;
  description: string;
}

function rule(
  s: AlertRuleSettings,
  alert: string,
  severity: Severity,
  holdFor: string,
  text: RuleText,
): AlertingRule {
  return {
    alert,
    expr: text.expr,
    for: holdFor,
    labels: { severity },
    annotations: {
      summary: text.summary,
      description: text.description,
      runbook_url: `${s.runbookBaseUrl}#${runbookAnchor(alert)}`,
    },
  };
}

/** The Markdown heading anchor of an alert's runbook section (`### <alert name>`). */
export function runbookAnchor(alertName: string): string {
  return alertName.toLowerCase();
}

/** The certificates' expiry timestamps, with the certificate's namespace in `namespace`. */
function certificateExpiry(s: AlertRuleSettings): string {
  const metric = "certmanager_certificate_expiration_timestamp_seconds";
  if (s.certificateNamespaceLabel === "namespace") {
    return `min by (namespace, name) (${metric}{namespace="${s.namespace}"})`;
  }
  const selected = `${metric}{exported_namespace="${s.namespace}"}`;
  const relabeled = `label_replace(${selected}, "namespace", "$1", "exported_namespace", "(.*)")`;
  return `min by (namespace, name) (${relabeled})`;
}

function lines(...parts: string[]): string {
  return parts.join("\n");
}

function percent(ratio: number): string {
  return `${+(ratio * 100).toFixed(2)}%`;
}

function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
