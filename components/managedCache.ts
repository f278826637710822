import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { CacheSettings } from "../settings";
import { storeKey, storeSecurityGroup, type ManagedNetworkArgs } from "./managedNetworkAccess";
import { redisConnectionSecret } from "./storeConnection";

const redisPort = 6379;

export interface ManagedCacheArgs extends ManagedNetworkArgs {
  /**
   * `version` (ElastiCache Redis OSS engine version, major.minor), `nodeType`, `nodes`
   * (primary plus replicas; two or more turn on automatic failover and Multi-AZ) and
   * `snapshotRetentionDays`. The in-cluster fields are ignored.
   */
  settings: CacheSettings;
  /** Replication group id: unique in the account and region, at most 40 characters. */
  replicationGroupId: string;
  /**
   * A final snapshot on delete and `protect` on the group, its key and its auth token.
   * ElastiCache has no deletion protection of its own, so `protect` is what stops a delete.
   */
  dataProtection: boolean;
  /** Namespace of the engine, where the connection Secret is written. */
  namespace: pulumi.Input<string>;
  /** The cluster's provider, for the connection Secret. */
  provider: k8s.Provider;
}

/**
 * Redis on an ElastiCache replication group, encrypted at rest (KMS) and in transit, behind an
 * auth token, in private subnets, reachable on 6379 from the cluster's nodes only.
 */
export class ManagedCache extends pulumi.ComponentResource {
  readonly connectionSecretName: pulumi.Output<string>;
  /** Primary endpoint of the group; it follows the primary on failover. */
  readonly host: pulumi.Output<string>;
  readonly replicationGroup: aws.elasticache.ReplicationGroup;

  constructor(name: string, args: ManagedCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:data:ManagedCache", name, {}, opts);
    const childOpts = { parent: this };
    const protect = args.dataProtection;
    const { settings } = args;
    const groupId = args.replicationGroupId;

    const subnets = new aws.elasticache.SubnetGroup(
      `${name}-subnets`,
      { subnetIds: args.subnetIds, description: `Private subnets of ${groupId}` },
      childOpts,
    );
    const securityGroup = storeSecurityGroup(
      `${name}-security-group`,
      `Redis ${groupId}`,
      redisPort,
      args,
      childOpts,
    );
    const key = storeKey(`${name}-key`, `Data of ${groupId}`, protect, childOpts);
    // ElastiCache accepts 16 to 128 printable characters and only a few symbols; letters and
    // digits avoid the ones it refuses.
    const authToken = new random.RandomPassword(
      `${name}-auth-token`,
      { length: 64, special: false },
      { ...childOpts, protect },
    );

    const replicated = settings.nodes >= 2;
    this.replicationGroup = new aws.elasticache.ReplicationGroup(
      `${name}-replication-group`,
      {
        replicationGroupId: groupId,
        description: `Hot state of the Bot3 engine (${groupId})`,
        engine: "redis",
        engineVersion: settings.version,
        nodeType: settings.nodeType,
        numCacheClusters: settings.nodes,
        port: redisPort,
        automaticFailoverEnabled: replicated,
        multiAzEnabled: replicated,
        atRestEncryptionEnabled: true,
        kmsKeyId: key.arn,
        transitEncryptionEnabled: true,
        authToken: authToken.result,
        subnetGroupName: subnets.name,
        securityGroupIds: [securityGroup.id],
        snapshotRetentionLimit: settings.snapshotRetentionDays,
        ...(protect ? { finalSnapshotIdentifier: `${groupId}-final` } : {}),
        autoMinorVersionUpgrade: true,
      },
      { ...childOpts, protect },
    );
    this.host = this.replicationGroup.primaryEndpointAddress;

    const secret = redisConnectionSecret(
      `${name}-connection`,
      args.namespace,
      {
        host: this.replicationGroup.primaryEndpointAddress,
        port: this.replicationGroup.port.apply((p) => p ?? redisPort),
        password: authToken.result,
        tls: true,
      },
      { parent: this, provider: args.provider },
    );
    this.connectionSecretName = secret.metadata.name;
    this.registerOutputs({ connectionSecretName: this.connectionSecretName, host: this.host });
  }
}
