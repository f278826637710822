import { expect } from "chai";
import { buildAlertRules, defaultAlertRuleSettings } from "../components/monitoring/alertRules";
import { maxBackupAgeSeconds } from "../components/monitoring/backupSchedule";
import { kubePrometheusStackChart } from "../components/monitoring/chartValues";
import { parseSettings, type Settings } from "../settings";
import { parseCpuMillis, parseMemoryBytes } from "../settings/formats";
import { schemaProblems } from "../tools/offline/kubernetesSchema";
import { offlineSecretPrefixes } from "../tools/offline/mockCloud";
import {
  kubernetesObject,
  resource,
  resourcesOfType,
  runStack,
  type ProgramRun,
  type RegisteredResource,
} from "./harness";

const stacks = ["local", "staging", "production"] as const;
const releaseType = "kubernetes:helm.sh/v3:Release";
const serviceMonitorType = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";
const prometheusRuleType = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";

type Values = Record<string, unknown>;

/** The object at a path of keys in the chart values; fails the test when it is missing. */
function at(values: unknown, ...keys: string[]): Values {
  let node = values;
  for (const key of keys) {
    expect(node, `chart values lack ${keys.join(" > ")}`).to.be.an("object");
    node = (node as Values)[key];
  }
  expect(node, `chart values lack ${keys.join(" > ")}`).to.be.an("object");
  return node as Values;
}

function release(run: ProgramRun): RegisteredResource {
  return resource(run, releaseType, "bot3-monitoring-release");
}

function settingsOf(run: ProgramRun): Settings {
  return parseSettings(run.config.values, run.config.secretKeys);
}

/**
 * The secrets of a run: every secret value with an offline secret's prefix (a Secret's
 * `stringData` is secret as a whole, so plain neighbours such as the user name are left out),
 * and the prefixes themselves.
 */
function secretsOf(run: ProgramRun): string[] {
  const values = run.resources
    .flatMap((r) => r.secretValues)
    .filter((value) => offlineSecretPrefixes.some((prefix) => value.startsWith(prefix)));
  return [...new Set(values), ...offlineSecretPrefixes];
}

function expectRestrictedPod(context: Values, where: string): void {
  expect(context.runAsNonRoot, `${where}.runAsNonRoot`).to.equal(true);
  expect(context.runAsUser, `${where}.runAsUser`).to.be.a("number").above(0);
  expect(context.runAsGroup, `${where}.runAsGroup`).to.be.a("number").above(0);
  expect(context.seccompProfile, `${where}.seccompProfile`).to.deep.equal({
    type: "RuntimeDefault",
  });
}

function expectRestrictedContainer(context: Values, where: string): void {
  expect(context.allowPrivilegeEscalation, `${where}.allowPrivilegeEscalation`).to.equal(false);
  expect(context.capabilities, `${where}.capabilities`).to.deep.equal({ drop: ["ALL"] });
}

function expectBoundedResources(resources: Values, where: string): void {
  for (const name of ["cpu", "memory"] as const) {
    const parse = name === "cpu" ? parseCpuMillis : parseMemoryBytes;
    const request = parse(String(at(resources, "requests")[name]));
    const limit = parse(String(at(resources, "limits")[name]));
    expect(request, `${where}.requests.${name}`).to.be.a("number").above(0);
    expect(limit, `${where}.limits.${name}`).to.be.a("number").at.least(request!);
  }
}

