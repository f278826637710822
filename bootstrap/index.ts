// Bootstrap of the shared Pulumi state: the S3 bucket that holds every stack's state and the
// KMS key that encrypts their secrets. Both are protected: losing either loses every stack.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
const region = new pulumi.Config("aws").require("region");
const bucketName = config.require("bucketName");
const keyAlias = config.get("keyAlias") ?? "bot3-pulumi";
const noncurrentVersionDays = config.getNumber("noncurrentVersionDays") ?? 90;

const problems = [
  ...(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucketName) && !bucketName.includes("..")
    ? []
    : [
        `bot3-state:bucketName "${bucketName}" is not a valid S3 bucket name: use 3 to 63 ` +
          `lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit.`,
      ]),
  ...(/^[a-zA-Z0-9/_-]+$/.test(keyAlias) && !keyAlias.startsWith("alias/")
    ? []
    : [`bot3-state:keyAlias "${keyAlias}" must be a bare alias name such as bot3-pulumi.`]),
  ...(Number.isInteger(noncurrentVersionDays) && noncurrentVersionDays >= 7
    ? []
    : [
        `bot3-state:noncurrentVersionDays is ${noncurrentVersionDays}; keep older state ` +
          `versions at least 7 days.`,
      ]),
];
if (problems.length > 0) throw new Error(problems.join("\n"));

const protect = { protect: true };

// The default key policy (the account's IAM decides who may use the key) keeps the key usable
// by the deploy roles without listing them here.
const secretsKey = new aws.kms.Key(
  "bot3-state-secrets",
  {
    description: "Encrypts the secrets of the Bot3 Pulumi stacks (awskms secrets provider)",
    enableKeyRotation: true,
    deletionWindowInDays: 30,
  },
  protect,
);

const secretsKeyAlias = new aws.kms.Alias("bot3-state-secrets", {
  name: `alias/${keyAlias}`,
  targetKeyId: secretsKey.keyId,
});

const bucket = new aws.s3.Bucket(
  "bot3-state",
  { bucket: bucketName, forceDestroy: false },
  protect,
);

const publicAccess = new aws.s3.BucketPublicAccessBlock("bot3-state", {
  bucket: bucket.id,
  blockPublicAcls: true,
  blockPublicPolicy: true,
  ignorePublicAcls: true,
  restrictPublicBuckets: true,
});

new aws.s3.BucketOwnershipControls("bot3-state", {
  bucket: bucket.id,
  rule: { objectOwnership: "BucketOwnerEnforced" },
});

// State history is the way back from a bad update, so every overwrite keeps a version.
const versioning = new aws.s3.BucketVersioning("bot3-state", {
  bucket: bucket.id,
  versioningConfiguration: { status: "Enabled" },
});

new aws.s3.BucketServerSideEncryptionConfiguration("bot3-state", {
  bucket: bucket.id,
  rules: [
    {
      applyServerSideEncryptionByDefault: {
        sseAlgorithm: "aws:kms",
        kmsMasterKeyId: secretsKey.arn,
      },
      bucketKeyEnabled: true,
    },
  ],
});

new aws.s3.BucketLifecycleConfiguration(
  "bot3-state",
  {
    bucket: bucket.id,
    rules: [
      {
        id: "expire-old-state-versions",
        status: "Enabled",
        filter: {},
        noncurrentVersionExpiration: { noncurrentDays: noncurrentVersionDays },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
      },
    ],
  },
  // S3 rejects a lifecycle configuration with version rules until versioning is on.
  { dependsOn: [versioning] },
);

new aws.s3.BucketPolicy(
  "bot3-state",
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
        {
          Sid: "DenyOutdatedTls",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
          Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } },
        },
      ],
    }),
  },
  // With BlockPublicPolicy on, S3 checks each policy; applying both at once can race.
  { dependsOn: [publicAccess] },
);

export const stateBucket = bucket.bucket;
export const secretsKeyArn = secretsKey.arn;
export const backendUrl = pulumi.interpolate`s3://${bucket.bucket}?region=${region}&awssdk=v2`;
export const secretsProvider = pulumi.interpolate`awskms://${secretsKeyAlias.name}?region=${region}`;
