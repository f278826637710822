import { strict as assert } from "node:assert";
import { messagesOf } from "./policy-harness";
import { Props, resource } from "./workload-builders";

/** A compliant resource of `type`, with `changes` applied to one field. */
function build(type: string, name: string, compliant: Props, changes: Props = {}) {
  const props: Props = { ...structuredClone(compliant), ...changes };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) {
      delete props[key];
    }
  }
  return resource(type, name, props);
}

const cluster = (changes?: Props) =>
  build(
    "aws:eks/cluster:Cluster",
    "bot3",
    {
      vpcConfig: {
        endpointPrivateAccess: true,
        endpointPublicAccess: true,
        publicAccessCidrs: ["203.0.113.0/24"],
      },
      enabledClusterLogTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
      encryptionConfig: {
        resources: ["secrets"],
        provider: { keyArn: "arn:aws:kms:eu-west-1:1:key/k" },
      },
    },
    changes,
  );

describe("eks-cluster-hardened", () => {
  const policy = "eks-cluster-hardened";

  it("accepts a cluster with a restricted endpoint, all logs and Secrets encryption", () => {
    assert.deepEqual(messagesOf(policy, [cluster()]), []);
    assert.deepEqual(
      messagesOf(policy, [cluster({ vpcConfig: { endpointPublicAccess: false } })]),
      [],
    );
  });

  it("flags a public endpoint open to the internet, explicitly or by default", () => {
    const open = cluster({
      vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ["::/0"] },
    });
    assert.match(messagesOf(policy, [open])[0], /exposes its public API endpoint to ::\/0/);
    assert.match(
      messagesOf(policy, [cluster({ vpcConfig: {} })])[0],
      /0\.0\.0\.0\/0 \(the default\)/,
    );
  });

  it("flags missing control-plane log types", () => {
    assert.deepEqual(messagesOf(policy, [cluster({ enabledClusterLogTypes: ["api", "audit"] })]), [
      'EKS cluster "bot3" does not enable the control-plane log types authenticator, ' +
        "controllerManager, " +
        "scheduler. Set enabledClusterLogTypes to " +
        '["api","audit","authenticator","controllerManager","scheduler"].',
    ]);
  });

  it("flags a cluster without Secrets encryption", () => {
    assert.match(
      messagesOf(policy, [cluster({ encryptionConfig: undefined })])[0],
      /does not encrypt Kubernetes Secrets/,
    );
  });
});

const database = (changes?: Props) =>
  build(
    "aws:rds/instance:Instance",
    "orders",
    {
      storageEncrypted: true,
      publiclyAccessible: false,
      backupRetentionPeriod: 7,
      deletionProtection: true,
    },
    changes,
  );

describe("rds-instance-protected", () => {
  const policy = "rds-instance-protected";

  it("accepts an encrypted, private, backed-up instance", () => {
    assert.deepEqual(messagesOf(policy, [database()]), []);
  });

  it("flags unencrypted storage", () => {
    assert.deepEqual(messagesOf(policy, [database({ storageEncrypted: undefined })]), [
      'RDS instance "orders" does not set storageEncrypted; its storage and snapshots would be ' +
        "unencrypted. Set storageEncrypted to true.",
    ]);
  });

  it("flags a publicly accessible instance", () => {
    assert.match(
      messagesOf(policy, [database({ publiclyAccessible: true })])[0],
      /sets publiclyAccessible to true/,
    );
  });

  it("flags fewer than 7 days of backups", () => {
    assert.deepEqual(messagesOf(policy, [database({ backupRetentionPeriod: 1 })]), [
      'RDS instance "orders" sets backupRetentionPeriod to 1. Set backupRetentionPeriod to at ' +
        "least 7 days.",
    ]);
  });

  it("requires deletion protection only where the config asks", () => {
    const unprotected = database({ deletionProtection: false });
    assert.deepEqual(messagesOf(policy, [unprotected]), []);
    const config = { [policy]: { requireDeletionProtection: true } };
    assert.match(
      messagesOf(policy, [unprotected], config)[0],
      /sets deletionProtection to false; this stack requires/,
    );
  });
});

