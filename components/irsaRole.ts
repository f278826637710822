import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceAccountRole } from "./clusterAccess";

export interface IrsaRoleArgs {
  /** ARN of the cluster's IAM OIDC provider. */
  oidcProviderArn: pulumi.Input<string>;
  /** The OIDC issuer without `https://` (the prefix of the IAM condition keys). */
  oidcProviderUrl: pulumi.Input<string>;
  /** Namespace of the service account that may assume the role. */
  namespace: string;
  /** Name of the service account that may assume the role. */
  serviceAccount: string;
  /** Managed policies to attach; empty gives a role that can do nothing. */
  policyArns: pulumi.Input<string>[];
  /** Tags of the role. */
  tags: Record<string, string>;
}

/**
 * An IAM role for one Kubernetes service account (IAM Roles for Service Accounts). The trust
 * policy pins both the subject and the audience, so no other service account, and no token
 * minted for another audience, can assume it.
 */
export class IrsaRole extends pulumi.ComponentResource implements ServiceAccountRole {
  readonly arn: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: IrsaRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:cluster:IrsaRole", name, {}, opts);
    const subject = `system:serviceaccount:${args.namespace}:${args.serviceAccount}`;
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `Assumed by the Kubernetes service account ${args.namespace}/${args.serviceAccount}`,
        assumeRolePolicy: pulumi
          .all([args.oidcProviderArn, args.oidcProviderUrl])
          .apply(([providerArn, issuer]) =>
            serviceAccountTrustPolicy(providerArn, issuer, subject),
          ),
        tags: args.tags,
      },
      { parent: this },
    );
    args.policyArns.forEach(
      (policyArn, index) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-policy-${index}`,
          { role: role.name, policyArn },
          { parent: this },
        ),
    );
    this.arn = role.arn;
    this.name = role.name;
    this.registerOutputs({ arn: this.arn });
  }
}

/** The trust policy that lets exactly one service account assume a role through the issuer. */
export function serviceAccountTrustPolicy(
  providerArn: string,
  issuer: string,
  subject: string,
): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: providerArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: subject,
            [`${issuer}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ],
  });
}

/** A trust policy that lets an AWS service assume the role. */
export function serviceTrustPolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}
