// The Bot3 platform. Settings are read and validated once; the components are then built in
// the order the architecture guide gives, each handed the outputs it needs.
import * as pulumi from "@pulumi/pulumi";
import { clusterForSettings } from "./components/clusterForSettings";
import { EngineImage, imageTag } from "./components/engineImage";
import { Certificates } from "./components/certificates";
import { EngineIngress } from "./components/engineIngress";
import { EngineNetworkPolicies } from "./components/engineNetworkPolicies";
import { IngressController } from "./components/ingressController";
import { engineLabels, TradingEngine } from "./components/tradingEngine";
import { DataStores } from "./components/dataStores";
import { postgresSelector, redisSelector } from "./components/storeSecurity";
import { MonitoringStack } from "./components/monitoring/monitoringStack";
import { WorkloadNamespace } from "./components/workloadNamespace";
import { loadSettings } from "./settings";

const settings = loadSettings();
const engineImageTag = imageTag(settings.image);

const { cluster, eks: eksCluster } = clusterForSettings(settings);

const engineNamespace = new WorkloadNamespace("bot3-engine", {
  namespace: settings.engine.namespace,
  quota: settings.engine.quota,
  containerDefaults: { requests: settings.engine.requests, limits: settings.engine.limits },
  provider: cluster.provider,
});

const dataStores = new DataStores("bot3-data", {
  database: settings.database,
  cache: settings.cache,
  backup: settings.backup,
  dataProtection: settings.dataProtection,
  awsNamePrefix: settings.cluster.name,
  namespace: engineNamespace.name,
  serviceAccountNamespace: settings.engine.namespace,
  cluster,
});

const engineImage = new EngineImage("bot3-engine-image", {
  image: settings.image,
  tag: engineImageTag,
  architecture: cluster.engineArchitecture,
  repositoryPrefix: settings.cluster.name,
  dataProtection: settings.dataProtection,
});

const ingressController = new IngressController("bot3-ingress", {
  loadBalancer: settings.ingress.loadBalancer,
  provider: cluster.provider,
});

const certificates = new Certificates("bot3-tls", {
  tls: settings.tls,
  ingressClassName: ingressController.ingressClassName,
  keepCrds: settings.dataProtection,
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
      // Grafana's Ingress needs the controller's admission webhook and the ClusterIssuer.
      dependsOn: [ingressController.release, certificates.issuer],
      scraped: {
        namespace: engineNamespace.name,
        namespaceName: settings.engine.namespace,
        engine: "bot3-engine",
        postgresInCluster: settings.database.mode === "in-cluster",
        redisInCluster: settings.cache.mode === "in-cluster",
        backupSchedule: settings.backup.enabled ? settings.backup.schedule : undefined,
      },
    })
  : undefined;

const engine = new TradingEngine("bot3-engine", {
  namespace: engineNamespace.name,
  image: engineImage.imageRef,
  // Local registries hand out tags; the settings refuse tag-only images on every other stack.
  allowTagOnlyImage: settings.environment === "local",
  engine: settings.engine,
  exchangeCredentials: settings.exchangeCredentials,
  engineNodes: cluster.engineNodes,
  provider: cluster.provider,
});

new EngineNetworkPolicies("bot3-engine-network", {
  namespace: engineNamespace.name,
  engineLabels,
  httpPort: settings.engine.httpPort,
  metricsPort: settings.engine.metricsPort,
  database: {
    mode: settings.database.mode,
    port: 5432,
    podLabels: postgresSelector,
  },
  cache: {
    mode: settings.cache.mode,
    port: 6379,
    podLabels: redisSelector,
  },
  vpcCidr: settings.network.vpcCidr,
  allowAcmeSolver: settings.tls.issuer !== "self-signed",
  provider: cluster.provider,
});

const engineIngress = new EngineIngress("bot3-engine-public", {
  namespace: engineNamespace.name,
  host: settings.ingress.host,
  serviceName: engine.serviceName,
  servicePortName: engine.httpPortName,
  ingressClassName: ingressController.ingressClassName,
  clusterIssuerName: certificates.issuerName,
  ingressController: ingressController.release,
  clusterIssuer: certificates.issuer,
  provider: cluster.provider,
});

export const clusterName = pulumi.output(cluster.clusterName);
export const namespace = engineNamespace.name;
// Only EKS stacks have these; on `local` they stay undefined and are not exported.
export const kubeconfig = eksCluster?.kubeconfig;
export const oidcProviderArn = eksCluster?.aws.oidcProviderArn;
export const oidcProviderUrl = eksCluster?.aws.oidcProviderUrl;
export const nodeRoleArns = eksCluster && pulumi.output(eksCluster.nodeRoleArns);
export const imageRef = engineImage.imageRef;
export const registryUrl = engineImage.registryUrl;
export const ingressUrl = engineIngress.url;
export const grafanaUrl = monitoring?.grafanaUrl;
export const postgresConnectionSecret = dataStores.postgresConnectionSecretName;
export const redisConnectionSecret = dataStores.redisConnectionSecretName;
export const backupBucket = dataStores.backupBucketName;
