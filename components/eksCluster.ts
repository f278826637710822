import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterSettings, NodeGroupsSettings, StorageSettings } from "../settings";
import type { Architecture } from "../settings/instanceTypes";
import type {
  AwsClusterResources,
  ClusterAccess,
  DedicatedNodes,
  ServiceAccountRole,
} from "./clusterAccess";
import { eksKubeconfig } from "./eksKubeconfig";
import { EksControlPlaneRole } from "./eksControlPlaneRole";
import { IrsaRole } from "./irsaRole";
import { ManagedNodeGroup } from "./managedNodeGroup";
import type { Network } from "./network";
import { StorageClasses } from "./storageClasses";

/** Every control-plane log type EKS offers. */
export const controlPlaneLogTypes = [
  "api",
  "audit",
  "authenticator",
  "controllerManager",
  "scheduler",
];

/** Where the engine group's nodes are, and what keeps everything else off them. */
export const engineNodes: DedicatedNodes = {
  labels: { "bot3.io/node-role": "engine" },
  taint: { key: "bot3.io/dedicated", value: "engine", effect: "NoSchedule" },
};

export interface EksClusterArgs {
  /**
   * `name`, `kubernetesVersion`, `publicAccessCidrs` (empty: private endpoint only),
   * `adminRoleArns` (access entries with cluster-admin), `logRetentionDays`, `addonVersions`,
   * and `awsProfile`/`assumeRoleArn` for the kubeconfig's `aws eks get-token`.
   */
  cluster: ClusterSettings;
  /** The `system` group, and the `engine` group (tainted for the engine) when enabled. */
  nodeGroups: NodeGroupsSettings;
  /** `kmsKeyArn` encrypts the storage classes' volumes; empty uses the account's EBS key. */
  storage: StorageSettings;
  /** The VPC: control plane and nodes go into its private subnets. */
  network: Network;
  /** Turns on the cluster's deletion protection. */
  dataProtection: boolean;
  /** Tags for every AWS resource. */
  tags: Record<string, string>;
}

/**
 * An EKS cluster built from raw AWS resources: private endpoint (public only with an allow-list),
 * all control-plane logs, KMS envelope encryption of Secrets, API authentication with access
 * entries, IRSA, managed node groups, pinned core add-ons, and the default storage classes.
 */
