/**
 * S3 buckets are private, encrypted and versioned. In @pulumi/aws 7.x these settings live in
 * separate resources that point at the bucket, so this is a stack policy that matches them to
 * their bucket by reference: the `bucket` property's dependency on the bucket resource, or, when
 * known, the bucket's name.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { exemptResourcesSchema } from "../kubernetes/pod-policy";
import { isRecord } from "../kubernetes/pod-template";
import { DeferredUnknowns } from "../preview-unknowns";

const bucketTypes = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const publicAccessBlockType = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const encryptionTypes = [
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
];
const versioningTypes = [
  "aws:s3/bucketVersioning:BucketVersioning",
  "aws:s3/bucketVersioningV2:BucketVersioningV2",
];
export const publicAccessFlags = [
  "blockPublicAcls",
  "blockPublicPolicy",
  "ignorePublicAcls",
  "restrictPublicBuckets",
];
const sseAlgorithms = ["AES256", "aws:kms", "aws:kms:dsse"];

/** Whether a companion resource's `bucket` refers to this bucket. May read unknown values. */
function refersTo(companion: PolicyResource, bucket: PolicyResource): boolean {
  if ((companion.propertyDependencies.bucket ?? []).includes(bucket)) {
    return true;
  }
  const reference: unknown = companion.props.bucket;
  return reference === bucket.props.bucket || reference === bucket.props.id;
}

function blocksPublicAccess(companion: PolicyResource): boolean {
  return publicAccessFlags.every((flag) => companion.props[flag] === true);
}

function encryptsByDefault(rule: unknown): boolean {
  const byDefault = isRecord(rule) ? rule.applyServerSideEncryptionByDefault : undefined;
  return isRecord(byDefault) && sseAlgorithms.includes(byDefault.sseAlgorithm as string);
}

function encrypts(companion: PolicyResource): boolean {
  const rules: unknown = companion.props.rules;
  return Array.isArray(rules) && rules.some(encryptsByDefault);
}

function versions(companion: PolicyResource): boolean {
  const configuration: unknown = companion.props.versioningConfiguration;
  return isRecord(configuration) && configuration.status === "Enabled";
}

interface Requirement {
  companionTypes: string[];
  satisfiedBy: (companion: PolicyResource) => boolean;
  /** The deprecated inline form on the bucket itself. */
  inline?: (bucket: PolicyResource) => boolean;
  problem: string;
  fix: string;
}

const requirements: Requirement[] = [
  {
    companionTypes: [publicAccessBlockType],
    satisfiedBy: blocksPublicAccess,
    problem: "has no BucketPublicAccessBlock with all four flags set",
    fix:
      `Add an aws.s3.BucketPublicAccessBlock for it with ${publicAccessFlags.join(", ")} ` +
      `all true.`,
  },
  {
    companionTypes: encryptionTypes,
    satisfiedBy: encrypts,
    inline: (bucket) => {
      const inline: unknown = bucket.props.serverSideEncryptionConfiguration;
      return isRecord(inline) && encryptsByDefault(inline.rule);
    },
    problem: "has no default server-side encryption",
    fix:
      "Add an aws.s3.BucketServerSideEncryptionConfiguration for it whose rule sets " +
      'applyServerSideEncryptionByDefault.sseAlgorithm to "aws:kms" (or "AES256").',
  },
  {
    companionTypes: versioningTypes,
    satisfiedBy: versions,
    inline: (bucket) => {
      const inline: unknown = bucket.props.versioning;
      return isRecord(inline) && inline.enabled === true;
    },
    problem: "is not versioned",
    fix: 'Add an aws.s3.BucketVersioning for it with versioningConfiguration.status "Enabled".',
  },
];

export const s3BucketPolicy: StackValidationPolicy = {
  name: "s3-buckets-private-encrypted-versioned",
  description: "Every S3 bucket blocks public access, encrypts by default and keeps versions.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: { properties: { exemptResources: exemptResourcesSchema } },
  validateStack: (args, reportViolation) => {
    const { exemptResources = [] } = args.getConfig<{ exemptResources?: string[] }>();
    const unknowns = new DeferredUnknowns();
    const buckets = args.resources.filter(
      (resource) => bucketTypes.includes(resource.type) && !exemptResources.includes(resource.name),
    );
    for (const bucket of buckets) {
      for (const requirement of requirements) {
        let satisfied = false;
        let decided = true;
        const candidates = args.resources.filter((resource) =>
          requirement.companionTypes.includes(resource.type),
        );
        for (const companion of candidates) {
          const known = unknowns.attempt(() => {
            satisfied ||= refersTo(companion, bucket) && requirement.satisfiedBy(companion);
          });
          decided = decided && known;
        }
        if (requirement.inline) {
          const inline = requirement.inline;
          const known = unknowns.attempt(() => {
            satisfied ||= inline(bucket);
          });
          decided = decided && known;
        }
        if (!satisfied && decided) {
          reportViolation(
            `S3 bucket "${bucket.name}" ${requirement.problem}. ${requirement.fix}`,
            bucket.urn,
          );
        }
      }
    }
    unknowns.settle();
  },
};