const cache = (changes?: Props) =>
  build(
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "quotes",
    {
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
      authToken: "from-a-secret",
    },
    changes,
  );

describe("elasticache-encrypted", () => {
  const policy = "elasticache-encrypted";

  it("accepts an encrypted, authenticated replication group", () => {
    assert.deepEqual(messagesOf(policy, [cache()]), []);
    assert.deepEqual(
      messagesOf(policy, [cache({ authToken: undefined, userGroupIds: ["traders"] })]),
      [],
    );
  });

  it("flags each missing protection", () => {
    assert.match(
      messagesOf(policy, [cache({ atRestEncryptionEnabled: false })])[0],
      /atRestEncryptionEnabled to false/,
    );
    assert.match(
      messagesOf(policy, [cache({ transitEncryptionEnabled: undefined })])[0],
      /does not set transitEncryptionEnabled/,
    );
    assert.match(
      messagesOf(policy, [cache({ authToken: undefined })])[0],
      /sets neither authToken nor userGroupIds/,
    );
  });
});

describe("ecr-repository-hardened", () => {
  const policy = "ecr-repository-hardened";
  const repository = (changes?: Props) =>
    build(
      "aws:ecr/repository:Repository",
      "engine",
      {
        imageScanningConfiguration: { scanOnPush: true },
        imageTagMutability: "IMMUTABLE",
      },
      changes,
    );

  it("accepts a scanning, immutable repository", () => {
    assert.deepEqual(messagesOf(policy, [repository()]), []);
  });

  it("flags a repository without scan on push", () => {
    assert.deepEqual(
      messagesOf(policy, [repository({ imageScanningConfiguration: { scanOnPush: false } })]),
      [
        'ECR repository "engine" does not scan images on push. Set ' +
          "imageScanningConfiguration.scanOnPush to true.",
      ],
    );
  });

  it("flags mutable tags", () => {
    assert.match(
      messagesOf(policy, [repository({ imageTagMutability: "MUTABLE" })])[0],
      /Set imageTagMutability to "IMMUTABLE"/,
    );
  });
});

describe("kms-key-rotation", () => {
  const policy = "kms-key-rotation";
  const key = (changes?: Props) =>
    build("aws:kms/key:Key", "secrets", { enableKeyRotation: true }, changes);

  it("accepts a rotating key and an asymmetric key, which cannot rotate", () => {
    assert.deepEqual(
      messagesOf(policy, [
        key(),
        key({ enableKeyRotation: undefined, customerMasterKeySpec: "RSA_2048" }),
      ]),
      [],
    );
  });

  it("flags a symmetric key without rotation", () => {
    assert.deepEqual(messagesOf(policy, [key({ enableKeyRotation: undefined })]), [
      'KMS key "secrets" does not set enableKeyRotation; its key material would never change. ' +
        "Set enableKeyRotation to true.",
    ]);
  });
});

describe("ebs-volume-encrypted and ebs-storage-class-encrypted", () => {
  it("flags an unencrypted EBS volume", () => {
    const volume = (encrypted?: boolean) =>
      resource("aws:ebs/volume:Volume", "data", { encrypted, size: 10 });
    assert.deepEqual(messagesOf("ebs-volume-encrypted", [volume(true)]), []);
    assert.match(messagesOf("ebs-volume-encrypted", [volume(false)])[0], /sets encrypted to false/);
  });

  it('flags an EBS CSI StorageClass without encrypted: "true"', () => {
    const storageClass = (parameters: Props, provisioner = "ebs.csi.aws.com") =>
      resource("kubernetes:storage.k8s.io/v1:StorageClass", "gp3", { provisioner, parameters });
    const policy = "ebs-storage-class-encrypted";
    assert.deepEqual(messagesOf(policy, [storageClass({ type: "gp3", encrypted: "true" })]), []);
    assert.deepEqual(messagesOf(policy, [storageClass({ type: "gp3" }, "efs.csi.aws.com")]), []);
    assert.deepEqual(messagesOf(policy, [storageClass({ type: "gp3", encrypted: true })]), [
      'StorageClass "gp3" sets parameters.encrypted to true, so its EBS volumes are unencrypted. ' +
        'Set parameters.encrypted to "true" (a string).',
    ]);
  });
});
