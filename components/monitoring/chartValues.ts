// Values of the kube-prometheus-stack chart. CrossGuard sees the Helm release, not the pods the
// chart renders, so every component's security context and resources are set here explicitly
// and checked by test/monitoringStack.spec.ts.
//
// Keys checked against the chart's values.yaml and those of its grafana, kube-state-metrics
// and prometheus-node-exporter subcharts (see the README's "Limits" for what was not run).
import type { MonitoringSettings } from "../../settings";

/** The pinned chart. Helm does not upgrade CRDs: apply the new CRDs before raising this. */
export const kubePrometheusStackChart = {
  chart: "kube-prometheus-stack",
  version: "81.4.5",
  repo: "https://prometheus-community.github.io/helm-charts",
  releaseName: "kube-prometheus-stack",
  // Installing ten CRDs, the operator's webhook certificate Jobs and waiting for Prometheus
  // to replay its WAL on a large volume takes well over Helm's 5-minute default.
  timeoutSeconds: 900,
} as const;

/** The label, and its value, by which Grafana's sidecar finds dashboard ConfigMaps. */
export const dashboardLabel = { grafana_dashboard: "1" } as const;

export interface ChartValuesInput {
  monitoring: MonitoringSettings;
  /** Namespace of the release: Prometheus, Alertmanager, Grafana, operator, metrics. */
  namespace: string;
  /** Namespace of the node exporter, the one component that needs host access. */
  nodeExporterNamespace: string;
  /** StorageClass of the Prometheus and Alertmanager volumes; "" uses the cluster default. */
  storageClass: string;
  /** Public host name of Grafana. */
  grafanaHost: string;
  /** cert-manager ClusterIssuer that signs Grafana's certificate. */
  clusterIssuer: string;
  /** Secret with Grafana's admin user and password (keys `admin-user`, `admin-password`). */
  grafanaAdminSecret: string;
  /** Secret with the Alertmanager configuration (key `alertmanager.yaml`). */
  alertmanagerConfigSecret: string;
}

interface ResourceList {
  cpu: string;
  memory: string;
}
export interface ResourceRequirements {
  requests: ResourceList;
  limits: ResourceList;
}

function resources(requests: ResourceList, limits: ResourceList): ResourceRequirements {
  return { requests, limits };
}

/**
 * Requests and limits of every container. Sized for Bot3's scale (a few nodes, tens of
 * thousands of series); raise Prometheus' memory first when the cluster grows.
 */
export const componentResources = {
  prometheus: resources({ cpu: "500m", memory: "2Gi" }, { cpu: "2", memory: "4Gi" }),
  alertmanager: resources({ cpu: "50m", memory: "64Mi" }, { cpu: "200m", memory: "256Mi" }),
  configReloader: resources({ cpu: "10m", memory: "32Mi" }, { cpu: "100m", memory: "64Mi" }),
  grafana: resources({ cpu: "100m", memory: "256Mi" }, { cpu: "500m", memory: "512Mi" }),
  grafanaSidecar: resources({ cpu: "20m", memory: "64Mi" }, { cpu: "100m", memory: "128Mi" }),
  operator: resources({ cpu: "100m", memory: "128Mi" }, { cpu: "500m", memory: "256Mi" }),
  webhookJobs: resources({ cpu: "10m", memory: "32Mi" }, { cpu: "100m", memory: "64Mi" }),
  kubeStateMetrics: resources({ cpu: "50m", memory: "128Mi" }, { cpu: "200m", memory: "256Mi" }),
  nodeExporter: resources({ cpu: "20m", memory: "32Mi" }, { cpu: "200m", memory: "64Mi" }),
} as const;

/** A pod security context for the restricted Pod Security profile. */
export function restrictedPod(user: number, group = user) {
  return {
    runAsNonRoot: true,
    runAsUser: user,
    runAsGroup: group,
    fsGroup: group,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** A container security context for the restricted profile. */
export const restrictedContainer = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

// Alertmanager's silences and notification log live on this volume; it is tiny.
const alertmanagerVolumeSize = "2Gi";

/**
 * The operator builds the Prometheus and Alertmanager pods itself; the `containers` and
 * `initContainers` fields are merged into its containers by name, which fixes their
 * security contexts and resources whatever the operator's own defaults are.
 */
function hardenedOperatorContainers(main: string, mainResources: ResourceRequirements) {
  return {
    containers: [
      { name: main, securityContext: restrictedContainer, resources: mainResources },
      {
        name: "config-reloader",
        securityContext: restrictedContainer,
        resources: componentResources.configReloader,
      },
    ],
    initContainers: [
      {
        name: "init-config-reloader",
        securityContext: restrictedContainer,
        resources: componentResources.configReloader,
      },
    ],
  };
}

function volumeClaimTemplate(storageClass: string, size: string) {
  return {
    volumeClaimTemplate: {
      spec: {
        ...(storageClass === "" ? {} : { storageClassName: storageClass }),
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: size } },
      },
    },
  };
}

