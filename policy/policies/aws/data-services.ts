/**
 * Encryption and exposure rules for the AWS services that hold data or keys: EKS, RDS,
 * ElastiCache, ECR, KMS and EBS. Property names are those of @pulumi/aws 7.x.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isRecord } from "../kubernetes/pod-template";
import { requireValue, resourcePolicy } from "../resource-policy";

const openToTheWorld = ["0.0.0.0/0", "::/0"];
export const eksLogTypes = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

export const eksClusterPolicy: ResourceValidationPolicy = resourcePolicy({
  name: "eks-cluster-hardened",
  description:
    "EKS clusters keep the API private to known networks, log everything and encrypt Secrets.",
  enforcementLevel: "mandatory",
  severity: "high",
  types: ["aws:eks/cluster:Cluster"],
  check: ({ name, props, report, attempt }) => {
    const subject = `EKS cluster "${name}"`;
    attempt(() => {
      const vpcConfig: unknown = props.vpcConfig;
      const vpc = isRecord(vpcConfig) ? vpcConfig : {};
      // EKS defaults to a public endpoint open to 0.0.0.0/0 when these are left unset.
      if (vpc.endpointPublicAccess === false) {
        return;
      }
      const cidrs = Array.isArray(vpc.publicAccessCidrs)
        ? (vpc.publicAccessCidrs as unknown[])
        : undefined;
      const open =
        cidrs === undefined
          ? ["0.0.0.0/0 (the default)"]
          : cidrs.filter((cidr) => openToTheWorld.includes(cidr as string));
      if (open.length > 0) {
        report(
          `${subject} exposes its public API endpoint to ${open.join(", ")} through ` +
            "vpcConfig.publicAccessCidrs. Set vpcConfig.endpointPublicAccess to false, or list " +
            "only the operators' CIDRs in vpcConfig.publicAccessCidrs.",
        );
      }
    });
    attempt(() => {
      const enabled: unknown = props.enabledClusterLogTypes;
      const types = Array.isArray(enabled) ? enabled : [];
      const missing = eksLogTypes.filter((type) => !types.includes(type));
      if (missing.length > 0) {
        report(
          `${subject} does not enable the control-plane log types ${missing.join(", ")}. ` +
            `Set enabledClusterLogTypes to ${JSON.stringify(eksLogTypes)}.`,
        );
      }
    });
    attempt(() => {
      const encryption: unknown = props.encryptionConfig;
      const resources =
        isRecord(encryption) && Array.isArray(encryption.resources) ? encryption.resources : [];
      const provider = isRecord(encryption) ? encryption.provider : undefined;
      const keyArn = isRecord(provider) ? provider.keyArn : undefined;
      if (!resources.includes("secrets") || keyArn === undefined || keyArn === "") {
        report(
          `${subject} does not encrypt Kubernetes Secrets with a KMS key. Set ` +
            'encryptionConfig to { resources: ["secrets"], provider: { keyArn: <KMS key ARN> } }.',
        );
      }
    });
  },
});

interface DatabaseConfig {
  requireDeletionProtection?: boolean;
  minimumBackupRetentionDays?: number;
}

export const rdsInstancePolicy: ResourceValidationPolicy = resourcePolicy<DatabaseConfig>({
  name: "rds-instance-protected",
  description:
    "RDS instances are encrypted, private, backed up for a week and, where asked, protected " +
    "from deletion.",
  enforcementLevel: "mandatory",
  severity: "high",
  types: ["aws:rds/instance:Instance"],
  options: {
    requireDeletionProtection: {
      type: "boolean",
      default: false,
      description: "Require deletionProtection (set in production).",
    },
    minimumBackupRetentionDays: { type: "integer", minimum: 1, default: 7 },
  },
  check: (context) => {
    const { name, props, config, report, attempt } = context;
    const subject = `RDS instance "${name}"`;
    requireValue(
      context,
      subject,
      "storageEncrypted",
      true,
      "its storage and snapshots would be unencrypted",
    );
    attempt(() => {
      if (props.publiclyAccessible === true) {
        report(
          `${subject} sets publiclyAccessible to true. Set it to false and reach the database ` +
            `from inside the VPC.`,
        );
      }
    });
    attempt(() => {
      const minimum = config.minimumBackupRetentionDays ?? 7;
      const retention = props.backupRetentionPeriod;
      if (typeof retention !== "number" || retention < minimum) {
        const found =
          retention === undefined
            ? "does not set backupRetentionPeriod"
            : `sets backupRetentionPeriod to ${JSON.stringify(retention)}`;
        report(`${subject} ${found}. Set backupRetentionPeriod to at least ${minimum} days.`);
      }
    });
    if (config.requireDeletionProtection === true) {
      requireValue(
        context,
        subject,
        "deletionProtection",
        true,
        "this stack requires deletion protection",
      );
    }
  },
});

export const elastiCachePolicy: ResourceValidationPolicy = resourcePolicy({
  name: "elasticache-encrypted",
  description:
    "ElastiCache replication groups encrypt data at rest and in transit and require " +
    "authentication.",
  enforcementLevel: "mandatory",
  severity: "high",
  types: ["aws:elasticache/replicationGroup:ReplicationGroup"],
  check: (context) => {
    const { name, props, report, attempt } = context;
    const subject = `ElastiCache replication group "${name}"`;
    requireValue(
      context,
      subject,
      "atRestEncryptionEnabled",
      true,
      "cached data would be stored unencrypted",
    );
    requireValue(
      context,
      subject,
      "transitEncryptionEnabled",
      true,
      "clients would talk to it in clear text",
    );
    attempt(() => {
      const userGroups: unknown = props.userGroupIds;
      const hasUserGroups = Array.isArray(userGroups) && userGroups.length > 0;
      const token = props.authToken;
      if (!hasUserGroups && (typeof token !== "string" || token === "")) {
        report(
          `${subject} sets neither authToken nor userGroupIds, so any client in the network can ` +
            "connect. Set authToken from a secret (or userGroupIds for RBAC users).",
        );
      }
    });
  },
});

export const ecrRepositoryPolicy: ResourceValidationPolicy = resourcePolicy({
  name: "ecr-repository-hardened",
  description: "ECR repositories scan images on push and keep tags immutable.",
  enforcementLevel: "mandatory",
  severity: "medium",
  types: ["aws:ecr/repository:Repository"],
  check: (context) => {
    const { name, props, report, attempt } = context;
    const subject = `ECR repository "${name}"`;
    attempt(() => {
      const scanning: unknown = props.imageScanningConfiguration;
      if (!isRecord(scanning) || scanning.scanOnPush !== true) {
        report(
          `${subject} does not scan images on push. Set imageScanningConfiguration.scanOnPush ` +
            `to true.`,
        );
      }
    });
    requireValue(
      context,
      subject,
      "imageTagMutability",
      "IMMUTABLE",
      "a pushed tag could later point at another image",
    );
  },
});

export const kmsKeyRotationPolicy: ResourceValidationPolicy = resourcePolicy({
  name: "kms-key-rotation",
  description: "Symmetric KMS keys rotate their key material automatically.",
  enforcementLevel: "mandatory",
  severity: "medium",
  types: ["aws:kms/key:Key"],
  check: (context) => {
    const { name, props, attempt } = context;
    // AWS can rotate only symmetric encryption keys; asymmetric and HMAC keys are exempt.
    let symmetric = false;
    const specKnown = attempt(() => {
      const spec = props.customerMasterKeySpec;
      symmetric = spec === undefined || spec === "SYMMETRIC_DEFAULT";
    });
    if (specKnown && symmetric) {
      const why = "its key material would never change";
      requireValue(context, `KMS key "${name}"`, "enableKeyRotation", true, why);
    }
  },
});

export const ebsVolumePolicy: ResourceValidationPolicy = resourcePolicy({
  name: "ebs-volume-encrypted",
  description: "EBS volumes are encrypted.",
  enforcementLevel: "mandatory",
  severity: "high",
  types: ["aws:ebs/volume:Volume"],
  check: (context) =>
    requireValue(
      context,
      `EBS volume "${context.name}"`,
      "encrypted",
      true,
      "its data and snapshots would be unencrypted",
    ),
});

export const ebsStorageClassPolicy: ResourceValidationPolicy = resourcePolicy({
  name: "ebs-storage-class-encrypted",
  description: "Kubernetes StorageClasses of the EBS CSI driver create encrypted volumes.",
  enforcementLevel: "mandatory",
  severity: "high",
  types: ["kubernetes:storage.k8s.io/v1:StorageClass"],
  check: ({ name, props, report, attempt }) =>
    void attempt(() => {
      if (props.provisioner !== "ebs.csi.aws.com") {
        return;
      }
      const parameters: unknown = props.parameters;
      const encrypted = isRecord(parameters) ? parameters.encrypted : undefined;
      if (encrypted !== "true") {
        const found =
          encrypted === undefined
            ? "does not set parameters.encrypted"
            : `sets parameters.encrypted to ${JSON.stringify(encrypted)}`;
        report(
          `StorageClass "${name}" ${found}, so its EBS volumes are unencrypted. Set ` +
            `parameters.encrypted to "true" (a string).`,
        );
      }
    }),
});

export const dataServicePolicies: ResourceValidationPolicy[] = [
  eksClusterPolicy,
  rdsInstancePolicy,
  elastiCachePolicy,
  ecrRepositoryPolicy,
  kmsKeyRotationPolicy,
  ebsVolumePolicy,
  ebsStorageClassPolicy,
];
