// A test-only program: the data stores on ExistingCluster, which exposes no AWS network and no
// IRSA roles, with whatever modes the stack's settings ask for.
import { DataStores } from "../../components/dataStores";
import { ExistingCluster } from "../../components/existingCluster";
import { loadSettings } from "../../settings";

const settings = loadSettings();
const cluster = new ExistingCluster("bot3", {
  cluster: settings.cluster,
  storage: settings.storage,
});

new DataStores("bot3-data", {
  database: settings.database,
  cache: settings.cache,
  backup: settings.backup,
  dataProtection: settings.dataProtection,
  awsNamePrefix: settings.cluster.name,
  namespace: settings.engine.namespace,
  serviceAccountNamespace: settings.engine.namespace,
  cluster,
});