export function kubePrometheusStackValues(input: ChartValuesInput): Record<string, unknown> {
  const { monitoring } = input;
  return {
    crds: { enabled: true },
    // EKS runs etcd, the scheduler, the controller manager and kube-proxy's metrics out of
    // reach; their scrape jobs and "down" alerts would fail and fire forever.
    kubeEtcd: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeControllerManager: { enabled: false },
    kubeProxy: { enabled: false },
    prometheusOperator: {
      resources: componentResources.operator,
      securityContext: restrictedPod(65534),
      containerSecurityContext: restrictedContainer,
      prometheusConfigReloader: { resources: componentResources.configReloader },
      admissionWebhooks: {
        patch: { resources: componentResources.webhookJobs, securityContext: restrictedPod(2000) },
        createSecretJob: { securityContext: restrictedContainer },
        patchWebhookJob: { securityContext: restrictedContainer },
      },
    },
    prometheus: {
      prometheusSpec: {
        scrapeInterval: monitoring.scrapeInterval,
        evaluationInterval: monitoring.scrapeInterval,
        retention: monitoring.retention,
        retentionSize: monitoring.retentionSize,
        // Without these the chart selects only objects labelled with its release name, and
        // Bot3's ServiceMonitors and PrometheusRule would be ignored.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        scrapeConfigSelectorNilUsesHelmValues: false,
        storageSpec: volumeClaimTemplate(input.storageClass, monitoring.storageSize),
        securityContext: restrictedPod(1000, 2000),
        resources: componentResources.prometheus,
        ...hardenedOperatorContainers("prometheus", componentResources.prometheus),
      },
    },
    alertmanager: {
      alertmanagerSpec: {
        // The configuration, webhook URLs included, comes from a Secret the program writes.
        useExistingSecret: true,
        configSecret: input.alertmanagerConfigSecret,
        storage: volumeClaimTemplate(input.storageClass, alertmanagerVolumeSize),
        securityContext: restrictedPod(1000, 2000),
        resources: componentResources.alertmanager,
        ...hardenedOperatorContainers("alertmanager", componentResources.alertmanager),
      },
    },
    grafana: grafanaValues(input),
    "kube-state-metrics": {
      resources: componentResources.kubeStateMetrics,
      securityContext: { enabled: true, ...restrictedPod(65534) },
      containerSecurityContext: restrictedContainer,
    },
    // Host access is the documented exception: node-exporter reads the node's /proc, /sys and
    // root filesystem and shares its network and PID namespaces. It runs in its own namespace
    // so that the release namespace can enforce the restricted profile.
    "prometheus-node-exporter": {
      namespaceOverride: input.nodeExporterNamespace,
      resources: componentResources.nodeExporter,
      securityContext: restrictedPod(65534),
      containerSecurityContext: restrictedContainer,
    },
  };
}

// Limitation: neither the Grafana chart nor its sidecar image promises to run with a read-only
// root filesystem, so theirs stays writable (the restricted profile does not require it).
const grafanaContainer = { ...restrictedContainer, readOnlyRootFilesystem: false };

function grafanaValues(input: ChartValuesInput): Record<string, unknown> {
  return {
    // The chart's default `adminPassword` is ignored once an existing Secret is named.
    admin: {
      existingSecret: input.grafanaAdminSecret,
      userKey: "admin-user",
      passwordKey: "admin-password",
    },
    resources: componentResources.grafana,
    securityContext: restrictedPod(472),
    containerSecurityContext: grafanaContainer,
    // The chown init container runs as root; it only matters for a persistent volume.
    initChownData: { enabled: false },
    testFramework: { enabled: false },
    "grafana.ini": { server: { root_url: `https://${input.grafanaHost}` } },
    sidecar: {
      resources: componentResources.grafanaSidecar,
      securityContext: grafanaContainer,
      dashboards: {
        enabled: true,
        label: Object.keys(dashboardLabel)[0],
        labelValue: Object.values(dashboardLabel)[0],
        searchNamespace: input.namespace,
      },
    },
    ingress: {
      enabled: true,
      ingressClassName: "nginx",
      annotations: { "cert-manager.io/cluster-issuer": input.clusterIssuer },
      hosts: [input.grafanaHost],
      path: "/",
      tls: [{ secretName: "grafana-tls", hosts: [input.grafanaHost] }],
    },
  };
}
