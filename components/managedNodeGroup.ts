import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { amiTypeFor, architectureOf, type Architecture } from "../settings/instanceTypes";
import type { DedicatedNodes } from "./clusterAccess";
import { serviceTrustPolicy } from "./irsaRole";

/**
 * Hop limit of the instance metadata service's responses. 1 keeps IMDS answers on the node:
 * a pod in its own network namespace is one hop further away and never receives them, so it
 * cannot borrow the node role's credentials. Every Bot3 pod that needs AWS gets its own role
 * through IRSA instead; host-network daemons (aws-node, kube-proxy) still reach IMDS.
 * Limitation: software that reads its region or VPC from IMDS inside a pod (the AWS load
 * balancer controller, for one) must be given them explicitly.
 */
const metadataHopLimit = 1;

/** Root device of the Amazon Linux 2023 EKS AMIs. */
const rootDevice = "/dev/xvda";

export interface ManagedNodeGroupArgs {
  /** Name of the EKS cluster the nodes join. */
  clusterName: pulumi.Input<string>;
  /** Kubernetes version of the nodes; the cluster's version, so upgrades roll the nodes. */
  kubernetesVersion: string;
  /** AWS partition ("aws" in commercial regions), for the managed policies of the node role. */
  partition: pulumi.Input<string>;
  /** Private subnets to spread the nodes over; only the first is used with a placement group. */
  subnetIds: pulumi.Input<string>[];
  /** Instance types, all of one CPU architecture (the settings rules refuse a mix). */
  instanceTypes: string[];
  minSize: number;
  maxSize: number;
  desiredSize: number;
  /** Size of the encrypted gp3 root volume. */
  diskSizeGb: number;
  /** Labels of every node, and the taint that keeps other workloads off; none by default. */
  dedicated?: DedicatedNodes;
  /** Extra node labels. */
  labels?: Record<string, string>;
  /**
   * Pack the nodes into a cluster placement group, which puts them in one zone (the first
   * subnet's) for the lowest network latency between them; default false.
   */
  placementGroup?: boolean;
  /** What the nodes need as they boot, such as the CNI and kube-proxy add-ons; none by default. */
  bootAfter?: pulumi.Resource[];
  /** Tags of the node group, the launch template, and the instances and volumes it starts. */
  tags: Record<string, string>;
}

/**
 * An EKS managed node group with its own launch template: gp3 root volume encrypted, IMDSv2
 * required, no SSH key and no public addresses. The AMI type follows the instance family.
 */
export class ManagedNodeGroup extends pulumi.ComponentResource {
  readonly architecture: Architecture;
  /** The nodes' own IAM role: EKS worker and ECR pull permissions, no CNI permissions. */
  readonly nodeRoleArn: pulumi.Output<string>;
  readonly nodeGroupName: pulumi.Output<string>;
  /** The node group resource, for dependsOn of resources that need running nodes. */
  readonly nodeGroup: aws.eks.NodeGroup;

  constructor(name: string, args: ManagedNodeGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:cluster:ManagedNodeGroup", name, {}, opts);
    const childOpts = { parent: this };
    this.architecture = singleArchitecture(name, args.instanceTypes);

    const nodeRole = new aws.iam.Role(
      `${name}-node-role`,
      { assumeRolePolicy: serviceTrustPolicy("ec2.amazonaws.com"), tags: args.tags },
      childOpts,
    );
    // The VPC CNI's permissions go to its own IRSA role, not to the nodes.
    const nodePolicies = ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"].map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-${policy}`,
          {
            role: nodeRole.name,
            policyArn: pulumi.interpolate`arn:${args.partition}:iam::aws:policy/${policy}`,
          },
          childOpts,
        ),
    );
    this.nodeRoleArn = nodeRole.arn;

    const placementGroup = args.placementGroup
      ? new aws.ec2.PlacementGroup(
          `${name}-placement`,
          { strategy: "cluster", tags: args.tags },
          childOpts,
        )
      : undefined;

    const instanceTags = { ...args.tags, Name: name };
    const launchTemplate = new aws.ec2.LaunchTemplate(
      `${name}-lt`,
      {
        description: `Nodes of the ${name} EKS managed node group`,
        updateDefaultVersion: true,
        blockDeviceMappings: [
          {
            deviceName: rootDevice,
            ebs: {
              volumeType: "gp3",
              volumeSize: args.diskSizeGb,
              encrypted: "true",
              deleteOnTermination: "true",
            },
          },
        ],
        metadataOptions: {
          httpEndpoint: "enabled",
          httpTokens: "required",
          httpPutResponseHopLimit: metadataHopLimit,
        },
        ...(placementGroup ? { placement: { groupName: placementGroup.name } } : {}),
        tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({
          resourceType,
          tags: instanceTags,
        })),
        tags: args.tags,
      },
      childOpts,
    );

    const dedicated = args.dedicated;
    this.nodeGroup = new aws.eks.NodeGroup(
      `${name}-ng`,
      {
        clusterName: args.clusterName,
        version: args.kubernetesVersion,
        nodeRoleArn: nodeRole.arn,
        subnetIds: placementGroup ? args.subnetIds.slice(0, 1) : args.subnetIds,
        amiType: amiTypeFor(this.architecture),
        capacityType: "ON_DEMAND",
        instanceTypes: args.instanceTypes,
        scalingConfig: {
          minSize: args.minSize,
          maxSize: args.maxSize,
          desiredSize: args.desiredSize,
        },
        updateConfig: { maxUnavailable: 1 },
        launchTemplate: {
          id: launchTemplate.id,
          version: launchTemplate.latestVersion.apply(String),
        },
        labels: { ...args.labels, ...dedicated?.labels },
        taints: dedicated
          ? [{ key: dedicated.taint.key, value: dedicated.taint.value, effect: "NO_SCHEDULE" }]
          : [],
        tags: args.tags,
      },
      // Nodes register with the role's policies and need the CNI as soon as they boot.
      { ...childOpts, dependsOn: [...nodePolicies, ...(args.bootAfter ?? [])] },
    );
    this.nodeGroupName = this.nodeGroup.nodeGroupName;
    this.registerOutputs({ nodeGroupName: this.nodeGroupName });
  }
}

/** The one architecture of a group's instance types; a mix is a settings error caught earlier. */
function singleArchitecture(group: string, instanceTypes: string[]): Architecture {
  const architectures = [...new Set(instanceTypes.map(architectureOf))];
  if (architectures.length !== 1) {
    throw new Error(
      `Node group ${group} mixes CPU architectures (${instanceTypes.join(", ")}); ` +
        "set instanceTypes of one architecture only",
    );
  }
  return architectures[0];
}
