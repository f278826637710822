import * as fs from "fs";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import type { BackupSettings } from "../settings";
import {
  backupSelector,
  dnsEgress,
  restrictedContainerSecurity,
  restrictedPodSecurity,
} from "./storeSecurity";

/** The dump script, read when the program runs and mounted into the job from a ConfigMap. */
export const backupScriptPath = path.join(__dirname, "..", "scripts", "backup-postgres.sh");
/** The postgres image's user, under which both containers run. */
const backupUid = 999;
const objectName = "bot3-postgres-backup";
const stagingDir = "/staging";
const volumeDir = "/backups";

/** Where the dumps go. */
export type BackupDestination =
  | {
      kind: "s3";
      bucketName: pulumi.Input<string>;
      /** KMS key the uploads are encrypted with. */
      kmsKeyArn: pulumi.Input<string>;
      /** IAM role the job's service account assumes through IRSA; it may write the bucket. */
      roleArn: pulumi.Input<string>;
    }
  | {
      kind: "volume";
      /** StorageClass of the backup volume; "" means the cluster's default class. */
      storageClass: string;
      /** Keeps the backup volume when the stack is destroyed. */
      dataProtection: boolean;
    };

export interface PostgresBackupArgs {
  /**
   * `schedule` (cron, UTC), `retentionDays` (volume pruning), `storageSize` (volume) and
   * `uploadImage`. No official image has both pg_dump and the AWS CLI, so the dump runs in a
   * postgres image and the upload in the official AWS CLI image (from ECR Public, which has
   * no Docker Hub pull limits).
   */
  settings: BackupSettings;
  /** Image with pg_dump, at least as new as the server's major version. */
  dumpImage: string;
  namespace: pulumi.Input<string>;
  /** Secret with host, port, user, password, database and sslmode (see storeConnection.ts). */
  connectionSecretName: pulumi.Input<string>;
  destination: BackupDestination;
  /** Room for one compressed dump in the job's scratch volume, such as 20Gi. */
  scratchSize: string;
  /** The cluster's provider. */
  provider: k8s.Provider;
}

/**
 * A CronJob that dumps PostgreSQL (custom format, compressed) and stores the dump in S3 or on a
 * volume. The dump runs in an init container; the second container uploads it (S3) or prunes
 * dumps older than the retention (volume), so a failed dump never reaches either step.
 */
export class PostgresBackup extends pulumi.ComponentResource {
  readonly cronJobName: pulumi.Output<string>;

  constructor(name: string, args: PostgresBackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:data:PostgresBackup", name, {}, opts);
    const childOpts = { parent: this, provider: args.provider };
    const { namespace, destination, settings } = args;
    const labels = { ...backupSelector, "app.kubernetes.io/part-of": "bot3" };
    const toS3 = destination.kind === "s3";

    const script = new k8s.core.v1.ConfigMap(
      `${name}-script`,
      {
        metadata: { name: `${objectName}-script`, namespace, labels },
        data: { "backup-postgres.sh": fs.readFileSync(backupScriptPath, "utf8") },
      },
      childOpts,
    );
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      {
        metadata: {
          name: objectName,
          namespace,
          labels,
          ...(toS3 ? { annotations: { "eks.amazonaws.com/role-arn": destination.roleArn } } : {}),
        },
        automountServiceAccountToken: false,
      },
      childOpts,
    );
    const volumeClaim =
      destination.kind === "volume"
        ? new k8s.core.v1.PersistentVolumeClaim(
            `${name}-volume`,
            {
              metadata: {
                name: `${objectName}s`,
                namespace,
                labels,
                // Bound only when the first job's pod is scheduled (WaitForFirstConsumer).
                annotations: { "pulumi.com/skipAwait": "true" },
              },
              spec: {
                accessModes: ["ReadWriteOnce"],
                ...(destination.storageClass === ""
                  ? {}
                  : { storageClassName: destination.storageClass }),
                resources: { requests: { storage: settings.storageSize } },
              },
            },
            {
              ...childOpts,
              protect: destination.dataProtection,
              retainOnDelete: destination.dataProtection,
            },
          )
        : undefined;

    new k8s.networking.v1.NetworkPolicy(
      `${name}-network-policy`,
      {
        metadata: { name: objectName, namespace, labels },
        spec: {
          podSelector: { matchLabels: backupSelector },
          policyTypes: ["Ingress", "Egress"],
          egress: [
            dnsEgress,
            // RDS lives outside the cluster, so PostgreSQL is allowed by port, not by pod.
            { ports: [{ protocol: "TCP", port: 5432 }] },
            ...(toS3 ? [{ ports: [{ protocol: "TCP", port: 443 }] }] : []),
          ],
        },
      },
      childOpts,
    );

