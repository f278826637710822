import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { DatabaseSettings } from "../settings";
import { storeKey, storeSecurityGroup, type ManagedNetworkArgs } from "./managedNetworkAccess";
import { postgresConnectionSecret } from "./storeConnection";

const postgresPort = 5432;

export interface ManagedDatabaseArgs extends ManagedNetworkArgs {
  /**
   * `version` (RDS engine version; its major picks the parameter group family), `name`,
   * `user`, `instanceClass`, `allocatedStorageGb`, `maxAllocatedStorageGb` (equal to the
   * allocation turns storage autoscaling off), `multiAz`, `backupRetentionDays` and
   * `performanceInsightsRetentionDays`. The in-cluster fields are ignored.
   */
  settings: DatabaseSettings;
  /** RDS instance identifier, unique in the account and region, such as bot3-staging-postgres. */
  identifier: string;
  /**
   * Deletion protection, a final snapshot on delete, and `protect` on the instance, its key
   * and its password. Off: `pulumi destroy` removes everything without a snapshot.
   */
  dataProtection: boolean;
  /** Namespace of the engine, where the connection Secret is written. */
  namespace: pulumi.Input<string>;
  /** The cluster's provider, for the connection Secret. */
  provider: k8s.Provider;
}

/**
 * PostgreSQL on RDS: KMS-encrypted storage and Performance Insights, private subnets only, a
 * security group that admits the cluster's nodes on 5432, and a parameter group that refuses
 * connections without TLS. The engine gets the connection details as a Kubernetes Secret.
 */
export class ManagedDatabase extends pulumi.ComponentResource {
  readonly connectionSecretName: pulumi.Output<string>;
  /** Endpoint address of the instance. */
  readonly host: pulumi.Output<string>;
  readonly instance: aws.rds.Instance;

  constructor(name: string, args: ManagedDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:data:ManagedDatabase", name, {}, opts);
    const childOpts = { parent: this };
    const protect = args.dataProtection;
    const { settings } = args;

    const subnets = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      { subnetIds: args.subnetIds, description: `Private subnets of ${args.identifier}` },
      childOpts,
    );
    const securityGroup = storeSecurityGroup(
      `${name}-security-group`,
      `PostgreSQL ${args.identifier}`,
      postgresPort,
      args,
      childOpts,
    );

    const key = storeKey(`${name}-key`, `Storage of ${args.identifier}`, protect, childOpts);
    const major = settings.version.split(".")[0];
    const parameters = new aws.rds.ParameterGroup(
      `${name}-parameters`,
      {
        family: `postgres${major}`,
        description: `TLS-only PostgreSQL ${major} for ${args.identifier}`,
        parameters: [{ name: "rds.force_ssl", value: "1", applyMethod: "immediate" }],
      },
      childOpts,
    );
    // RDS refuses '/', '@', '"' and spaces in passwords; letters and digits need no escaping
    // in a connection string either.
    const password = new random.RandomPassword(
      `${name}-password`,
      { length: 40, special: false },
      { ...childOpts, protect },
    );

    const autoscaling = settings.maxAllocatedStorageGb > settings.allocatedStorageGb;
    this.instance = new aws.rds.Instance(
      `${name}-instance`,
      {
        identifier: args.identifier,
        engine: "postgres",
        engineVersion: settings.version,
        // The version is owned by settings; an automatic upgrade would make Pulumi see drift.
        autoMinorVersionUpgrade: false,
        instanceClass: settings.instanceClass,
        dbName: settings.name,
        username: settings.user,
        password: password.result,
        port: postgresPort,
        storageType: "gp3",
        allocatedStorage: settings.allocatedStorageGb,
        maxAllocatedStorage: autoscaling ? settings.maxAllocatedStorageGb : 0,
        storageEncrypted: true,
        kmsKeyId: key.arn,
        multiAz: settings.multiAz,
        dbSubnetGroupName: subnets.name,
        vpcSecurityGroupIds: [securityGroup.id],
        publiclyAccessible: false,
        parameterGroupName: parameters.name,
        caCertIdentifier: "rds-ca-rsa2048-g1",
        backupRetentionPeriod: settings.backupRetentionDays,
        copyTagsToSnapshot: true,
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: key.arn,
        performanceInsightsRetentionPeriod: settings.performanceInsightsRetentionDays,
        enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
        deletionProtection: protect,
        skipFinalSnapshot: !protect,
        ...(protect ? { finalSnapshotIdentifier: `${args.identifier}-final` } : {}),
        deleteAutomatedBackups: !protect,
      },
      { ...childOpts, protect },
    );
    this.host = this.instance.address;

    const secret = postgresConnectionSecret(
      `${name}-connection`,
      args.namespace,
      {
        host: this.instance.address,
        port: this.instance.port,
        user: settings.user,
        password: password.result,
        database: settings.name,
        sslmode: "require",
      },
      { parent: this, provider: args.provider },
    );
    this.connectionSecretName = secret.metadata.name;
    this.registerOutputs({ connectionSecretName: this.connectionSecretName, host: this.host });
  }
}
