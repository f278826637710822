import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { defaultAlertRuleSettings } from "../components/monitoring/alertRules";
import {
  buildDashboards,
  DashboardSettings,
  datasourceRef,
  GrafanaDashboard,
} from "../components/monitoring/dashboards";
import { engineMetrics, engineSeriesNames } from "../components/monitoring/metrics";
import { promqlSyntaxErrors, vectorSelectors } from "./promqlSyntax";

// Grafana replaces these variables before Prometheus sees a query; the values are examples.
const grafanaVariableExamples: Record<string, string> = { $__rate_interval: "1m" };

/** Errors of a dashboard query: unknown Grafana variables, then PromQL syntax errors. */
function dashboardQueryErrors(expr: string): string[] {
  let expanded = expr;
  for (const [variable, example] of Object.entries(grafanaVariableExamples)) {
    expanded = expanded.split(variable).join(example);
  }
  const unknown = expanded.match(/\$\{?\w+/g) ?? [];
  if (unknown.length > 0) return unknown.map((variable) => `unknown variable ${variable}`);
  return promqlSyntaxErrors(expanded);
}

function queries(dashboards: GrafanaDashboard[]): string[] {
  return dashboards.flatMap((d) => d.panels.flatMap((p) => p.targets.map((t) => t.expr)));
}

function settings(change: Partial<DashboardSettings> = {}): DashboardSettings {
  return { ...defaultAlertRuleSettings, ...change };
}

describe("Dashboards", () => {
  const dashboards = buildDashboards(settings());
  const byUid = new Map(dashboards.map((d) => [d.uid, d]));

  it("builds the trading, system, and data and risk dashboards with unique uids", () => {
    assert.deepStrictEqual(
      dashboards.map((d) => d.uid),
      ["bot3-trading", "bot3-system", "bot3-data-risk"],
    );
    assert.strictEqual(byUid.size, dashboards.length);
  });

  it("serializes every dashboard to JSON that reads back unchanged", () => {
    for (const dashboard of dashboards) {
      const json = JSON.stringify(dashboard);
      assert.deepStrictEqual(JSON.parse(json), dashboard, dashboard.uid);
    }
  });

  it("offers a Prometheus data source variable that every panel and target uses", () => {
    for (const dashboard of dashboards) {
      const [variable] = dashboard.templating.list;
      assert.strictEqual(variable.name, "datasource");
      assert.strictEqual(variable.type, "datasource");
      assert.strictEqual(variable.query, "prometheus");
      for (const panel of dashboard.panels) {
        assert.deepStrictEqual(panel.datasource, { type: "prometheus", uid: "${datasource}" });
        for (const target of panel.targets)
          assert.deepStrictEqual(target.datasource, datasourceRef);
      }
    }
  });

  it("gives every panel a unique id, a target with a query, and distinct refIds", () => {
    for (const dashboard of dashboards) {
      const ids = dashboard.panels.map((panel) => panel.id);
      assert.strictEqual(new Set(ids).size, ids.length, `${dashboard.uid}: duplicate panel id`);
      for (const panel of dashboard.panels) {
        const where = `${dashboard.uid} / ${panel.title}`;
        assert.ok(panel.targets.length > 0, `${where} has no target`);
        assert.ok(
          panel.targets.every((target) => target.expr.trim() !== ""),
          where,
        );
        const refIds = panel.targets.map((target) => target.refId);
        assert.strictEqual(new Set(refIds).size, refIds.length, `${where}: duplicate refId`);
      }
    }
  });

  it("places panels inside the 24-column grid without overlapping", () => {
    for (const dashboard of dashboards) {
      const cells = new Set<string>();
      for (const { gridPos, title } of dashboard.panels) {
        assert.ok(gridPos.x >= 0 && gridPos.w > 0 && gridPos.x + gridPos.w <= 24, title);
        for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++) {
          for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
            assert.ok(!cells.has(`${x},${y}`), `${dashboard.uid}: ${title} overlaps a panel`);
            cells.add(`${x},${y}`);
          }
        }
      }
    }
  });

  it("writes every query in valid PromQL", () => {
    for (const expr of queries(dashboards)) {
      assert.deepStrictEqual(dashboardQueryErrors(expr), [], expr);
    }
  });

  describe("query check", () => {
    const broken = [
      "sum(rate(bot3_orders_filled_total[5m])",
      "rate(bot3_orders_filled_total[5m]) by (venue)",
      'bot3_open_positions{venue="a"',
      "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])) >",
      "",
    ];
    for (const expr of broken) {
      it(`rejects the broken query ${JSON.stringify(expr)}`, () => {
        assert.notDeepStrictEqual(dashboardQueryErrors(expr), []);
      });
    }

    it("rejects a Grafana variable it does not know", () => {
      assert.deepStrictEqual(dashboardQueryErrors("rate(x[$__range_interval])"), [
        "unknown variable $__range_interval",
      ]);
    });

    it("accepts $__rate_interval in a range", () => {
      assert.deepStrictEqual(dashboardQueryErrors("rate(x[$__rate_interval])"), []);
    });
  });

  describe("content", () => {
    const exprsOf = (uid: string): string => queries([byUid.get(uid)!]).join("\n");

    it("shows order latency p50, p95 and p99 from the latency histogram", () => {
      const latency = byUid.get("bot3-trading")!.panels.find((p) => p.title === "Order latency");
      assert.ok(latency);
      assert.deepStrictEqual(
        latency.targets.map((target) => target.legendFormat),
        ["p50", "p95", "p99"],
      );
      const quantiles = [0.5, 0.95, 0.99];
      latency.targets.forEach((target, index) => {
        assert.ok(target.expr.startsWith(`histogram_quantile(${quantiles[index]},`), target.expr);
      });
    });

    it("shows CPU, memory and network per pod and per node, and autoscaler replicas", () => {
      const system = exprsOf("bot3-system");
      for (const metric of [
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "container_network_receive_bytes_total",
        "node_cpu_seconds_total",
        "node_memory_MemAvailable_bytes",
        "node_network_receive_bytes_total",
        "kube_horizontalpodautoscaler_status_current_replicas",
      ]) {
        assert.ok(system.includes(metric), `the system dashboard does not query ${metric}`);
      }
    });

    it("shows database connections, Redis operations, backup age and risk-limit usage", () => {
      const data = exprsOf("bot3-data-risk");
      for (const metric of [
        "pg_stat_database_numbackends",
        "redis_commands_processed_total",
        "kube_cronjob_status_last_successful_time" +
          '{namespace="bot3", cronjob="bot3-postgres-backup"}',
        engineMetrics.riskLimitUsage.name,
      ]) {
        assert.ok(data.includes(metric), `the data and risk dashboard does not query ${metric}`);
      }
    });

    it("leaves out the PostgreSQL and Redis panels when the data stores are managed", () => {
      const managed = buildDashboards(settings({ dataStoresInCluster: false }));
      const data = queries(managed.filter((d) => d.uid === "bot3-data-risk"));
      assert.deepStrictEqual(
        data.filter((expr) => /\b(pg|redis)_/.test(expr)),
        [],
      );
      assert.ok(data.some((expr) => expr.includes("kube_cronjob_status_last_successful_time")));
    });

    it("scopes engine, pod and data-store queries to the configured namespace", () => {
      const custom = buildDashboards(settings({ namespace: "trading-prod" }));
      const clusterWide = /^(node_|kube_node_)/;
      for (const expr of queries(custom)) {
        for (const selector of vectorSelectors(expr.split("$__rate_interval").join("1m"))) {
          if (clusterWide.test(selector.metric)) continue;
          assert.strictEqual(
            selector.matchers.get("namespace"),
            'namespace="trading-prod"',
            `${selector.metric} in ${expr}`,
          );
        }
      }
    });

    it("rejects invalid settings, naming the setting", () => {
      assert.throws(
        () => buildDashboards(settings({ namespace: "Bot3" })),
        /setting namespace is "Bot3"/,
      );
    });
  });

  describe("engine metric names", () => {
    const engineSelectors = queries(dashboards)
      .flatMap((expr) => vectorSelectors(expr.split("$__rate_interval").join("1m")))
      .map((selector) => selector.metric)
      .filter((metric) => metric.startsWith("bot3_"));

    it("queries only engine metrics declared in metrics.ts", () => {
      const declared = engineSeriesNames();
      assert.deepStrictEqual(
        engineSelectors.filter((metric) => !declared.has(metric)),
        [],
      );
    });

    it("shows every engine metric of the contract on some dashboard", () => {
      for (const metric of Object.values(engineMetrics)) {
        const shown = engineSelectors.some((used) => used.startsWith(metric.name));
        assert.ok(shown, `no dashboard shows ${metric.name}`);
      }
    });

    it("spells no engine metric name outside metrics.ts", () => {
      const sources = [
        "alertRules.ts",
        "alertRuleSettings.ts",
        "dashboards.ts",
        "grafanaDashboard.ts",
      ];
      for (const source of sources) {
        const file = path.join(__dirname, "../components/monitoring", source);
        const text = fs.readFileSync(file, "utf8");
        assert.doesNotMatch(text, /bot3_[a-z]/, `${source} spells an engine metric name`);
      }
    });
  });
});
