// The Bot3 platform. Settings are read and validated once; the components are then built in
// the order the architecture guide gives, each handed the outputs it needs.
import * as pulumi from "@pulumi/pulumi";
import { ExistingCluster } from "./components/existingCluster";
import { MonitoringStack } from "./components/monitoring/monitoringStack";
import { WorkloadNamespace } from "./components/workloadNamespace";
import { loadSettings } from "./settings";

const settings = loadSettings();

const cluster = new ExistingCluster("bot3", {
  cluster: settings.cluster,
  storage: settings.storage,
});

const engineNamespace = new WorkloadNamespace("bot3-engine", {
  namespace: settings.engine.namespace,
  quota: settings.engine.quota,
  containerDefaults: { requests: settings.engine.requests, limits: settings.engine.limits },
  provider: cluster.provider,
});

// Monitoring comes before the engine so that its ServiceMonitor CRD and alerts are in place
// when the engine first starts.
const monitoring = settings.monitoring.enabled
  ? new MonitoringStack("bot3-monitoring", {
      cluster,
      monitoring: settings.monitoring,
      alertWebhookUrls: settings.alertWebhookUrls,
      grafanaHost: settings.ingress.grafanaHost || `grafana.${settings.ingress.host}`,
      clusterIssuer: settings.tls.issuer,
      scraped: {
        namespace: engineNamespace.name,
        namespaceName: settings.engine.namespace,
        engine: "bot3-engine",
        postgresInCluster: settings.database.mode === "in-cluster",
        redisInCluster: settings.cache.mode === "in-cluster",
        backupSchedule: settings.backup.schedule,
      },
    })
  : undefined;

export const clusterName = pulumi.output(cluster.clusterName);
export const namespace = engineNamespace.name;
export const grafanaUrl = monitoring?.grafanaUrl;
