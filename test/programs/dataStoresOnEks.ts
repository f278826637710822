// A test-only program: the data stores on a stand-in for the EKS cluster, which exposes the
// VPC, subnets, node security group and IRSA roles that ExistingCluster lacks. It lets the
// managed (RDS, ElastiCache) and S3-backup paths run under the mock runtime with the real
// stack files until index.ts builds the EKS cluster.
import { DataStores } from "../../components/dataStores";
import { loadSettings } from "../../settings";
import { standInCluster } from "./standInCluster";

const settings = loadSettings();

const cluster = standInCluster(settings.cluster.name);

const dataStores = new DataStores("bot3-data", {
  database: settings.database,
  cache: settings.cache,
  backup: settings.backup,
  dataProtection: settings.dataProtection,
  awsNamePrefix: settings.cluster.name,
  namespace: settings.engine.namespace,
  serviceAccountNamespace: settings.engine.namespace,
  cluster,
});

export const postgresConnectionSecret = dataStores.postgresConnectionSecretName;
export const redisConnectionSecret = dataStores.redisConnectionSecretName;
export const postgresHost = dataStores.postgresHost;
export const redisHost = dataStores.redisHost;
export const backupBucket = dataStores.backupBucketName;
