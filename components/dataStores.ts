import * as pulumi from "@pulumi/pulumi";
import type { BackupSettings, CacheSettings, DatabaseSettings } from "../settings";
import { BackupBucket } from "./backupBucket";
import type { AwsClusterResources, ClusterAccess } from "./clusterAccess";
import { ManagedCache } from "./managedCache";
import { ManagedDatabase } from "./managedDatabase";
import type { ManagedNetworkArgs } from "./managedNetworkAccess";
import { InClusterPostgres } from "./postgres";
import { PostgresBackup, type BackupDestination } from "./postgresBackup";
import { InClusterRedis } from "./redis";

export interface DataStoresArgs {
  /** `mode` picks RDS or the in-cluster StatefulSet; see ManagedDatabase and InClusterPostgres. */
  database: DatabaseSettings;
  /** `mode` picks ElastiCache or the in-cluster StatefulSet. */
  cache: CacheSettings;
  /** `enabled`, `destination` (s3 needs the cluster's `irsaRole`), schedule and retention. */
  backup: BackupSettings;
  /** `bot3:dataProtection`: protect, retain, deletion protection and final snapshots. */
  dataProtection: boolean;
  /** Prefix of the AWS identifiers (RDS instance, replication group): the cluster's name. */
  awsNamePrefix: string;
  /** Namespace of the engine; connection Secrets and in-cluster stores go there. */
  namespace: pulumi.Input<string>;
  /**
   * The same namespace as plain text, for the backup job's IRSA trust policy: IAM names the
   * service account before the namespace exists.
   */
  serviceAccountNamespace: string;
  /**
   * The cluster. Managed stores need its `aws` network and node security group; S3 backups
   * need its `aws.irsaRole`. An existing cluster has no `aws`, and such settings fail here.
   */
  cluster: ClusterAccess;
}

/**
 * PostgreSQL and Redis, each managed (AWS) or in the cluster as the settings say, and the
 * backup CronJob. Whatever the mode, the engine finds each store through one connection Secret.
 */
export class DataStores extends pulumi.ComponentResource {
  readonly postgresConnectionSecretName: pulumi.Output<string>;
  readonly redisConnectionSecretName: pulumi.Output<string>;
  readonly postgresHost: pulumi.Output<string>;
  readonly redisHost: pulumi.Output<string>;
  /** The backup bucket, when backups go to S3. */
  readonly backupBucketName?: pulumi.Output<string>;

