// The Bot3 platform. Settings are read and validated once; the components are then built in
// the order the architecture guide gives, each handed the outputs it needs.
import * as pulumi from "@pulumi/pulumi";
import { clusterForSettings } from "./components/clusterForSettings";
import { EngineImage, imageTag } from "./components/engineImage";
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

const engineImage = new EngineImage("bot3-engine-image", {
  image: settings.image,
  tag: engineImageTag,
  architecture: cluster.engineArchitecture,
  repositoryPrefix: settings.cluster.name,
  dataProtection: settings.dataProtection,
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
