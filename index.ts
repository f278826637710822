// The Bot3 platform. Settings are read and validated once; the components are then built in
// the order the architecture guide gives, each handed the outputs it needs.
import * as pulumi from "@pulumi/pulumi";
import { DataStores } from "./components/dataStores";
import { ExistingCluster } from "./components/existingCluster";
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

const dataStores = new DataStores("bot3-data", {
  database: settings.database,
  cache: settings.cache,
  backup: settings.backup,
  dataProtection: settings.dataProtection,
  awsNamePrefix: settings.cluster.name,
  namespace: engineNamespace.name,
  cluster,
});

export const clusterName = pulumi.output(cluster.clusterName);
export const namespace = engineNamespace.name;
export const postgresConnectionSecret = dataStores.postgresConnectionSecretName;
export const redisConnectionSecret = dataStores.redisConnectionSecretName;
export const backupBucket = dataStores.backupBucketName;
