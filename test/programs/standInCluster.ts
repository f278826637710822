// The stand-in for the EKS cluster that test programs build the data stores on.
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterAccess } from "../../components/clusterAccess";

/** The node security group the stand-in reports; tests look for it in ingress rules. */
export const standInNodeSecurityGroupId = "sg-stand-in-nodes";
export const standInVpcId = "vpc-stand-in";
export const standInPrivateSubnetIds = ["subnet-private-a", "subnet-private-b", "subnet-private-c"];

/** A cluster with everything the EKS cluster will expose to the data stores. */
export function standInCluster(clusterName: string): ClusterAccess {
  return {
    provider: new k8s.Provider("stand-in-k8s", { enableServerSideApply: true }),
    clusterName,
    engineArchitecture: "amd64",
    storageClasses: { default: "gp3", retain: "gp3-retain" },
    aws: {
      vpcId: pulumi.output(standInVpcId),
      vpcCidr: "10.20.0.0/16",
      privateSubnetIds: standInPrivateSubnetIds.map((id) => pulumi.output(id)),
      nodeSecurityGroupId: pulumi.output(standInNodeSecurityGroupId),
      oidcProviderArn: pulumi.output("arn:aws:iam::123456789012:oidc-provider/stand-in"),
      oidcProviderUrl: pulumi.output("stand-in"),
      tags: {},
      irsaRole(name, namespace, serviceAccount, policyArns) {
        const role = new aws.iam.Role(name, {
          assumeRolePolicy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: "sts:AssumeRoleWithWebIdentity",
                Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/stand-in" },
                Condition: {
                  StringEquals: {
                    "stand-in:sub": pulumi.interpolate`system:serviceaccount:${namespace}:${serviceAccount}`,
                  },
                },
              },
            ],
          }),
        });
        policyArns.forEach(
          (policyArn, index) =>
            new aws.iam.RolePolicyAttachment(`${name}-policy-${index}`, {
              role: role.name,
              policyArn,
            }),
        );
        return role;
      },
    },
  };
}
