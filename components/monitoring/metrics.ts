/**
 * The metric contract with the trading engine: every engine metric that alert rules and
 * dashboards query is declared here, once. The engine (a separate Rust service) must expose
 * these series on its metrics endpoint; `monitoring/METRICS.md` is generated from this file.
 */

/** The Prometheus metric types the engine exposes. */
export type MetricType = "counter" | "gauge" | "histogram";

/** One metric family the engine exposes. */
export interface EngineMetric<T extends MetricType = MetricType> {
  /**
   * The exposed name. Counters include their `_total` suffix; histograms are named without
   * the `_bucket`/`_sum`/`_count` suffixes Prometheus adds to their series.
   */
  readonly name: string;
  readonly type: T;
  /** Label names, in the order the engine should declare them. Keep the values bounded. */
  readonly labels: readonly string[];
  /** The HELP text the engine exposes. */
  readonly help: string;
  /** The unit of a sample, for people; base units (seconds, ratios) where one applies. */
  readonly unit: string;
  /** Histogram bucket upper bounds in the metric's unit; only for histograms. */
  readonly buckets?: readonly number[];
}

/** Every metric of the contract, by the role it plays in rules and dashboards. */
export const engineMetrics = {
  orderLatency: {
    name: "bot3_order_latency_seconds",
    type: "histogram",
    labels: ["venue", "order_type"],
    help: "Time from submitting an order to the venue's acknowledgement.",
    unit: "seconds",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  },
  ordersSubmitted: {
    name: "bot3_orders_submitted_total",
    type: "counter",
    labels: ["venue", "side"],
    help: "Orders sent to a venue.",
    unit: "orders",
  },
  ordersFilled: {
    name: "bot3_orders_filled_total",
    type: "counter",
    labels: ["venue", "side"],
    help: "Orders completely filled by a venue.",
    unit: "orders",
  },
  ordersRejected: {
    name: "bot3_orders_rejected_total",
    type: "counter",
    labels: ["venue", "reason"],
    help: "Orders rejected, by the venue or by the engine's own risk checks.",
    unit: "orders",
  },
  requests: {
    name: "bot3_requests_total",
    type: "counter",
    labels: ["venue", "operation"],
    help: "Requests the engine made to venue APIs.",
    unit: "requests",
  },
  requestErrors: {
    name: "bot3_request_errors_total",
    type: "counter",
    labels: ["venue", "operation", "kind"],
    help: "Requests to venue APIs that failed (timeout, transport error or error response).",
    unit: "requests",
  },
  realizedPnl: {
    name: "bot3_realized_pnl_usd",
    type: "gauge",
    labels: ["strategy"],
    help: "Profit and loss realized since the start of the trading day, in US dollars.",
    unit: "USD",
  },
  unrealizedPnl: {
    name: "bot3_unrealized_pnl_usd",
    type: "gauge",
    labels: ["strategy"],
    help: "Mark-to-market profit and loss of the open positions, in US dollars.",
    unit: "USD",
  },
  riskLimitUsage: {
    name: "bot3_risk_limit_usage_ratio",
    type: "gauge",
    labels: ["limit"],
    help: "Used fraction of a risk limit; 1 means the limit is reached.",
    unit: "ratio (0-1)",
  },
  openPositions: {
    name: "bot3_open_positions",
    type: "gauge",
    labels: ["venue"],
    help: "Positions currently open.",
    unit: "positions",
  },
} as const satisfies Record<string, EngineMetric>;

/** The role names of the contract's metrics, e.g. `"orderLatency"`. */
export type EngineMetricRole = keyof typeof engineMetrics;

/** The series name of a histogram's cumulative buckets, for `histogram_quantile`. */
export function bucketSeries(metric: EngineMetric<"histogram">): string {
  return `${metric.name}_bucket`;
}

/** Every series name the contract allows in a query, including histogram suffixes. */
export function engineSeriesNames(): Set<string> {
  const names = new Set<string>();
  for (const metric of Object.values(engineMetrics) as EngineMetric[]) {
    if (metric.type === "histogram") {
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(metric.name + suffix);
    } else {
      names.add(metric.name);
    }
  }
  return names;
}

/** The contract as a Markdown table, for `monitoring/METRICS.md`. */
export function renderMetricsTable(): string {
  const rows = (Object.values(engineMetrics) as EngineMetric[]).map((metric) => {
    const labels = metric.labels.map((label) => `\`${label}\``).join(", ");
    const buckets = metric.buckets ? ` Buckets: ${metric.buckets.join(", ")}.` : "";
    const cells = [`\`${metric.name}\``, metric.type, labels, metric.unit, metric.help + buckets];
    return `| ${cells.join(" | ")} |`;
  });
  return [
    "| Name | Type | Labels | Unit | Meaning |",
    "| ---- | ---- | ------ | ---- | ------- |",
    ...rows,
  ].join("\n");
}

/** The whole `monitoring/METRICS.md` document. */
export function renderMetricsDocument(): string {
  return [
    "# Engine metrics: the contract with the trading engine",
    "",
    "Generated from `components/monitoring/metrics.ts` by",
    "`npx ts-node --transpile-only tools/generate-monitoring.ts`; do not edit by hand.",
    "",
    "The engine exposes these metric families on its metrics endpoint, scraped through its",
    "ServiceMonitor. Alert rules and dashboards query exactly these names; renaming one here",
    "and in the engine must happen together.",
    "",
    renderMetricsTable(),
    "",
  ].join("\n");
}
