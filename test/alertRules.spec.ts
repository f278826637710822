import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import {
  AlertRuleSettings,
  buildAlertRules,
  dataStoreAlertNames,
  defaultAlertRuleSettings,
  PrometheusRuleFile,
} from "../components/monitoring/alertRules";
import { engineMetrics, engineSeriesNames } from "../components/monitoring/metrics";
import { generatedPaths, renderMonitoringFiles } from "../tools/generate-monitoring";
import { promqlSyntaxErrors, vectorSelectors } from "./promqlSyntax";

const repositoryRoot = path.resolve(__dirname, "..");
const ruleFile = path.join(repositoryRoot, generatedPaths.alertRules);
const testDirectory = path.join(repositoryRoot, "monitoring/tests");
const testFiles = fs
  .readdirSync(testDirectory)
  .filter((name) => name.endsWith(".test.yaml"))
  .map((name) => path.join(testDirectory, name));

interface PromtoolRun {
  status: number | null;
  output: string;
}

/** Runs promtool; a missing promtool fails the calling test instead of skipping it. */
function promtool(...args: string[]): PromtoolRun {
  const run = spawnSync("promtool", args, { encoding: "utf8", cwd: repositoryRoot });
  if (run.error) {
    throw new Error(
      `promtool could not be run (${run.error.message}). Install it from Debian's prometheus ` +
        "package: apt-get update && apt-get install -y --no-install-recommends prometheus",
    );
  }
  return { status: run.status, output: run.stdout + run.stderr };
}

function alertNames(rules: PrometheusRuleFile): string[] {
  return rules.groups.flatMap((group) => group.rules.map((rule) => rule.alert));
}

function withSettings(change: Partial<AlertRuleSettings>): AlertRuleSettings {
  return { ...defaultAlertRuleSettings, ...change };
}

function temporaryFile(name: string, content: string): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "bot3-alerts-"));
  const file = path.join(directory, name);
  fs.writeFileSync(file, content);
  return file;
}

