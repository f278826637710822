import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/** Where a managed data store sits in the VPC, and who may reach it. */
export interface ManagedNetworkArgs {
  /** VPC of the cluster. */
  vpcId: pulumi.Input<string>;
  /** Private subnets, one per availability zone; the store is never given a public address. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Security groups whose members may connect to the store's port, typically the cluster
   * nodes' group: pods reach AWS through their node's interface. Nothing else is admitted.
   */
  allowedSecurityGroupIds: pulumi.Input<string>[];
}

/**
 * A security group that admits `port` over TCP from the allowed groups only. It has no egress
 * rule: the provider removes the default allow-all one, and a database never dials out.
 */
export function storeSecurityGroup(
  name: string,
  description: string,
  port: number,
  network: ManagedNetworkArgs,
  opts: pulumi.CustomResourceOptions,
): aws.ec2.SecurityGroup {
  const group = new aws.ec2.SecurityGroup(
    name,
    { vpcId: network.vpcId, description, revokeRulesOnDelete: true },
    opts,
  );
  network.allowedSecurityGroupIds.forEach((source, index) => {
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-ingress-${index}`,
      {
        securityGroupId: group.id,
        referencedSecurityGroupId: source,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        description: `${description}: clients on port ${port}`,
      },
      opts,
    );
  });
  return group;
}

/** A customer-managed KMS key with yearly rotation, for one store's data at rest. */
export function storeKey(
  name: string,
  description: string,
  dataProtection: boolean,
  opts: pulumi.CustomResourceOptions,
): aws.kms.Key {
  return new aws.kms.Key(
    name,
    {
      description,
      enableKeyRotation: true,
      // A deleted key makes every snapshot it encrypted unreadable; give people time to notice.
      deletionWindowInDays: dataProtection ? 30 : 7,
    },
    { ...opts, protect: dataProtection },
  );
}
