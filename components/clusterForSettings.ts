import type { Settings } from "../settings";
import type { ClusterAccess } from "./clusterAccess";
import { EksCluster } from "./eksCluster";
import { ExistingCluster } from "./existingCluster";
import { Network } from "./network";
import { commonTags } from "./resourceTags";

/** The cluster that `bot3:cluster.kind` asks for; `eks` is set only when it is an EKS cluster. */
export interface ChosenCluster {
  cluster: ClusterAccess;
  eks?: EksCluster;
}

/**
 * Builds the network and EKS cluster for `kind: eks`, or reaches an existing cluster through
 * its kubeconfig context for `kind: existing`, in which case no AWS resource is declared.
 */
export function clusterForSettings(settings: Settings): ChosenCluster {
  if (settings.cluster.kind === "existing") {
    return {
      cluster: new ExistingCluster("bot3", {
        cluster: settings.cluster,
        storage: settings.storage,
      }),
    };
  }
  const tags = commonTags(settings.environment);
  const network = new Network("bot3", {
    network: settings.network,
    clusterName: settings.cluster.name,
    tags,
  });
  const eks = new EksCluster("bot3", {
    cluster: settings.cluster,
    nodeGroups: settings.nodeGroups,
    storage: settings.storage,
    network,
    dataProtection: settings.dataProtection,
    tags,
  });
  return { cluster: eks, eks };
}