/** The anchors GitHub gives the Markdown headings of a document. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const match of markdown.matchAll(/^#{1,6} +(.+?) *$/gm)) {
    const heading = match[1].toLowerCase();
    anchors.add(heading.replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-"));
  }
  return anchors;
}

describe("AlertRules", () => {
  const defaultRules = buildAlertRules(defaultAlertRuleSettings);

  describe("generated files", () => {
    it("keeps the committed rule file and METRICS.md equal to the generator's output", async () => {
      for (const [relativePath, expected] of Object.entries(await renderMonitoringFiles())) {
        const committed = fs.readFileSync(path.join(repositoryRoot, relativePath), "utf8");
        assert.strictEqual(
          committed,
          expected,
          `${relativePath} is stale: run npx ts-node --transpile-only tools/generate-monitoring.ts`,
        );
      }
    });
  });

  describe("promtool", () => {
    it("accepts the committed rule file (promtool check rules)", () => {
      const run = promtool("check", "rules", ruleFile);
      assert.strictEqual(run.status, 0, run.output);
      assert.match(run.output, new RegExp(`SUCCESS: ${alertNames(defaultRules).length} rules`));
    });

    it("passes every unit test in monitoring/tests (promtool test rules)", () => {
      assert.ok(testFiles.length > 0, "no *.test.yaml file in monitoring/tests");
      const run = promtool("test", "rules", ...testFiles);
      assert.strictEqual(run.status, 0, run.output);
      assert.doesNotMatch(run.output, /FAILED/);
    });

    it("rejects a rule file with a broken expression, so the check can fail", () => {
      const broken = { groups: [{ name: "broken", rules: [{ alert: "X", expr: "sum(up" }] }] };
      const run = promtool("check", "rules", temporaryFile("broken.yaml", stringify(broken)));
      assert.notStrictEqual(run.status, 0, run.output);
    });

    it("fails a unit test whose expected annotation is wrong, so the tests can fail", () => {
      const engineTests = fs.readFileSync(path.join(testDirectory, "engine.test.yaml"), "utf8");
      const wrong = engineTests
        .replace("../rules/bot3-alerts.yaml", ruleFile)
        .replace("latency is 497.5ms", "latency is 497.6ms");
      assert.notStrictEqual(wrong, engineTests.replace("../rules/bot3-alerts.yaml", ruleFile));
      const run = promtool("test", "rules", temporaryFile("wrong.test.yaml", wrong));
      assert.notStrictEqual(run.status, 0, run.output);
      assert.match(run.output, /Bot3OrderLatencyHigh/);
    });

    it("accepts the rule file built for managed data stores", () => {
      const managed = buildAlertRules(withSettings({ dataStoresInCluster: false }));
      const run = promtool("check", "rules", temporaryFile("managed.yaml", stringify(managed)));
      assert.strictEqual(run.status, 0, run.output);
    });
  });

  describe("unit test coverage", () => {
    interface AlertTestCase {
      alertname: string;
      exp_alerts?: unknown[];
    }
    interface TestFile {
      tests: { alert_rule_test?: AlertTestCase[] }[];
    }
    const cases = testFiles.flatMap((file) =>
      (parse(fs.readFileSync(file, "utf8")) as TestFile).tests.flatMap(
        (group) => group.alert_rule_test ?? [],
      ),
    );

    for (const alert of alertNames(defaultRules)) {
      it(`has a firing and a quiet test case for ${alert}`, () => {
        const ofAlert = cases.filter((testCase) => testCase.alertname === alert);
        const firing = ofAlert.filter((testCase) => (testCase.exp_alerts ?? []).length > 0);
        assert.ok(firing.length > 0, `no test case in monitoring/tests expects ${alert} to fire`);
        assert.ok(firing.length < ofAlert.length, `no test case expects ${alert} to stay quiet`);
      });
    }

    it("tests no alert that the rule file lacks", () => {
      const known = new Set(alertNames(defaultRules));
      const unknown = cases.map((testCase) => testCase.alertname).filter((n) => !known.has(n));
      assert.deepStrictEqual(unknown, []);
    });
  });

  describe("rules", () => {
    it("links every alert to a section of docs/runbook.md", () => {
      const runbook = fs.readFileSync(path.join(repositoryRoot, "docs/runbook.md"), "utf8");
      const anchors = headingAnchors(runbook);
      for (const rule of defaultRules.groups.flatMap((group) => group.rules)) {
        const [base, anchor] = rule.annotations.runbook_url.split("#");
        assert.strictEqual(base, defaultAlertRuleSettings.runbookBaseUrl);
        assert.ok(anchors.has(anchor), `docs/runbook.md has no heading for #${anchor}`);
      }
    });

    it("omits the PostgreSQL and Redis alerts when the data stores are managed", () => {
      const managed = alertNames(buildAlertRules(withSettings({ dataStoresInCluster: false })));
      for (const name of dataStoreAlertNames) {
        assert.ok(alertNames(defaultRules).includes(name), `${name} missing for in-cluster`);
        assert.ok(!managed.includes(name), `${name} exists for managed data stores`);
      }
      assert.strictEqual(managed.length, alertNames(defaultRules).length - 2);
    });

    it("scopes every selector except node conditions to the configured namespace", () => {
      const rules = buildAlertRules(withSettings({ namespace: "trading-prod" }));
      for (const rule of rules.groups.flatMap((group) => group.rules)) {
        for (const selector of vectorSelectors(rule.expr)) {
          if (selector.metric === "kube_node_status_condition") continue;
          const scope = [
            selector.matchers.get("namespace"),
            selector.matchers.get("exported_namespace"),
          ];
          assert.ok(
            scope.some((matcher) => matcher?.endsWith('="trading-prod"')),
            `${rule.alert}: ${selector.metric} is not scoped to namespace trading-prod`,
          );
        }
      }
    });

    it("queries only engine metrics declared in metrics.ts", () => {
      const declared = engineSeriesNames();
      const used = defaultRules.groups
        .flatMap((group) => group.rules)
        .flatMap((rule) => vectorSelectors(rule.expr).map((selector) => selector.metric))
        .filter((metric) => metric.startsWith("bot3_"));
      assert.ok(used.includes(`${engineMetrics.orderLatency.name}_bucket`));
      assert.deepStrictEqual(
        used.filter((metric) => !declared.has(metric)),
        [],
      );
    });

    it("parses every expression and holds every alert for at least 2 minutes", () => {
      for (const rule of defaultRules.groups.flatMap((group) => group.rules)) {
        assert.deepStrictEqual(promqlSyntaxErrors(rule.expr), [], rule.alert);
        const hold = /^(\d+)([mh])$/.exec(rule.for);
        assert.ok(hold, `${rule.alert}: for "${rule.for}" is not in minutes or hours`);
        const minutes = Number(hold[1]) * (hold[2] === "h" ? 60 : 1);
        assert.ok(minutes >= 2, `${rule.alert} fires after ${rule.for}, which flaps`);
      }
    });

    it("selects certificates by namespace when cert-manager's labels are honoured", () => {
      const rules = buildAlertRules(withSettings({ certificateNamespaceLabel: "namespace" }));
      const certificate = rules.groups[1].rules.find(
        (rule) => rule.alert === "Bot3CertificateExpiringSoon",
      );
      assert.ok(certificate);
      assert.match(certificate.expr, /expiration_timestamp_seconds\{namespace="bot3"\}/);
      assert.doesNotMatch(certificate.expr, /exported_namespace/);
    });
  });

  describe("settings", () => {
    const invalid: [Partial<AlertRuleSettings>, RegExp][] = [
      [{ namespace: "Bot3" }, /setting namespace is "Bot3": use lower-case letters/],
      [{ engineDeployment: "" }, /setting engineDeployment is "": use a Kubernetes object name/],
      [{ backupCronJob: "backup_job" }, /setting backupCronJob is "backup_job"/],
      [{ engineScrapeJob: 'a"b' }, /setting engineScrapeJob .*without quotes/],
      [{ p99LatencyThresholdSeconds: 0 }, /p99LatencyThresholdSeconds is 0: .*above 0/],
      [{ p99LatencyThresholdSeconds: 10 }, /at most 5, the largest latency bucket/],
      [{ errorRateThreshold: 5 }, /setting errorRateThreshold is 5: use a ratio between 0 and 1/],
      [{ maxBackupAgeSeconds: 60 }, /setting maxBackupAgeSeconds is 60: use whole seconds/],
      [{ runbookBaseUrl: "docs/runbook.md" }, /setting runbookBaseUrl .*http\(s\) URL/],
      [{ runbookBaseUrl: "https://x/runbook.md#alerts" }, /runbookBaseUrl .*without '#'/],
    ];
    for (const [change, message] of invalid) {
      it(`rejects ${JSON.stringify(change)}, naming the setting and the fix`, () => {
        assert.throws(() => buildAlertRules(withSettings(change)), message);
      });
    }
  });
});

describe("Engine metric contract", () => {
  const metrics = Object.values(engineMetrics);

  it("names every metric once, with the bot3_ prefix", () => {
    const names = metrics.map((metric) => metric.name);
    assert.strictEqual(new Set(names).size, names.length);
    for (const name of names) assert.match(name, /^bot3_[a-z][a-z0-9_]*[a-z0-9]$/);
  });

  it("ends counters, and only counters, in _total", () => {
    for (const metric of metrics) {
      assert.strictEqual(metric.name.endsWith("_total"), metric.type === "counter", metric.name);
    }
  });

  it("gives the order latency histogram increasing buckets in seconds", () => {
    const { buckets, name, type } = engineMetrics.orderLatency;
    assert.strictEqual(type, "histogram");
    assert.ok(name.endsWith("_seconds"));
    assert.deepStrictEqual(
      [...buckets].sort((a, b) => a - b),
      [...buckets],
    );
  });
});
