// The Bot3 platform. Settings are read and validated once; the components are then built in
// the order the architecture guide gives, each handed the outputs it needs.
import * as pulumi from "@pulumi/pulumi";
import { EngineImage, imageTag } from "./components/engineImage";
import { ExistingCluster } from "./components/existingCluster";
import { WorkloadNamespace } from "./components/workloadNamespace";
import { loadSettings } from "./settings";

const settings = loadSettings();
const engineImageTag = imageTag(settings.image);

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

const engineImage = new EngineImage("bot3-engine-image", {
  image: settings.image,
  tag: engineImageTag,
  architecture: cluster.engineArchitecture,
  repositoryPrefix: settings.cluster.name,
  dataProtection: settings.dataProtection,
});

export const clusterName = pulumi.output(cluster.clusterName);
export const namespace = engineNamespace.name;
export const imageRef = engineImage.imageRef;
export const registryUrl = engineImage.registryUrl;