  constructor(name: string, args: DataStoresArgs, opts?: pulumi.ComponentResourceOptions) {
    const awsAccess = awsAccessFor(args);
    super("bot3:data:DataStores", name, {}, opts);
    const { cluster, namespace, dataProtection } = args;
    const provider = cluster.provider;
    const storageClass = cluster.storageClasses.retain;

    const postgres =
      args.database.mode === "managed"
        ? new ManagedDatabase(
            `${name}-postgres`,
            {
              ...requireNetwork(awsAccess, "database"),
              settings: args.database,
              identifier: `${args.awsNamePrefix}-postgres`,
              dataProtection,
              namespace,
              provider,
            },
            { parent: this },
          )
        : new InClusterPostgres(
            `${name}-postgres`,
            { settings: args.database, namespace, storageClass, dataProtection, provider },
            { parent: this },
          );
    const redis =
      args.cache.mode === "managed"
        ? new ManagedCache(
            `${name}-redis`,
            {
              ...requireNetwork(awsAccess, "cache"),
              settings: args.cache,
              replicationGroupId: `${args.awsNamePrefix}-redis`,
              dataProtection,
              namespace,
              provider,
            },
            { parent: this },
          )
        : new InClusterRedis(
            `${name}-redis`,
            { settings: args.cache, namespace, storageClass, dataProtection, provider },
            { parent: this },
          );
    this.postgresConnectionSecretName = postgres.connectionSecretName;
    this.redisConnectionSecretName = redis.connectionSecretName;
    this.postgresHost = postgres.host;
    this.redisHost = redis.host;

    if (args.backup.enabled) {
      let destination: BackupDestination;
      if (args.backup.destination === "s3") {
        const irsaRole = awsAccess.irsaRole;
        if (irsaRole === undefined) throw missingIrsa();
        const bucket = new BackupBucket(
          `${name}-backup`,
          { retentionDays: args.backup.retentionDays, dataProtection },
          { parent: this },
        );
        this.backupBucketName = bucket.bucketName;
        const role = irsaRole(
          `${name}-backup`,
          args.serviceAccountNamespace,
          "bot3-postgres-backup",
          [bucket.writerPolicyArn],
        );
        destination = {
          kind: "s3",
          bucketName: bucket.bucketName,
          kmsKeyArn: bucket.keyArn,
          roleArn: role.arn,
        };
      } else {
        destination = { kind: "volume", storageClass, dataProtection };
      }
      new PostgresBackup(
        `${name}-backup`,
        {
          settings: args.backup,
          // pg_dump must be at least as new as the server: the server's own image by default.
          dumpImage:
            args.backup.dumpImage === ""
              ? `postgres:${args.database.version}`
              : args.backup.dumpImage,
          namespace,
          connectionSecretName: postgres.connectionSecretName,
          destination,
          scratchSize:
            args.database.mode === "managed"
              ? `${args.database.maxAllocatedStorageGb}Gi`
              : args.database.storageSize,
          provider,
        },
        { parent: this },
      );
    }
    this.registerOutputs({
      postgresConnectionSecretName: this.postgresConnectionSecretName,
      redisConnectionSecretName: this.redisConnectionSecretName,
    });
  }
}

interface AwsAccess {
  network?: { vpcId: pulumi.Input<string>; privateSubnetIds: pulumi.Input<string>[] };
  nodeSecurityGroupId?: pulumi.Input<string>;
  irsaRole?: AwsClusterResources["irsaRole"];
}

/**
 * Checks, before any resource exists, that the cluster offers what the settings ask for.
 * The settings rules already refuse managed stores on an existing cluster; this catches a
 * cluster component that does not (yet) expose its network.
 */
function awsAccessFor(args: DataStoresArgs): AwsAccess {
  const { cluster } = args;
  const aws = cluster.aws;
  const access: AwsAccess = {
    network: aws && { vpcId: aws.vpcId, privateSubnetIds: aws.privateSubnetIds },
    nodeSecurityGroupId: aws?.nodeSecurityGroupId,
    irsaRole: aws?.irsaRole.bind(aws),
  };
  for (const store of ["database", "cache"] as const) {
    if (args[store].mode === "managed") requireNetwork(access, store);
  }
  if (args.backup.enabled && args.backup.destination === "s3" && !access.irsaRole) {
    throw missingIrsa();
  }
  return access;
}

function requireNetwork(access: AwsAccess, store: "database" | "cache"): ManagedNetworkArgs {
  const { network, nodeSecurityGroupId } = access;
  if (network === undefined || nodeSecurityGroupId === undefined) {
    throw new Error(
      `bot3:${store}.mode = "managed" needs the cluster's VPC, private subnets and node ` +
        "security group, but the cluster component provides no AWS network " +
        '(only the EKS cluster of bot3:cluster.kind = "eks" does); build the cluster with ' +
        `the EKS cluster component, or set bot3:${store}.mode to "in-cluster"`,
    );
  }
  return {
    vpcId: network.vpcId,
    subnetIds: network.privateSubnetIds,
    allowedSecurityGroupIds: [nodeSecurityGroupId],
  };
}

function missingIrsa(): Error {
  return new Error(
    'bot3:backup.destination = "s3" needs an IRSA role for the backup job, but the cluster ' +
      'component provides no irsaRole (only the EKS cluster of bot3:cluster.kind = "eks" ' +
      "does); build the cluster with the EKS cluster component, or set " +
      'bot3:backup.destination to "volume"',
  );
}
