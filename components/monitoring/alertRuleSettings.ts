import { engineMetrics } from "./metrics";

/** What the alert rules watch and where their thresholds lie. */
export interface AlertRuleSettings {
  /** Namespace of the engine, its data stores and the backup CronJob. Default `bot3`. */
  namespace: string;
  /** Name of the engine Deployment. Default `bot3-engine`. */
  engineDeployment: string;
  /** Name of the engine's HorizontalPodAutoscaler. Default `bot3-engine`. */
  engineAutoscaler: string;
  /**
   * The `job` label Prometheus gives the engine's scrape targets; a ServiceMonitor sets it
   * to the Service name unless `jobLabel` says otherwise. Default `bot3-engine`.
   */
  engineScrapeJob: string;
  /**
   * The order latency p99 above which `Bot3OrderLatencyHigh` fires, in seconds. Default
   * 0.25. Must not exceed the largest finite bucket of the order latency histogram, since
   * `histogram_quantile` cannot estimate beyond it.
   */
  p99LatencyThresholdSeconds: number;
  /** Failed fraction of venue requests above which `Bot3EngineErrorRateHigh` fires. 0.05. */
  errorRateThreshold: number;
  /** Name of the PostgreSQL backup CronJob. Default `bot3-postgres-backup`. */
  backupCronJob: string;
  /**
   * The age of the last successful backup, in seconds, after which `Bot3BackupTooOld`
   * fires. The caller derives it from the CronJob schedule (one period plus the time a
   * backup takes, plus slack). Default 93600 (26 hours, for a daily backup).
   */
  maxBackupAgeSeconds: number;
  /**
   * Whether PostgreSQL and Redis run in the cluster with their exporters. When false
   * (RDS/ElastiCache) the `Bot3PostgresDown` and `Bot3RedisDown` alerts are not created,
   * because their metrics never exist. Default true.
   */
  dataStoresInCluster: boolean;
  /**
   * Whether the backup CronJob exists. When false (`bot3:backup.enabled` off) the
   * `Bot3BackupTooOld` alert is not created: it would fire forever. Default true.
   */
  backupsEnabled: boolean;
  /**
   * The label that carries a certificate's namespace on cert-manager's metrics:
   * `exported_namespace` when its ServiceMonitor keeps Prometheus' own `namespace` label
   * (the chart default), `namespace` when it sets `honorLabels: true`. Default
   * `exported_namespace`.
   */
  certificateNamespaceLabel: "namespace" | "exported_namespace";
  /**
   * URL of `docs/runbook.md` as people open it; each alert links to `<url>#<alert name in
   * lower case>`. Must be http(s) and carry no `#` fragment.
   */
  runbookBaseUrl: string;
}

/** The settings the committed `monitoring/rules/bot3-alerts.yaml` is generated from. */
export const defaultAlertRuleSettings: Readonly<AlertRuleSettings> = {
  namespace: "bot3",
  engineDeployment: "bot3-engine",
  engineAutoscaler: "bot3-engine",
  engineScrapeJob: "bot3-engine",
  p99LatencyThresholdSeconds: 0.25,
  errorRateThreshold: 0.05,
  backupCronJob: "bot3-postgres-backup",
  maxBackupAgeSeconds: 26 * 3600,
  dataStoresInCluster: true,
  backupsEnabled: true,
  certificateNamespaceLabel: "exported_namespace",
  runbookBaseUrl: "https://github.com/bot3/platform/blob/main/docs/runbook.md",
};

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Throws an error naming the first invalid setting and how to fix it. */
export function validateAlertRuleSettings(s: AlertRuleSettings): void {
  if (!dnsLabel.test(s.namespace) || s.namespace.length > 63) {
    fail("namespace", s.namespace, "use lower-case letters, digits and '-', up to 63 characters");
  }
  const objectNames = [
    ["engineDeployment", s.engineDeployment],
    ["engineAutoscaler", s.engineAutoscaler],
    ["backupCronJob", s.backupCronJob],
  ] as const;
  for (const [field, value] of objectNames) {
    if (!dnsSubdomain.test(value) || value.length > 253) {
      fail(field, value, "use a Kubernetes object name: lower-case letters, digits, '-' and '.'");
    }
  }
  if (s.engineScrapeJob === "" || /["\\\n]/.test(s.engineScrapeJob)) {
    fail("engineScrapeJob", s.engineScrapeJob, "use the non-empty job label, without quotes");
  }
  const buckets = engineMetrics.orderLatency.buckets;
  const largestBucket = buckets[buckets.length - 1];
  const latency = s.p99LatencyThresholdSeconds;
  if (!(latency > 0 && latency <= largestBucket)) {
    fail(
      "p99LatencyThresholdSeconds",
      latency,
      `use a number of seconds above 0 and at most ${largestBucket}, the largest latency bucket`,
    );
  }
  if (!(s.errorRateThreshold > 0 && s.errorRateThreshold < 1)) {
    fail("errorRateThreshold", s.errorRateThreshold, "use a ratio between 0 and 1, e.g. 0.05");
  }
  if (!Number.isInteger(s.maxBackupAgeSeconds) || s.maxBackupAgeSeconds < 3600) {
    fail(
      "maxBackupAgeSeconds",
      s.maxBackupAgeSeconds,
      "use whole seconds, at least 3600: one backup period plus the backup's duration",
    );
  }
  if (!/^https?:\/\/[^\s#]+$/.test(s.runbookBaseUrl)) {
    fail("runbookBaseUrl", s.runbookBaseUrl, "use an http(s) URL of docs/runbook.md without '#'");
  }
}

function fail(field: string, value: string | number, fix: string): never {
  throw new Error(`Monitoring setting ${field} is ${JSON.stringify(value)}: ${fix}.`);
}
