import { strict as assert } from "node:assert";
import { kubernetesObject, resource, resourcesOfType, type ProgramRun } from "./harness";
import { runOnEks } from "./dataStoreRuns";
import {
  standInNodeSecurityGroupId,
  standInPrivateSubnetIds,
  standInVpcId,
} from "./programs/standInCluster";

const rdsInstance = "aws:rds/instance:Instance";
const replicationGroup = "aws:elasticache/replicationGroup:ReplicationGroup";
const ingressRule = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const securityGroup = "aws:ec2/securityGroup:SecurityGroup";
const kmsKey = "aws:kms/key:Key";

/** Staging with both stores switched to managed: the path without data protection. */
const managedStaging = {
  "bot3:database": { mode: "managed" },
  "bot3:cache": { mode: "managed", version: "7.1" },
};

function connectionValues(run: ProgramRun, name: string): Record<string, string> {
  return kubernetesObject(run, "Secret", name).inputs.stringData as Record<string, string>;
}

describe("Managed PostgreSQL (RDS)", () => {
  let production: ProgramRun;
  let instance: Record<string, unknown>;
  before(async () => {
    production = await runOnEks("production");
    instance = resource(production, rdsInstance, "bot3-data-postgres-instance").inputs;
  });

  it("runs the engine version from settings, private and KMS-encrypted", () => {
    const key = resource(production, kmsKey, "bot3-data-postgres-key");
    assert.deepEqual(
      {
        engine: instance.engine,
        engineVersion: instance.engineVersion,
        storageEncrypted: instance.storageEncrypted,
        publiclyAccessible: instance.publiclyAccessible,
      },
      {
        engine: "postgres",
        engineVersion: "16.6",
        storageEncrypted: true,
        publiclyAccessible: false,
      },
    );
    assert.match(String(instance.kmsKeyId), /^arn:aws:kms:.*:key\/bot3-data-postgres-key/);
    assert.equal(key.inputs.enableKeyRotation, true);
  });

  it("places the instance in a subnet group of the cluster's private subnets", () => {
    const group = resource(
      production,
      "aws:rds/subnetGroup:SubnetGroup",
      "bot3-data-postgres-subnets",
    );
    assert.deepEqual(group.inputs.subnetIds, standInPrivateSubnetIds);
    assert.equal(instance.dbSubnetGroupName, "bot3-data-postgres-subnets-0123456");
  });

  it("admits 5432 only from the cluster's node security group", () => {
    const group = resource(production, securityGroup, "bot3-data-postgres-security-group");
    assert.equal(group.inputs.vpcId, standInVpcId);
    assert.equal(group.inputs.ingress, undefined, "no inline rule");
    assert.equal(group.inputs.egress, undefined, "no egress rule");
    const rules = resourcesOfType(production, ingressRule).filter((r) =>
      r.name.startsWith("bot3-data-postgres-"),
    );
    assert.deepEqual(
      rules.map((r) => [r.inputs.referencedSecurityGroupId, r.inputs.fromPort, r.inputs.toPort]),
      [[standInNodeSecurityGroupId, 5432, 5432]],
    );
    assert.equal(rules[0].inputs.cidrIpv4, undefined);
    assert.deepEqual(instance.vpcSecurityGroupIds, ["bot3-data-postgres-security-group-id"]);
  });

  it("is Multi-AZ with storage autoscaling and 30 days of backups in production", () => {
    assert.deepEqual(
      [instance.multiAz, instance.allocatedStorage, instance.maxAllocatedStorage],
      [true, 100, 500],
    );
    assert.equal(instance.backupRetentionPeriod, 30);
  });

  it("turns storage autoscaling off when the maximum equals the allocation", async () => {
    const run = await runOnEks("production", {
      "bot3:database": { maxAllocatedStorageGb: 100 },
    });
    assert.equal(
      resource(run, rdsInstance, "bot3-data-postgres-instance").inputs.maxAllocatedStorage,
      0,
    );
  });

  it("records Performance Insights, encrypted with the instance's key", () => {
    assert.equal(instance.performanceInsightsEnabled, true);
    assert.equal(instance.performanceInsightsKmsKeyId, instance.kmsKeyId);
    assert.equal(instance.performanceInsightsRetentionPeriod, 7);
  });

  it("forces TLS through a parameter group of the version's family", () => {
    const group = resource(
      production,
      "aws:rds/parameterGroup:ParameterGroup",
      "bot3-data-postgres-parameters",
    );
    assert.equal(group.inputs.family, "postgres16");
    const parameters = group.inputs.parameters as { name: string; value: string }[];
    assert.deepEqual(
      parameters.filter((p) => p.name === "rds.force_ssl").map((p) => p.value),
      ["1"],
    );
    assert.equal(instance.parameterGroupName, "bot3-data-postgres-parameters-0123456");
  });

  it("takes its master password from a RandomPassword, as a secret", () => {
    const password = resource(
      production,
      "random:index/randomPassword:RandomPassword",
      "bot3-data-postgres-password",
    );
    assert.ok(Number(password.inputs.length) >= 32);
    const registered = resource(production, rdsInstance, "bot3-data-postgres-instance");
    assert.equal(registered.maskedInputs.password, "[secret]");
    assert.match(String(instance.password), /^offline-random-password-bot3-data-postgres-password/);
  });

  it("tells the engine to require TLS", () => {
    const values = connectionValues(production, "bot3-postgres-connection");
    assert.equal(values.sslmode, "require");
    assert.equal(
      values.host,
      "bot3-data-postgres-instance.abcdefghijkl.eu-west-1.rds.amazonaws.com",
    );
    assert.equal(values.port, "5432");
    assert.equal(values.password, instance.password);
  });

  it("runs no PostgreSQL StatefulSet", () => {
    assert.throws(() => kubernetesObject(production, "StatefulSet", "bot3-postgres"));
  });
});

