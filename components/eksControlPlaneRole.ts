import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrustPolicy } from "./irsaRole";

export interface EksControlPlaneRoleArgs {
  /** Name of the EKS cluster, for the key's description. */
  clusterName: string;
  /** AWS partition ("aws" in commercial regions), for the managed policy's ARN. */
  partition: pulumi.Input<string>;
  /** Tags of the role and the key. */
  tags: Record<string, string>;
}

/**
 * The IAM role that the EKS control plane acts as, and the KMS key (rotated yearly) with
 * which it envelope-encrypts Kubernetes Secrets; the role may use that key and no other.
 */
export class EksControlPlaneRole extends pulumi.ComponentResource {
  readonly roleArn: pulumi.Output<string>;
  readonly secretsKeyArn: pulumi.Output<string>;
  /** What must exist before the cluster: EKS checks the role's permissions at creation. */
  readonly permissions: pulumi.Resource[];

  constructor(name: string, args: EksControlPlaneRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:cluster:EksControlPlaneRole", name, {}, opts);
    const childOpts = { parent: this };
    const role = new aws.iam.Role(
      `${name}-role`,
      { assumeRolePolicy: serviceTrustPolicy("eks.amazonaws.com"), tags: args.tags },
      childOpts,
    );
    const clusterPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-cluster-policy`,
      {
        role: role.name,
        policyArn: pulumi.interpolate`arn:${args.partition}:iam::aws:policy/AmazonEKSClusterPolicy`,
      },
      childOpts,
    );

    const secretsKey = new aws.kms.Key(
      `${name}-secrets-key`,
      {
        description: `Envelope encryption of Kubernetes Secrets in EKS cluster ${args.clusterName}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags: args.tags,
      },
      childOpts,
    );
    const secretsKeyAccess = new aws.iam.RolePolicy(
      `${name}-secrets-key-access`,
      {
        role: role.id,
        policy: secretsKey.arn.apply((keyArn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                Resource: keyArn,
              },
            ],
          }),
        ),
      },
      childOpts,
    );

    this.roleArn = role.arn;
    this.secretsKeyArn = secretsKey.arn;
    this.permissions = [clusterPolicy, secretsKeyAccess];
    this.registerOutputs({ roleArn: this.roleArn, secretsKeyArn: this.secretsKeyArn });
  }
}
