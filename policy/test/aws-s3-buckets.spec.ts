import { strict as assert } from "node:assert";
import type { OfflineResource } from "../policies/offline";
import { unknownStringValue } from "../policies/sdk-proxy";
import { findingsOf, messagesOf } from "./policy-harness";
import { Props, resource } from "./workload-builders";

const policy = "s3-buckets-private-encrypted-versioned";

/** A bucket and its three companions, each pointing at the bucket by name and dependency. */
function bucketStack(
  change: { type?: string; props?: Props; drop?: string } = {},
): OfflineResource[] {
  const bucket = resource("aws:s3/bucket:Bucket", "reports", { bucket: "bot3-reports" });
  const refer = (type: string, name: string, props: Props) =>
    resource(
      type,
      name,
      { bucket: "bot3-reports", ...props },
      { propertyDependencies: { bucket: [bucket.urn] } },
    );
  const companions = [
    refer("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "reports-pab", {
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }),
    refer(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "reports-sse",
      {
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }],
      },
    ),
    refer("aws:s3/bucketVersioning:BucketVersioning", "reports-versioning", {
      versioningConfiguration: { status: "Enabled" },
    }),
  ];
  for (const companion of companions) {
    if (companion.type === change.type) {
      Object.assign(companion.props, change.props);
    }
  }
  return [bucket, ...companions.filter((companion) => companion.type !== change.drop)];
}

describe("s3-buckets-private-encrypted-versioned", () => {
  it("accepts a bucket whose three companions are all set", () => {
    assert.deepEqual(messagesOf(policy, bucketStack()), []);
  });

  it("flags a public access block with one flag off", () => {
    const stack = bucketStack({
      type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      props: { restrictPublicBuckets: false },
    });
    assert.deepEqual(messagesOf(policy, stack), [
      'S3 bucket "reports" has no BucketPublicAccessBlock with all four flags set. Add an ' +
        "aws.s3.BucketPublicAccessBlock for it with blockPublicAcls, blockPublicPolicy, " +
        "ignorePublicAcls, " +
        "restrictPublicBuckets all true.",
    ]);
    const [finding] = findingsOf(policy, stack);
    assert.equal(finding.resourceName, "reports");
  });

  it("flags a bucket without encryption or versioning resources", () => {
    const sse =
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
    assert.match(
      messagesOf(policy, bucketStack({ drop: sse }))[0],
      /has no default server-side encryption/,
    );
    const versioning = "aws:s3/bucketVersioning:BucketVersioning";
    assert.match(messagesOf(policy, bucketStack({ drop: versioning }))[0], /is not versioned/);
    const suspended = bucketStack({
      type: versioning,
      props: { versioningConfiguration: { status: "Suspended" } },
    });
    assert.equal(messagesOf(policy, suspended).length, 1);
  });

  it("matches companions of BucketV2 by name when no dependency is recorded", () => {
    const [bucket, ...companions] = bucketStack();
    bucket.type = "aws:s3/bucketV2:BucketV2";
    for (const companion of companions) {
      delete companion.propertyDependencies;
    }
    assert.deepEqual(messagesOf(policy, [bucket, ...companions]), []);
    const other = companions.map((c) => ({ ...c, props: { ...c.props, bucket: "other" } }));
    assert.equal(messagesOf(policy, [bucket, ...other]).length, 3);
  });

  it("matches by dependency while the bucket name is unknown in preview", () => {
    const [bucket, ...companions] = bucketStack();
    bucket.props.bucket = unknownStringValue;
    for (const companion of companions) {
      companion.props.bucket = unknownStringValue;
    }
    assert.deepEqual(findingsOf(policy, [bucket, ...companions]), []);
  });
});
