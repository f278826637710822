import { strict as assert } from "node:assert";
import * as fs from "fs";
import { backupScriptPath } from "../components/postgresBackup";
import { kubernetesObject, resource, runStack, type ProgramRun } from "./harness";
import {
  allContainers,
  containerNamed,
  podSpecOf,
  runOnEks,
  type Container,
} from "./dataStoreRuns";

type CronJobSpec = {
  schedule: string;
  concurrencyPolicy: string;
  startingDeadlineSeconds: number;
  successfulJobsHistoryLimit: number;
  failedJobsHistoryLimit: number;
  jobTemplate: { spec: { backoffLimit: number } };
};

function cronJob(run: ProgramRun) {
  return kubernetesObject(run, "CronJob", "bot3-postgres-backup");
}

function envOf(container: Container): Record<string, unknown> {
  return Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
}

describe("PostgreSQL backup CronJob", () => {
  let local: ProgramRun;
  let staging: ProgramRun;
  before(async () => {
    local = await runStack("local");
    staging = await runOnEks("staging");
  });

  it("runs on the schedule from settings, never twice at once, with deadlines and history", () => {
    const spec = cronJob(local).inputs.spec as CronJobSpec;
    assert.deepEqual(
      {
        schedule: spec.schedule,
        concurrencyPolicy: spec.concurrencyPolicy,
        startingDeadlineSeconds: spec.startingDeadlineSeconds,
        backoffLimit: spec.jobTemplate.spec.backoffLimit,
        successfulJobsHistoryLimit: spec.successfulJobsHistoryLimit,
        failedJobsHistoryLimit: spec.failedJobsHistoryLimit,
      },
      {
        schedule: "0 3 * * *",
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: 600,
        backoffLimit: 2,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 5,
      },
    );
    assert.equal((cronJob(staging).inputs.spec as CronJobSpec).schedule, "0 */6 * * *");
  });

  for (const stack of ["local", "staging"]) {
    it(`holds every container to the workload security rules (${stack})`, () => {
      const pod = podSpecOf(cronJob(stack === "local" ? local : staging));
      assert.deepEqual(pod.securityContext, {
        runAsNonRoot: true,
        runAsUser: 999,
        runAsGroup: 999,
        fsGroup: 999,
        fsGroupChangePolicy: "OnRootMismatch",
        seccompProfile: { type: "RuntimeDefault" },
      });
      assert.equal(pod.automountServiceAccountToken, false);
      for (const container of allContainers(pod)) {
        const security = container.securityContext;
        assert.deepEqual(
          [security?.readOnlyRootFilesystem, security?.allowPrivilegeEscalation],
          [true, false],
          container.name,
        );
        assert.deepEqual(security?.capabilities, { drop: ["ALL"] }, container.name);
        assert.ok(container.resources?.limits?.memory && container.resources.requests?.cpu);
        assert.doesNotMatch(String(container.image), /:latest$|^[^:]+$/, container.name);
      }
    });
  }

  it("dumps with the server's own postgres image and the mounted script", () => {
    const dump = containerNamed(podSpecOf(cronJob(local)), "dump");
    assert.equal(dump.image, "postgres:16.6");
    assert.deepEqual(dump.command, ["bash", "/scripts/backup-postgres.sh"]);
    const script = kubernetesObject(local, "ConfigMap", "bot3-postgres-backup-script");
    const data = script.inputs.data as Record<string, string>;
    assert.equal(data["backup-postgres.sh"], fs.readFileSync(backupScriptPath, "utf8"));
  });

  it("reads the connection from the Secret, the password only through secretKeyRef", () => {
    const env = envOf(containerNamed(podSpecOf(cronJob(staging)), "dump"));
    for (const [name, key] of [
      ["PGHOST", "host"],
      ["PGPORT", "port"],
      ["PGUSER", "user"],
      ["PGDATABASE", "database"],
      ["PGSSLMODE", "sslmode"],
      ["PGPASSWORD", "password"],
    ]) {
      assert.deepEqual(
        env[name],
        { secretKeyRef: { name: "bot3-postgres-connection", key } },
        name,
      );
    }
  });

  it("keeps dumps on a volume on local, pruned after the retention", () => {
    const pod = podSpecOf(cronJob(local));
    assert.equal(envOf(containerNamed(pod, "dump")).BACKUP_DESTINATION, "/backups");
    const prune = containerNamed(pod, "prune");
    assert.deepEqual(prune.args, ["-mtime", "+6", "-print", "-delete"]);
    const volume = (pod.volumes ?? []).find((v) => v.name === "backups");
    assert.equal(volume?.persistentVolumeClaim?.claimName, "bot3-postgres-backups");
    const claim = kubernetesObject(local, "PersistentVolumeClaim", "bot3-postgres-backups");
    const spec = claim.inputs.spec as { resources: { requests: { storage: string } } };
    assert.equal(spec.resources.requests.storage, "10Gi");
  });

  it("uploads to the bucket with SSE-KMS through an IRSA role on EKS", () => {
    const pod = podSpecOf(cronJob(staging));
    const upload = containerNamed(pod, "upload");
    assert.match(String(upload.image), /^public\.ecr\.aws\/aws-cli\/aws-cli:2\.\d+\.\d+$/);
    const env = envOf(upload);
    assert.equal(env.BACKUP_BUCKET_URI, "s3://bot3-data-backup-bucket-0123456/postgres/");
    assert.match(String(env.BACKUP_KMS_KEY_ID), /key\/bot3-data-backup-key/);
    assert.deepEqual(upload.args?.slice(1, 3), ["--sse", "aws:kms"]);
    const account = kubernetesObject(staging, "ServiceAccount", "bot3-postgres-backup");
    const annotations = (account.inputs.metadata as { annotations: Record<string, string> })
      .annotations;
    assert.equal(
      annotations["eks.amazonaws.com/role-arn"],
      "arn:aws:iam::123456789012:role/bot3-data-backup",
    );
    assert.equal(pod.serviceAccountName, "bot3-postgres-backup");
  });

  it("takes digest-pinned images from settings, for stacks whose policy requires digests", async () => {
    const digest = `@sha256:${"a".repeat(64)}`;
    const run = await runOnEks("staging", {
      "bot3:backup": {
        dumpImage: `postgres:16.6${digest}`,
        uploadImage: `public.ecr.aws/aws-cli/aws-cli:2.22.0${digest}`,
      },
    });
    const pod = podSpecOf(cronJob(run));
    assert.equal(containerNamed(pod, "dump").image, `postgres:16.6${digest}`);
    assert.equal(
      containerNamed(pod, "upload").image,
      `public.ecr.aws/aws-cli/aws-cli:2.22.0${digest}`,
    );
  });

  it("gives the IRSA role only the bucket's writer policy", () => {
    const attachment = resource(
      staging,
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
      "bot3-data-backup-policy-0",
    );
    assert.match(String(attachment.inputs.policyArn), /policy\/bot3-data-backup-writer$/);
    const policy = JSON.parse(
      String(resource(staging, "aws:iam/policy:Policy", "bot3-data-backup-writer").inputs.policy),
    ) as { Statement: { Action: string | string[] }[] };
    const actions = policy.Statement.flatMap((s) => s.Action).sort();
    assert.deepEqual(actions, [
      "kms:Decrypt",
      "kms:GenerateDataKey",
      "s3:AbortMultipartUpload",
      "s3:ListBucket",
      "s3:PutObject",
    ]);
  });

  it("lets backup pods reach only DNS, PostgreSQL and HTTPS, and nothing reach them", () => {
    const policy = kubernetesObject(staging, "NetworkPolicy", "bot3-postgres-backup");
    const spec = policy.inputs.spec as {
      policyTypes: string[];
      ingress?: unknown[];
      egress: { ports: { port: number }[] }[];
    };
    assert.deepEqual(spec.policyTypes, ["Ingress", "Egress"]);
    assert.equal(spec.ingress, undefined);
    assert.deepEqual(
      spec.egress.map((rule) => rule.ports.map((p) => p.port)),
      [[53, 53], [5432], [443]],
    );
  });
});