export class EksCluster extends pulumi.ComponentResource implements ClusterAccess {
  readonly provider: k8s.Provider;
  readonly clusterName: pulumi.Output<string>;
  readonly engineArchitecture: Architecture;
  readonly engineNodes?: DedicatedNodes;
  readonly storageClasses: { default: string; retain: string };
  readonly aws: AwsClusterResources;
  /** Secret: it names the endpoint and the role used to reach the cluster. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly nodeRoleArns: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:cluster:EksCluster", name, {}, opts);
    const { cluster: settings, tags, network } = args;
    const childOpts = { parent: this };
    const partition = aws.getPartitionOutput({}, childOpts).partition;
    const region = aws.getRegionOutput({}, childOpts).region;
    const managedPolicy = (policy: string) =>
      pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}`;

    const controlPlane = new EksControlPlaneRole(
      `${name}-control-plane`,
      { clusterName: settings.name, partition, tags },
      childOpts,
    );

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-control-plane-logs`,
      {
        name: `/aws/eks/${settings.name}/cluster`,
        retentionInDays: settings.logRetentionDays,
        tags,
      },
      childOpts,
    );

    const publicEndpoint = settings.publicAccessCidrs.length > 0;
    const cluster = new aws.eks.Cluster(
      `${name}-eks`,
      {
        name: settings.name,
        version: settings.kubernetesVersion,
        roleArn: controlPlane.roleArn,
        vpcConfig: {
          subnetIds: network.privateSubnetIds,
          endpointPrivateAccess: true,
          endpointPublicAccess: publicEndpoint,
          ...(publicEndpoint ? { publicAccessCidrs: settings.publicAccessCidrs } : {}),
        },
        accessConfig: {
          authenticationMode: "API",
          // The identity that runs the first `pulumi up` must reach the cluster to create the
          // Kubernetes objects, whether or not it is one of the admin roles. EKS fixes this
          // value at creation, so it stays on rather than following adminRoleArns.
          // Limitation: that identity keeps an access entry that settings do not list.
          bootstrapClusterCreatorAdminPermissions: true,
        },
        encryptionConfig: {
          resources: ["secrets"],
          provider: { keyArn: controlPlane.secretsKeyArn },
        },
        enabledClusterLogTypes: controlPlaneLogTypes,
        // The core add-ons are installed below as managed, pinned add-ons instead.
        bootstrapSelfManagedAddons: false,
        deletionProtection: args.dataProtection,
        tags,
      },
      {
        ...childOpts,
        // Without the group EKS would create it itself, with no retention; without the
        // policies EKS refuses the role or cannot use the Secrets key.
        dependsOn: [logGroup, ...controlPlane.permissions],
      },
    );
    this.clusterName = cluster.name;

    const accessEntries = settings.adminRoleArns.map((principalArn, index) => {
      const entry = new aws.eks.AccessEntry(
        `${name}-admin-${index}`,
        { clusterName: cluster.name, principalArn, type: "STANDARD", tags },
        childOpts,
      );
      return new aws.eks.AccessPolicyAssociation(
        `${name}-admin-${index}`,
        {
          clusterName: cluster.name,
          principalArn,
          policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
          accessScope: { type: "cluster" },
        },
        // A policy can only be associated with a principal that has an access entry.
        { ...childOpts, dependsOn: [entry] },
      );
    });

    const issuerUrl = cluster.identities.apply(
      (identities) => identities[0].oidcs?.[0].issuer ?? "",
    );
    const oidcProvider = new aws.iam.OpenIdConnectProvider(
      `${name}-oidc`,
      { url: issuerUrl, clientIdLists: ["sts.amazonaws.com"], tags },
      childOpts,
    );
    const oidcProviderUrl = issuerUrl.apply((url) => url.replace(/^https:\/\//, ""));
    const irsaRole = (
      roleName: string,
      namespace: string,
      serviceAccount: string,
      policyArns: pulumi.Input<string>[],
      roleOpts?: pulumi.ComponentResourceOptions,
    ): ServiceAccountRole =>
      new IrsaRole(
        roleName,
        {
          oidcProviderArn: oidcProvider.arn,
          oidcProviderUrl,
          namespace,
          serviceAccount,
          policyArns,
          tags,
        },
        { parent: this, ...roleOpts },
      );

    // The CNI's AWS permissions go to its own service account rather than to every node.
    const cniRole = irsaRole(`${name}-vpc-cni`, "kube-system", "aws-node", [
      managedPolicy("AmazonEKS_CNI_Policy"),
    ]);
    const addon = (
      addonName: string,
      version: string,
      dependsOn: pulumi.Resource[],
      extra: Partial<aws.eks.AddonArgs> = {},
    ) =>
      new aws.eks.Addon(
        `${name}-${addonName}`,
        {
          clusterName: cluster.name,
          addonName,
          addonVersion: version,
          // The add-ons are the program's: configuration drift is overwritten, not kept.
          resolveConflictsOnCreate: "OVERWRITE",
          resolveConflictsOnUpdate: "OVERWRITE",
          tags,
          ...extra,
        },
        { ...childOpts, dependsOn },
      );
    const versions = settings.addonVersions;
    // Nodes only become Ready with a CNI, so the DaemonSet add-ons come before the nodes.
    const vpcCni = addon("vpc-cni", versions.vpcCni, [], {
      serviceAccountRoleArn: cniRole.arn,
      // Without its network policy agent the CNI ignores NetworkPolicies, and every
      // default-deny and allow rule of the program would be decoration.
      configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
    });
    const kubeProxy = addon("kube-proxy", versions.kubeProxy, []);

    const groups = this.createNodeGroups(name, args, cluster, partition, [vpcCni, kubeProxy]);
    this.nodeRoleArns = groups.nodeRoleArns;
    this.engineArchitecture = groups.engineArchitecture;
    this.engineNodes = args.nodeGroups.engine.enabled ? engineNodes : undefined;

    const ebsCsiRole = irsaRole(`${name}-ebs-csi`, "kube-system", "ebs-csi-controller-sa", [
      managedPolicy("service-role/AmazonEBSCSIDriverPolicy"),
    ]);
    const volumeKeyArn = args.storage.kmsKeyArn;
    if (volumeKeyArn !== undefined) {
      // With a customer-managed key the driver encrypts through grants that EC2 uses on its
      // behalf; the managed policy only covers the account's default EBS key.
      new aws.iam.RolePolicy(
        `${name}-ebs-csi-volume-key`,
        { role: ebsCsiRole.name, policy: volumeKeyPolicy(volumeKeyArn) },
        childOpts,
      );
    }
    // CoreDNS and the EBS CSI controller are Deployments: they need nodes to become active.
    const coreDns = addon("coredns", versions.coreDns, groups.nodeGroups);
    const ebsCsi = addon("aws-ebs-csi-driver", versions.ebsCsiDriver, groups.nodeGroups, {
      serviceAccountRoleArn: ebsCsiRole.arn,
    });

    this.kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, cluster.certificateAuthority, region])
        .apply(([clusterName, endpoint, authority, regionName]) =>
          eksKubeconfig({
            clusterName,
            endpoint,
            certificateAuthority: authority.data ?? "",
            region: regionName,
            awsProfile: settings.awsProfile,
            assumeRoleArn: settings.assumeRoleArn,
          }),
        ),
    );
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      {
        ...childOpts,
        // Workloads applied before there are nodes, DNS and admin access would only time out.
        dependsOn: [...groups.nodeGroups, coreDns, ...accessEntries],
      },
    );

    const storageClasses = new StorageClasses(
      `${name}-storage`,
      { provider: this.provider, kmsKeyArn: args.storage.kmsKeyArn },
      // Volumes of these classes are provisioned by the CSI driver.
      { ...childOpts, dependsOn: [ebsCsi] },
    );
    this.storageClasses = {
      default: storageClasses.defaultClassName,
      retain: storageClasses.retainClassName,
    };

    this.aws = {
      vpcId: network.vpcId,
      vpcCidr: network.vpcCidr,
      privateSubnetIds: network.privateSubnetIds,
      nodeSecurityGroupId: cluster.vpcConfig.apply((c) => c.clusterSecurityGroupId),
      oidcProviderArn: oidcProvider.arn,
      oidcProviderUrl,
      tags,
      irsaRole,
    };
    this.registerOutputs({
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      oidcProviderArn: oidcProvider.arn,
      nodeRoleArns: this.nodeRoleArns,
    });
  }

  private createNodeGroups(
    name: string,
    args: EksClusterArgs,
    cluster: aws.eks.Cluster,
    partition: pulumi.Output<string>,
    bootAfter: pulumi.Resource[],
  ) {
    const { system, engine } = args.nodeGroups;
    const groups = [
      { role: "system", settings: system, dedicated: undefined, placementGroup: false },
      ...(engine.enabled
        ? [
            {
              role: "engine",
              settings: engine,
              dedicated: engineNodes,
              placementGroup: engine.placementGroup,
            },
          ]
        : []),
    ];
    const built = groups.map(
      (group) =>
        new ManagedNodeGroup(
          `${name}-${group.role}`,
          {
            clusterName: cluster.name,
            kubernetesVersion: args.cluster.kubernetesVersion,
            partition,
            subnetIds: args.network.privateSubnetIds,
            instanceTypes: group.settings.instanceTypes,
            minSize: group.settings.minSize,
            maxSize: group.settings.maxSize,
            desiredSize: group.settings.desiredSize,
            diskSizeGb: group.settings.diskSizeGb,
            dedicated: group.dedicated,
            labels: { "bot3.io/node-role": group.role },
            placementGroup: group.placementGroup,
            tags: args.tags,
            bootAfter,
          },
          { parent: this },
        ),
    );
    return {
      nodeGroups: built.map((g) => g.nodeGroup),
      nodeRoleArns: Object.fromEntries(groups.map((g, i) => [g.role, built[i].nodeRoleArn])),
      engineArchitecture: built[built.length - 1].architecture,
    };
  }
}

/** What the EBS CSI driver needs to create and attach volumes encrypted with a given key. */
function volumeKeyPolicy(keyArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
        Resource: keyArn,
        Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
      },
      {
        Effect: "Allow",
        Action: [
          "kms:Encrypt",
          "kms:Decrypt",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:DescribeKey",
        ],
        Resource: keyArn,
      },
    ],
  });
}