describe("Managed Redis (ElastiCache)", () => {
  let production: ProgramRun;
  let group: Record<string, unknown>;
  before(async () => {
    production = await runOnEks("production");
    group = resource(production, replicationGroup, "bot3-data-redis-replication-group").inputs;
  });

  it("encrypts at rest with its own KMS key and in transit, behind a secret auth token", () => {
    assert.equal(group.atRestEncryptionEnabled, true);
    assert.match(String(group.kmsKeyId), /key\/bot3-data-redis-key/);
    assert.equal(group.transitEncryptionEnabled, true);
    const registered = resource(production, replicationGroup, "bot3-data-redis-replication-group");
    assert.equal(registered.maskedInputs.authToken, "[secret]");
    assert.ok(String(group.authToken).length >= 16);
  });

  it("fails over automatically across zones in production", () => {
    assert.deepEqual(
      [group.numCacheClusters, group.automaticFailoverEnabled, group.multiAzEnabled],
      [2, true, true],
    );
  });

  it("keeps snapshots for the retention in settings", () => {
    assert.equal(group.snapshotRetentionLimit, 7);
    assert.equal(group.engineVersion, "7.1");
  });

  it("admits 6379 only from the cluster's node security group, in private subnets", () => {
    const rules = resourcesOfType(production, ingressRule).filter((r) =>
      r.name.startsWith("bot3-data-redis-"),
    );
    assert.deepEqual(
      rules.map((r) => [r.inputs.referencedSecurityGroupId, r.inputs.fromPort, r.inputs.toPort]),
      [[standInNodeSecurityGroupId, 6379, 6379]],
    );
    const subnets = resource(
      production,
      "aws:elasticache/subnetGroup:SubnetGroup",
      "bot3-data-redis-subnets",
    );
    assert.deepEqual(subnets.inputs.subnetIds, standInPrivateSubnetIds);
  });

  it("tells the engine to use TLS and the auth token", () => {
    const values = connectionValues(production, "bot3-redis-connection");
    assert.deepEqual(
      { tls: values.tls, port: values.port, password: values.password },
      { tls: "true", port: "6379", password: group.authToken },
    );
    assert.match(values.host, /^master\./);
  });

  it("has no failover with a single node outside production", async () => {
    const run = await runOnEks("staging", managedStaging);
    const single = resource(run, replicationGroup, "bot3-data-redis-replication-group").inputs;
    assert.deepEqual([single.automaticFailoverEnabled, single.multiAzEnabled], [false, false]);
  });
});

describe("Production data protection", () => {
  let production: ProgramRun;
  let staging: ProgramRun;
  before(async () => {
    production = await runOnEks("production");
    staging = await runOnEks("staging", managedStaging);
  });

  it("turns on deletion protection and a final snapshot for RDS", () => {
    const instance = resource(production, rdsInstance, "bot3-data-postgres-instance").inputs;
    assert.deepEqual(
      [instance.deletionProtection, instance.skipFinalSnapshot, instance.finalSnapshotIdentifier],
      [true, false, "bot3-production-postgres-final"],
    );
  });

  it("takes a final snapshot of the Redis group", () => {
    const group = resource(production, replicationGroup, "bot3-data-redis-replication-group");
    assert.equal(group.inputs.finalSnapshotIdentifier, "bot3-production-redis-final");
  });

  it("has Pulumi protect every stateful resource and the keys that encrypt it", () => {
    const stateful = [
      [rdsInstance, "bot3-data-postgres-instance"],
      [replicationGroup, "bot3-data-redis-replication-group"],
      [kmsKey, "bot3-data-postgres-key"],
      [kmsKey, "bot3-data-redis-key"],
      [kmsKey, "bot3-data-backup-key"],
      ["aws:s3/bucket:Bucket", "bot3-data-backup-bucket"],
    ];
    for (const [type, name] of stateful) {
      assert.equal(resource(production, type, name).protect, true, name);
    }
  });

  it("lets a stack without data protection tear down without manual steps", () => {
    const instance = resource(staging, rdsInstance, "bot3-data-postgres-instance");
    assert.deepEqual(
      [instance.inputs.deletionProtection, instance.inputs.skipFinalSnapshot, instance.protect],
      [false, true, false],
    );
    assert.equal(instance.inputs.finalSnapshotIdentifier, undefined);
    const group = resource(staging, replicationGroup, "bot3-data-redis-replication-group");
    assert.deepEqual([group.protect, group.inputs.finalSnapshotIdentifier], [false, undefined]);
    assert.equal(
      resource(staging, "aws:s3/bucket:Bucket", "bot3-data-backup-bucket").inputs.forceDestroy,
      true,
    );
    assert.ok(staging.resources.every((r) => !r.protect));
  });

  it("names AWS resources after the cluster so stacks in one account do not collide", () => {
    const staged = resource(staging, rdsInstance, "bot3-data-postgres-instance").inputs;
    assert.equal(staged.identifier, "bot3-staging-postgres");
    const group = resource(staging, replicationGroup, "bot3-data-redis-replication-group").inputs;
    assert.equal(group.replicationGroupId, "bot3-staging-redis");
  });
});