describe("Backup bucket", () => {
  let staging: ProgramRun;
  before(async () => {
    staging = await runOnEks("staging");
  });
  const part = (type: string, name: string) => resource(staging, `aws:s3/${type}`, name).inputs;

  it("blocks every kind of public access and enforces owner-only objects", () => {
    const block = part(
      "bucketPublicAccessBlock:BucketPublicAccessBlock",
      "bot3-data-backup-public-access-block",
    );
    assert.deepEqual(
      [
        block.blockPublicAcls,
        block.blockPublicPolicy,
        block.ignorePublicAcls,
        block.restrictPublicBuckets,
      ],
      [true, true, true, true],
    );
    const ownership = part(
      "bucketOwnershipControls:BucketOwnershipControls",
      "bot3-data-backup-ownership",
    );
    assert.deepEqual(ownership.rule, { objectOwnership: "BucketOwnerEnforced" });
  });

  it("encrypts with its own KMS key by default", () => {
    const encryption = part(
      "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "bot3-data-backup-encryption",
    );
    const rules = encryption.rules as {
      applyServerSideEncryptionByDefault: { sseAlgorithm: string; kmsMasterKeyId: string };
    }[];
    assert.equal(rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "aws:kms");
    assert.match(
      rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId,
      /key\/bot3-data-backup-key/,
    );
  });

  it("is versioned", () => {
    const versioning = part("bucketVersioning:BucketVersioning", "bot3-data-backup-versioning");
    assert.deepEqual(versioning.versioningConfiguration, { status: "Enabled" });
  });

  it("expires backups after the retention in settings", async () => {
    const lifecycle = part(
      "bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "bot3-data-backup-lifecycle",
    );
    const rules = lifecycle.rules as { status: string; expiration: { days: number } }[];
    assert.deepEqual([rules[0].status, rules[0].expiration.days], ["Enabled", 14]);
    const longer = await runOnEks("staging", { "bot3:backup": { retentionDays: 90 } });
    const changed = resource(
      longer,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "bot3-data-backup-lifecycle",
    );
    assert.equal((changed.inputs.rules as typeof rules)[0].expiration.days, 90);
  });

  it("refuses requests that do not use TLS", () => {
    const policy = JSON.parse(
      String(part("bucketPolicy:BucketPolicy", "bot3-data-backup-policy").policy),
    ) as {
      Statement: { Effect: string; Condition: unknown }[];
    };
    assert.deepEqual(policy.Statement[0].Effect, "Deny");
    assert.deepEqual(policy.Statement[0].Condition, { Bool: { "aws:SecureTransport": "false" } });
  });

  it("creates no bucket when backups stay on a volume", async () => {
    const local = await runStack("local");
    assert.equal(local.resources.filter((r) => r.type === "aws:s3/bucket:Bucket").length, 0);
  });
});
