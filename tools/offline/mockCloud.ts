import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import type { MockCallArgs, MockResourceArgs } from "@pulumi/pulumi/runtime/mocks";

// Computed outputs with the shapes the real providers return, so the program takes the same
// code paths offline that it takes against AWS and Kubernetes.

export const mockAccountId = "123456789012";
export const mockRegion = "eu-west-1";

type Inputs = Record<string, unknown>;

/**
 * Every secret in an offline run starts with one of these: generated passwords, registry
 * credentials, and (from stackConfig.ts) the placeholders of encrypted settings. Finding one in
 * rendered output means a secret leaked.
 */
export const offlineSecretPrefixes = [
  "offline-random-password-",
  "offline-registry-credential-",
  "https://offline-placeholder.invalid/",
];
type OutputFactory = (name: string, inputs: Inputs) => Inputs;

function digestOf(text: string): string {
  return "sha256:" + createHash("sha256").update(text).digest("hex");
}

/** A string input, or the fallback when the input is unset or not a string. */
function textOr(value: unknown, fallback: string): string {
  return typeof value === "string" ? value : fallback;
}

function arn(service: string, resource: string, region = mockRegion): string {
  return `arn:aws:${service}:${region}:${mockAccountId}:${resource}`;
}

const outputsByType: Record<string, OutputFactory> = {
  "aws:ec2/vpc:Vpc": (name) => ({
    arn: arn("ec2", `vpc/vpc-${name}`),
    defaultSecurityGroupId: `sg-default-${name}`,
  }),
  "aws:eks/cluster:Cluster": (name, inputs) => {
    const clusterName = typeof inputs.name === "string" ? inputs.name : name;
    const endpoint = `https://${createHash("md5").update(name).digest("hex").toUpperCase()}.gr7.${mockRegion}.eks.amazonaws.com`;
    return {
      arn: arn("eks", `cluster/${clusterName}`),
      name: clusterName,
      endpoint,
      certificateAuthority: { data: "bW9jay1jZXJ0aWZpY2F0ZQ==" },
      identities: [
        {
          oidcs: [
            {
              issuer: `https://oidc.eks.${mockRegion}.amazonaws.com/id/${createHash("md5").update(name).digest("hex").toUpperCase()}`,
            },
          ],
        },
      ],
      vpcConfig: { ...(inputs.vpcConfig as Inputs), clusterSecurityGroupId: `sg-cluster-${name}` },
    };
  },
  "aws:iam/role:Role": (name, inputs) => ({
    arn: `arn:aws:iam::${mockAccountId}:role/${textOr(inputs.name, name)}`,
    name: inputs.name ?? name,
  }),
  "aws:iam/policy:Policy": (name) => ({ arn: `arn:aws:iam::${mockAccountId}:policy/${name}` }),
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (_name, inputs) => ({
    arn: `arn:aws:iam::${mockAccountId}:oidc-provider/${String(inputs.url).replace(/^https:\/\//, "")}`,
  }),
  "aws:kms/key:Key": (name) => ({ arn: arn("kms", `key/${name}-0000`), keyId: `${name}-0000` }),
  "aws:rds/instance:Instance": (name) => ({
    address: `${name}.abcdefghijkl.${mockRegion}.rds.amazonaws.com`,
    endpoint: `${name}.abcdefghijkl.${mockRegion}.rds.amazonaws.com:5432`,
    port: 5432,
    arn: arn("rds", `db:${name}`),
  }),
  "aws:rds/subnetGroup:SubnetGroup": (name, inputs) => ({ name: inputs.name ?? `${name}-0123456` }),
  "aws:rds/parameterGroup:ParameterGroup": (name, inputs) => ({
    name: inputs.name ?? `${name}-0123456`,
  }),
  "aws:elasticache/subnetGroup:SubnetGroup": (name, inputs) => ({
    name: inputs.name ?? `${name}-0123456`,
  }),
  "aws:elasticache/replicationGroup:ReplicationGroup": (name) => ({
    primaryEndpointAddress: `master.${name}.abcdef.euw1.cache.amazonaws.com`,
    readerEndpointAddress: `replica.${name}.abcdef.euw1.cache.amazonaws.com`,
    port: 6379,
    arn: arn("elasticache", `replicationgroup:${name}`),
  }),
  "aws:ecr/repository:Repository": (name, inputs) => ({
    repositoryUrl: `${mockAccountId}.dkr.ecr.${mockRegion}.amazonaws.com/${textOr(inputs.name, name)}`,
    arn: arn("ecr", `repository/${textOr(inputs.name, name)}`),
    registryId: mockAccountId,
  }),
  "aws:s3/bucket:Bucket": (name, inputs) => ({
    bucket: inputs.bucket ?? `${name}-0123456`,
    arn: `arn:aws:s3:::${textOr(inputs.bucket, `${name}-0123456`)}`,
  }),
  "aws:s3/bucketV2:BucketV2": (name, inputs) => ({
    bucket: inputs.bucket ?? `${name}-0123456`,
    arn: `arn:aws:s3:::${textOr(inputs.bucket, `${name}-0123456`)}`,
  }),
  "aws:cloudwatch/logGroup:LogGroup": (name, inputs) => ({
    arn: arn("logs", `log-group:${textOr(inputs.name, name)}`),
    name: inputs.name ?? name,
  }),
  "aws:ec2/launchTemplate:LaunchTemplate": () => ({ latestVersion: 1, defaultVersion: 1 }),
  "aws:ec2/placementGroup:PlacementGroup": (name, inputs) => ({
    name: inputs.name ?? `${name}-0123456`,
  }),
  "aws:eks/nodeGroup:NodeGroup": (name, inputs) => ({
    nodeGroupName: inputs.nodeGroupName ?? `${name}-0123456`,
    arn: arn("eks", `nodegroup/${textOr(inputs.clusterName, "cluster")}/${name}/0123456`),
  }),
  "aws:eks/addon:Addon": (name, inputs) => ({
    arn: arn(
      "eks",
      `addon/${textOr(inputs.clusterName, "cluster")}/${textOr(inputs.addonName, name)}/0123456`,
    ),
  }),
  // The real provider marks these secret; the mock monitor would not, so the mock does.
  "random:index/randomPassword:RandomPassword": (name) => ({
    result: pulumi.secret(`${offlineSecretPrefixes[0]}${name}`),
    bcryptHash: pulumi.secret(`${offlineSecretPrefixes[0]}${name}-bcrypt`),
  }),
  "docker:index/image:Image": (name, inputs) => {
    const imageName = textOr(inputs.imageName, name);
    return { repoDigest: `${imageName.split(":")[0]}@${digestOf(imageName)}`, imageName };
  },
};

