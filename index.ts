// The Bot3 platform. Settings are read and validated once; the components are then built in
// the order the architecture guide gives, each handed the outputs it needs.
import * as pulumi from "@pulumi/pulumi";
import type { ClusterAccess } from "./components/clusterAccess";
import { EksCluster } from "./components/eksCluster";
import { ExistingCluster } from "./components/existingCluster";
import { Network } from "./components/network";
import { commonTags } from "./components/resourceTags";
import { WorkloadNamespace } from "./components/workloadNamespace";
import { loadSettings } from "./settings";

const settings = loadSettings();

const eksCluster = settings.cluster.kind === "eks" ? buildEksCluster() : undefined;
const cluster: ClusterAccess =
  eksCluster ??
  new ExistingCluster("bot3", { cluster: settings.cluster, storage: settings.storage });

const engineNamespace = new WorkloadNamespace("bot3-engine", {
  namespace: settings.engine.namespace,
  quota: settings.engine.quota,
  containerDefaults: { requests: settings.engine.requests, limits: settings.engine.limits },
  provider: cluster.provider,
});

export const clusterName = pulumi.output(cluster.clusterName);
export const namespace = engineNamespace.name;
export const kubeconfig = eksCluster?.kubeconfig;
export const oidcProviderArn = eksCluster?.aws.oidcProviderArn;
export const oidcProviderUrl = eksCluster?.aws.oidcProviderUrl;
export const nodeRoleArns = eksCluster && pulumi.output(eksCluster.nodeRoleArns);

function buildEksCluster(): EksCluster {
  const tags = commonTags(settings.environment);
  const network = new Network("bot3", {
    network: settings.network,
    clusterName: settings.cluster.name,
    tags,
  });
  return new EksCluster("bot3", {
    cluster: settings.cluster,
    nodeGroups: settings.nodeGroups,
    storage: settings.storage,
    network,
    dataProtection: settings.dataProtection,
    tags,
  });
}
