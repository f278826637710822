import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { storeKey } from "./managedNetworkAccess";

/** Days a replaced or deleted backup stays recoverable as a noncurrent version. */
const noncurrentVersionDays = 7;

export interface BackupBucketArgs {
  /** Days after which a backup expires (`bot3:backup.retentionDays`, at least 7). */
  retentionDays: number;
  /**
   * `protect` on the bucket and its key, and no `forceDestroy`: a bucket that still holds
   * backups cannot be deleted. Off: `pulumi destroy` empties and removes the bucket.
   */
  dataProtection: boolean;
}

/**
 * The S3 bucket that keeps PostgreSQL dumps: private (every public access blocked, owner-only
 * objects), KMS-encrypted, versioned, TLS-only, with objects expiring after the retention.
 */
export class BackupBucket extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  /** Key that encrypts every object; uploads name it explicitly. */
  readonly keyArn: pulumi.Output<string>;
  /** Managed policy that lets a role upload and list backups, and nothing more. */
  readonly writerPolicyArn: pulumi.Output<string>;

  constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:data:BackupBucket", name, {}, opts);
    const childOpts = { parent: this };
    const protect = args.dataProtection;

    const key = storeKey(`${name}-key`, "Bot3 PostgreSQL backups", protect, childOpts);
    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      { forceDestroy: !protect },
      { ...childOpts, protect },
    );
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.keyArn = key.arn;

    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      childOpts,
    );
    new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access-block`,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      childOpts,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        rules: [
          {
            applyServerSideEncryptionByDefault: {
              sseAlgorithm: "aws:kms",
              kmsMasterKeyId: key.arn,
            },
            bucketKeyEnabled: true,
          },
        ],
      },
      childOpts,
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      childOpts,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "expire-backups",
            status: "Enabled",
            filter: {},
            // With `days` set, S3 also removes the delete markers that expiry leaves behind.
            expiration: { days: args.retentionDays },
            noncurrentVersionExpiration: { noncurrentDays: noncurrentVersionDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      // S3 rejects noncurrent-version rules on a bucket whose versioning is not yet configured.
      { ...childOpts, dependsOn: [versioning] },
    );
    new aws.s3.BucketPolicy(
      `${name}-policy`,
      {
        bucket: bucket.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "DenyInsecureTransport",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ],
        }),
      },
      childOpts,
    );

    const writer = new aws.iam.Policy(
      `${name}-writer`,
      {
        description: "Upload PostgreSQL backups to the Bot3 backup bucket",
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "UploadBackups",
              Effect: "Allow",
              Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
              Resource: pulumi.interpolate`${bucket.arn}/*`,
            },
            {
              // The backup script lists the destination to check the uploaded size.
              Sid: "ListBackups",
              Effect: "Allow",
              Action: "s3:ListBucket",
              Resource: bucket.arn,
            },
            {
              // Multipart uploads with SSE-KMS need Decrypt as well as GenerateDataKey.
              Sid: "EncryptBackups",
              Effect: "Allow",
              Action: ["kms:GenerateDataKey", "kms:Decrypt"],
              Resource: key.arn,
            },
          ],
        }),
      },
      childOpts,
    );
    this.writerPolicyArn = writer.arn;
    this.registerOutputs({ bucketName: this.bucketName, writerPolicyArn: this.writerPolicyArn });
  }
}