describe("MonitoringStack", () => {
  for (const stack of stacks) {
    describe(`in the ${stack} stack`, () => {
      let run: ProgramRun;
      let values: Values;
      let settings: Settings;
      before(async () => {
        run = await runStack(stack);
        values = release(run).inputs.values as Values;
        settings = settingsOf(run);
      });

      it("installs the pinned kube-prometheus-stack chart atomically, with a long timeout", () => {
        const inputs = release(run).inputs;
        expect(inputs.chart).to.equal("kube-prometheus-stack");
        expect(inputs.version).to.match(/^\d+\.\d+\.\d+$/);
        expect(inputs.version).to.equal(kubePrometheusStackChart.version);
        expect(inputs.repositoryOpts).to.deep.equal({
          repo: "https://prometheus-community.github.io/helm-charts",
        });
        expect(inputs.atomic).to.equal(true);
        expect(inputs.timeout).to.be.a("number").at.least(600);
        expect(inputs.namespace).to.equal("monitoring");
        expect(release(run).provider, "explicit provider").to.match(/pulumi:providers:kubernetes/);
      });

      it("scrapes at the configured interval and keeps data by time and by size", () => {
        const spec = at(values, "prometheus", "prometheusSpec");
        expect(spec.scrapeInterval).to.equal("15s");
        expect(spec.scrapeInterval).to.equal(settings.monitoring.scrapeInterval);
        expect(spec.retention).to.equal(settings.monitoring.retention);
        expect(spec.retentionSize).to.equal(settings.monitoring.retentionSize);
        const claim = at(spec, "storageSpec", "volumeClaimTemplate", "spec");
        expect(at(claim, "resources", "requests").storage).to.equal(
          settings.monitoring.storageSize,
        );
        // The EKS cluster names its one default class (gp3); an existing cluster's default is
        // used by leaving the class out.
        const expectedClass = stack === "local" ? undefined : "gp3";
        expect(claim.storageClassName, "the cluster's default class").to.equal(expectedClass);
      });

      it("selects ServiceMonitors, PodMonitors and rules that the chart did not create", () => {
        const spec = at(values, "prometheus", "prometheusSpec");
        for (const kind of ["serviceMonitor", "podMonitor", "rule", "probe", "scrapeConfig"]) {
          expect(spec[`${kind}SelectorNilUsesHelmValues`], kind).to.equal(false);
        }
      });

      it("runs every component as non-root with bounded resources", () => {
        const pods: [string, Values][] = [
          ["prometheusSpec", at(values, "prometheus", "prometheusSpec", "securityContext")],
          ["alertmanagerSpec", at(values, "alertmanager", "alertmanagerSpec", "securityContext")],
          ["grafana", at(values, "grafana", "securityContext")],
          ["prometheusOperator", at(values, "prometheusOperator", "securityContext")],
          [
            "webhook jobs",
            at(values, "prometheusOperator", "admissionWebhooks", "patch", "securityContext"),
          ],
          ["kube-state-metrics", at(values, "kube-state-metrics", "securityContext")],
          ["node-exporter", at(values, "prometheus-node-exporter", "securityContext")],
        ];
        for (const [where, context] of pods) expectRestrictedPod(context, where);

        const hooks = at(values, "prometheusOperator", "admissionWebhooks");
        const containers: [string, Values][] = [
          ["grafana", at(values, "grafana", "containerSecurityContext")],
          ["grafana sidecar", at(values, "grafana", "sidecar", "securityContext")],
          ["operator", at(values, "prometheusOperator", "containerSecurityContext")],
          ["create job", at(hooks, "createSecretJob", "securityContext")],
          ["patch job", at(hooks, "patchWebhookJob", "securityContext")],
          ["kube-state-metrics", at(values, "kube-state-metrics", "containerSecurityContext")],
          ["node-exporter", at(values, "prometheus-node-exporter", "containerSecurityContext")],
        ];
        for (const spec of ["prometheus", "alertmanager"]) {
          const operated = at(values, spec, `${spec}Spec`);
          for (const list of ["containers", "initContainers"]) {
            for (const container of operated[list] as Values[]) {
              const where = `${spec} ${String(container.name)}`;
              containers.push([where, at(container, "securityContext")]);
              expectBoundedResources(at(container, "resources"), where);
            }
          }
        }
        for (const [where, context] of containers) expectRestrictedContainer(context, where);

        const resources: [string, Values][] = [
          ["prometheus", at(values, "prometheus", "prometheusSpec", "resources")],
          ["alertmanager", at(values, "alertmanager", "alertmanagerSpec", "resources")],
          ["grafana", at(values, "grafana", "resources")],
          ["grafana sidecar", at(values, "grafana", "sidecar", "resources")],
          ["operator", at(values, "prometheusOperator", "resources")],
          [
            "config reloader",
            at(values, "prometheusOperator", "prometheusConfigReloader", "resources"),
          ],
          ["webhook jobs", at(hooks, "patch", "resources")],
          ["kube-state-metrics", at(values, "kube-state-metrics", "resources")],
          ["node-exporter", at(values, "prometheus-node-exporter", "resources")],
        ];
        for (const [where, list] of resources) expectBoundedResources(list, where);
      });

      it("takes Grafana's admin login from the program's Secret, never from values", () => {
        const grafana = at(values, "grafana");
        const admin = at(grafana, "admin");
        const secret = kubernetesObject(run, "Secret", String(admin.existingSecret));
        expect(Object.keys(secret.inputs.stringData as Values).sort()).to.deep.equal(
          [admin.userKey, admin.passwordKey].map(String).sort(),
        );
        expect(grafana).not.to.have.property("adminPassword");
        expect(release(run).dependencies).to.include(secret.urn);
      });

      it("points Alertmanager at the configuration Secret the program writes", () => {
        const spec = at(values, "alertmanager", "alertmanagerSpec");
        expect(spec.useExistingSecret).to.equal(true);
        const secret = kubernetesObject(run, "Secret", String(spec.configSecret));
        expect(secret.inputs.stringData).to.have.property("alertmanager.yaml");
        expect(at(values, "alertmanager")).not.to.have.property("config");
        expect(release(run).dependencies).to.include(secret.urn);
      });

      it("turns on the dashboard sidecar for ConfigMaps labelled grafana_dashboard=1", () => {
        const dashboards = at(values, "grafana", "sidecar", "dashboards");
        expect(dashboards).to.include({
          enabled: true,
          label: "grafana_dashboard",
          labelValue: "1",
          searchNamespace: "monitoring",
        });
      });

      it("serves Grafana through the nginx ingress class with a cert-manager certificate", () => {
        const ingress = at(values, "grafana", "ingress");
        const host = `grafana.${settings.ingress.host}`;
        expect(ingress.enabled).to.equal(true);
        expect(ingress.ingressClassName).to.equal("nginx");
        expect(ingress.hosts).to.deep.equal([host]);
        expect(ingress.tls).to.deep.equal([{ secretName: "grafana-tls", hosts: [host] }]);
        expect(at(ingress, "annotations")["cert-manager.io/cluster-issuer"]).to.equal(
          settings.tls.issuer,
        );
        expect(run.outputs.grafanaUrl).to.equal(`https://${host}`);
      });

      it("enforces the restricted profile in monitoring, and isolates node-exporter", () => {
        const labels = (name: string) =>
          (kubernetesObject(run, "Namespace", name).inputs.metadata as { labels: Values }).labels;
        expect(labels("monitoring")["pod-security.kubernetes.io/enforce"]).to.equal("restricted");
        const nodeExporter = at(values, "prometheus-node-exporter").namespaceOverride;
        expect(nodeExporter).to.equal("monitoring-node-exporter");
        expect(labels(String(nodeExporter))["pod-security.kubernetes.io/enforce"]).to.equal(
          "privileged",
        );
      });

      it("writes no secret into a Release's values, a ConfigMap or an unsecret output", () => {
        const secrets = secretsOf(run);
        expect(secrets.some((s) => s.startsWith("offline-random-password-"))).to.equal(true);
        const exposed = run.resources.filter(
          (r) => r.type === releaseType || r.type === "kubernetes:core/v1:ConfigMap",
        );
        for (const r of exposed) {
          const text = JSON.stringify(r.inputs);
          for (const secret of secrets) expect(text, r.name).not.to.include(secret);
        }
        const plainOutputs = Object.entries(run.outputs).filter(
          ([key]) => !run.secretOutputs.includes(key),
        );
        for (const secret of secrets) expect(JSON.stringify(plainOutputs)).not.to.include(secret);
      });

      it("keeps the Grafana password secret in its Secret", () => {
        const secret = kubernetesObject(run, "Secret", "grafana-admin");
        const password = (secret.inputs.stringData as Values)["admin-password"];
        expect(password).to.match(/^offline-random-password-/);
        expect(secret.maskedInputs.stringData).to.equal("[secret]");
        expect(secret.secretValues).to.include(password);
      });

      it("watches the engine through a ServiceMonitor that waits for the release", () => {
        const monitor = resource(run, serviceMonitorType, "bot3-monitoring-bot3-engine-monitor");
        expect(monitor.inputs.metadata).to.include({ name: "bot3-engine", namespace: "bot3" });
        expect(monitor.inputs.spec).to.deep.equal({
          selector: { matchLabels: { "app.kubernetes.io/name": "bot3-engine" } },
          namespaceSelector: { matchNames: [settings.engine.namespace] },
          endpoints: [{ port: "metrics", path: "/metrics", interval: "15s" }],
        });
        expect(monitor.dependencies).to.include(release(run).urn);
      });

      it("loads the alert rules that alertRules.ts builds for this stack's settings", () => {
        const rules = resource(run, prometheusRuleType, "bot3-monitoring-bot3-alert-rules");
        const expected = buildAlertRules({
          ...defaultAlertRuleSettings,
          namespace: settings.engine.namespace,
          maxBackupAgeSeconds: maxBackupAgeSeconds(settings.backup.schedule),
          dataStoresInCluster:
            settings.database.mode === "in-cluster" && settings.cache.mode === "in-cluster",
          runbookBaseUrl: settings.monitoring.runbookUrl,
        });
        expect(rules.inputs.spec).to.deep.equal(expected);
        expect(rules.dependencies).to.include(release(run).urn);
      });

      it("provisions three dashboards as labelled ConfigMaps of valid JSON", () => {
        const configMaps = resourcesOfType(run, "kubernetes:core/v1:ConfigMap").filter(
          (r) => (r.inputs.metadata as { labels?: Values }).labels?.grafana_dashboard === "1",
        );
        expect(configMaps).to.have.length(3);
        for (const configMap of configMaps) {
          const [[file, json]] = Object.entries(configMap.inputs.data as Record<string, string>);
          const dashboard = JSON.parse(json) as { uid: string; panels: unknown[] };
          expect(file).to.equal(`${dashboard.uid}.json`);
          expect(dashboard.panels).to.not.be.empty;
          expect(configMap.inputs.metadata).to.include({ namespace: "monitoring" });
        }
      });

      it("declares monitoring objects that the Kubernetes schema accepts", async () => {
        const kinds = ["ServiceMonitor", "PrometheusRule", "ConfigMap", "Secret", "Namespace"];
        const objects = run.resources.filter(
          (r) => r.type.startsWith("kubernetes:") && kinds.includes(String(r.inputs.kind)),
        );
        expect(objects.length).to.be.at.least(8);
        for (const object of objects) {
          expect(await schemaProblems(object.inputs), object.name).to.deep.equal([]);
        }
      });
    });
  }

  it("scrapes the data-store exporters only where the stores run in the cluster", async () => {
    for (const [stack, expected] of [
      ["staging", 1],
      ["production", 0],
    ] as const) {
      const monitors = resourcesOfType(await runStack(stack), serviceMonitorType);
      const exporters = monitors.filter((m) => m.name.endsWith("exporter-monitor"));
      expect(exporters, stack).to.have.length(expected);
    }
    const [exporters] = resourcesOfType(await runStack("staging"), serviceMonitorType).filter((m) =>
      m.name.endsWith("exporter-monitor"),
    );
    expect(exporters.inputs.spec).to.deep.include({
      endpoints: [{ port: "metrics", interval: "15s" }],
    });
    expect((exporters.inputs.spec as Values).selector).to.deep.include({
      matchLabels: { "app.kubernetes.io/component": "metrics" },
    });
    expect(exporters.dependencies).to.include(release(await runStack("staging")).urn);
  });

  it("routes production's alerts to its on-call webhook without exposing the URL", async () => {
    const run = await runStack("production");
    const secret = kubernetesObject(run, "Secret", "alertmanager-bot3-config");
    const config = (secret.inputs.stringData as Values)["alertmanager.yaml"] as string;
    const url = "https://offline-placeholder.invalid/bot3_alertWebhookUrls.oncall";
    expect(config).to.include(url);
    expect(secret.maskedInputs.stringData).to.equal("[secret]");
    expect(JSON.stringify(release(run).inputs)).not.to.include(url);
  });

  it("has no backup age alert while backups are off", async () => {
    const alertsOf = async (backup: { enabled: boolean }) => {
      const run = await runStack("staging", {
        overrides: { "bot3:backup": JSON.stringify(backup) },
      });
      const rule = resourcesOfType(run, prometheusRuleType)[0];
      const groups = (rule.inputs.spec as { groups: { rules: { alert: string }[] }[] }).groups;
      return groups.flatMap((g) => g.rules.map((r) => r.alert));
    };
    expect(await alertsOf({ enabled: true })).to.include("Bot3BackupTooOld");
    expect(await alertsOf({ enabled: false })).to.not.include("Bot3BackupTooOld");
  });

  it("installs nothing of monitoring when it is disabled", async () => {
    const run = await runStack("staging", {
      overrides: { "bot3:monitoring": JSON.stringify({ enabled: false }) },
    });
    const releases = resourcesOfType(run, releaseType).map((r) => r.inputs.chart);
    expect(releases).to.not.include("kube-prometheus-stack");
    for (const type of [serviceMonitorType, prometheusRuleType]) {
      expect(resourcesOfType(run, type), type).to.be.empty;
    }
    const namespaces = resourcesOfType(run, "kubernetes:core/v1:Namespace").map(
      (n) => (n.inputs.metadata as Values).name,
    );
    expect(namespaces).to.not.include.members(["monitoring", "monitoring-node-exporter"]);
    const configMaps = resourcesOfType(run, "kubernetes:core/v1:ConfigMap").map(
      (c) => (c.inputs.metadata as Values).labels as Values | undefined,
    );
    expect(configMaps.filter((labels) => labels?.grafana_dashboard === "1")).to.be.empty;
    expect(run.outputs.grafanaUrl).to.equal(undefined);
  });

  it("uses a configured Grafana host and the cluster's named storage class", async () => {
    const run = await runStack("local", {
      overrides: {
        "bot3:ingress": JSON.stringify({ grafanaHost: "dashboards.bot3.localtest.me" }),
        "bot3:storage": JSON.stringify({ defaultClass: "standard" }),
      },
    });
    const values = release(run).inputs.values as Values;
    expect(at(values, "grafana", "ingress").hosts).to.deep.equal(["dashboards.bot3.localtest.me"]);
    expect(run.outputs.grafanaUrl).to.equal("https://dashboards.bot3.localtest.me");
    for (const [chartKey, spec, storage] of [
      ["prometheus", "prometheusSpec", "storageSpec"],
      ["alertmanager", "alertmanagerSpec", "storage"],
    ]) {
      const claim = at(values, chartKey, spec, storage, "volumeClaimTemplate", "spec");
      expect(claim.storageClassName, chartKey).to.equal("standard");
    }
  });
});