export function mockResourceOutputs(args: MockResourceArgs): { id: string; state: Inputs } {
  const inputs = (args.inputs ?? {}) as Inputs;
  const extra = outputsByType[args.type]?.(args.name, inputs) ?? {};
  const generic: Inputs = args.type.startsWith("aws:")
    ? { arn: arn(args.type.split(":")[1].split("/")[0], `${args.name}`) }
    : {};
  return { id: `${args.name}-id`, state: { ...generic, ...inputs, ...extra } };
}

const callResults: Record<string, (inputs: Inputs) => Inputs> = {
  // eu-west-1 has three zones, so a stack that asks for more fails offline as it would live.
  "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
    names: ["a", "b", "c"].map((z) => `${mockRegion}${z}`),
    zoneIds: ["euw1-az1", "euw1-az2", "euw1-az3"],
  }),
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    accountId: mockAccountId,
    arn: `arn:aws:iam::${mockAccountId}:user/offline`,
    userId: "AIDAOFFLINE",
  }),
  "aws:index/getRegion:getRegion": () => ({ name: mockRegion, region: mockRegion, id: mockRegion }),
  "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com" }),
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": () => ({
    userName: "AWS",
    password: pulumi.secret(`${offlineSecretPrefixes[1]}ecr-password`),
    authorizationToken: pulumi.secret(`${offlineSecretPrefixes[1]}ecr-token`),
    proxyEndpoint: `https://${mockAccountId}.dkr.ecr.${mockRegion}.amazonaws.com`,
  }),
};

export function mockCall(args: MockCallArgs): Inputs {
  const result = callResults[args.token];
  if (!result) {
    throw new Error(
      `The offline mocks do not know the function ${args.token}; add it to tools/offline/mockCloud.ts.`,
    );
  }
  return result(args.inputs as Inputs);
}

/** Every value the mocks hand out that the program must treat as a secret. */
export const mockSecretMarkers = [
  "offline-random-password-",
  "offline-ecr-password",
  "offline-ecr-token",
];