    const fromSecret = (key: string) => ({
      valueFrom: { secretKeyRef: { name: args.connectionSecretName, key } },
    });
    const dumpDir = toS3 ? stagingDir : volumeDir;
    const dump: k8s.types.input.core.v1.Container = {
      name: "dump",
      image: args.dumpImage,
      command: ["bash", "/scripts/backup-postgres.sh"],
      env: [
        { name: "PGHOST", ...fromSecret("host") },
        { name: "PGPORT", ...fromSecret("port") },
        { name: "PGUSER", ...fromSecret("user") },
        { name: "PGDATABASE", ...fromSecret("database") },
        { name: "PGSSLMODE", ...fromSecret("sslmode") },
        { name: "PGPASSWORD", ...fromSecret("password") },
        // The dump lands in a directory; the next container takes it from there.
        { name: "BACKUP_DESTINATION", value: dumpDir },
        { name: "TMPDIR", value: "/tmp" },
      ],
      securityContext: restrictedContainerSecurity(),
      resources: {
        requests: { cpu: "100m", memory: "256Mi" },
        limits: { cpu: "1", memory: "1Gi" },
      },
      volumeMounts: [
        { name: "script", mountPath: "/scripts", readOnly: true },
        { name: toS3 ? "staging" : "backups", mountPath: dumpDir },
        { name: "tmp", mountPath: "/tmp" },
      ],
    };
    const finish: k8s.types.input.core.v1.Container =
      destination.kind === "s3"
        ? {
            name: "upload",
            image: settings.uploadImage,
            // $(VAR) is expanded by the kubelet, so no shell is needed.
            command: ["aws", "s3", "cp", "--recursive", "--no-progress", `${stagingDir}/`],
            args: [
              "$(BACKUP_BUCKET_URI)",
              "--sse",
              "aws:kms",
              "--sse-kms-key-id",
              "$(BACKUP_KMS_KEY_ID)",
            ],
            env: [
              {
                name: "BACKUP_BUCKET_URI",
                value: pulumi.interpolate`s3://${destination.bucketName}/postgres/`,
              },
              { name: "BACKUP_KMS_KEY_ID", value: destination.kmsKeyArn },
              // The CLI writes its cache under $HOME; the root filesystem is read-only.
              { name: "HOME", value: "/tmp" },
            ],
            securityContext: restrictedContainerSecurity(),
            resources: {
              requests: { cpu: "50m", memory: "128Mi" },
              limits: { cpu: "500m", memory: "512Mi" },
            },
            volumeMounts: [
              { name: "staging", mountPath: stagingDir, readOnly: true },
              { name: "tmp", mountPath: "/tmp" },
            ],
          }
        : {
            name: "prune",
            image: args.dumpImage,
            command: ["find", volumeDir, "-name", "*.dump", "-type", "f"],
            args: ["-mtime", `+${settings.retentionDays - 1}`, "-print", "-delete"],
            securityContext: restrictedContainerSecurity(),
            resources: {
              requests: { cpu: "10m", memory: "16Mi" },
              limits: { cpu: "100m", memory: "64Mi" },
            },
            volumeMounts: [{ name: "backups", mountPath: volumeDir }],
          };

    const cronJob = new k8s.batch.v1.CronJob(
      `${name}-cronjob`,
      {
        metadata: { name: objectName, namespace, labels },
        spec: {
          schedule: settings.schedule,
          timeZone: "Etc/UTC",
          concurrencyPolicy: "Forbid",
          startingDeadlineSeconds: 600,
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 5,
          jobTemplate: {
            metadata: { labels },
            spec: {
              backoffLimit: 2,
              // A dump that runs this long is stuck; the next schedule must not wait on it.
              activeDeadlineSeconds: 3 * 3600,
              template: {
                metadata: { labels },
                spec: {
                  serviceAccountName: serviceAccount.metadata.name,
                  automountServiceAccountToken: false,
                  enableServiceLinks: false,
                  restartPolicy: "Never",
                  securityContext: restrictedPodSecurity(backupUid),
                  initContainers: [dump],
                  containers: [finish],
                  volumes: [
                    {
                      name: "script",
                      configMap: { name: script.metadata.name, defaultMode: 0o555 },
                    },
                    { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
                    volumeClaim === undefined
                      ? { name: "staging", emptyDir: { sizeLimit: args.scratchSize } }
                      : {
                          name: "backups",
                          persistentVolumeClaim: { claimName: volumeClaim.metadata.name },
                        },
                  ],
                },
              },
            },
          },
        },
      },
      childOpts,
    );
    this.cronJobName = cronJob.metadata.name;
    this.registerOutputs({ cronJobName: this.cronJobName });
  }
}
