import { expect } from "chai";
import * as path from "path";
import { controlPlaneLogTypes, engineNodes } from "../components/eksCluster";
import { eksKubeconfig } from "../components/eksKubeconfig";
import { resource, resourcesOfType, runStack, type ProgramRun } from "./harness";

const clusterType = "aws:eks/cluster:Cluster";
const nodeGroupType = "aws:eks/nodeGroup:NodeGroup";
const launchTemplateType = "aws:ec2/launchTemplate:LaunchTemplate";
const roleType = "aws:iam/role:Role";
const addonType = "aws:eks/addon:Addon";
const clusterAccessProgram = path.join(__dirname, "fixtures", "clusterAccessProgram.ts");

interface TrustPolicy {
  Statement: {
    Principal: { Federated: string };
    Action: string;
    Condition: { StringEquals: Record<string, string> };
  }[];
}

function urnOf(run: ProgramRun, type: string, name: string): string {
  return resource(run, type, name).urn;
}

function attachedPolicies(run: ProgramRun, roleName: string): string[] {
  return resourcesOfType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    .filter((a) => a.inputs.role === roleName)
    .map((a) => String(a.inputs.policyArn));
}

describe("EksCluster", () => {
  let staging: ProgramRun;
  let production: ProgramRun;
  before(async () => {
    staging = await runStack("staging");
    production = await runStack("production");
  });

  describe("control plane", () => {
    it("runs the Kubernetes version from settings", () => {
      expect(resource(staging, clusterType, "bot3-eks").inputs.version).to.equal("1.33");
    });

    it("always has the private endpoint, and a public one only for the listed CIDRs", () => {
      const stagingVpc = resource(staging, clusterType, "bot3-eks").inputs.vpcConfig;
      expect(stagingVpc).to.include({ endpointPrivateAccess: true, endpointPublicAccess: true });
      expect(stagingVpc).to.have.deep.property("publicAccessCidrs", ["203.0.113.0/24"]);
    });

    it("turns the public endpoint off when the allow-list is empty", () => {
      const productionVpc = resource(production, clusterType, "bot3-eks").inputs.vpcConfig;
      expect(productionVpc).to.include({
        endpointPrivateAccess: true,
        endpointPublicAccess: false,
      });
      expect(productionVpc).not.to.have.property("publicAccessCidrs");
    });

    it("places the control plane's interfaces in the private subnets only", () => {
      const vpcConfig = resource(staging, clusterType, "bot3-eks").inputs.vpcConfig as {
        subnetIds: string[];
      };
      expect(vpcConfig.subnetIds).to.deep.equal([0, 1, 2].map((i) => `bot3-private-${i}-id`));
    });

    it("sends all five control-plane log types to a retained group it depends on", () => {
      const cluster = resource(production, clusterType, "bot3-eks");
      expect(cluster.inputs.enabledClusterLogTypes).to.deep.equal([
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
      ]);
      expect(controlPlaneLogTypes).to.have.length(5);
      const group = resource(
        production,
        "aws:cloudwatch/logGroup:LogGroup",
        "bot3-control-plane-logs",
      );
      expect(group.inputs.name).to.equal("/aws/eks/bot3-production/cluster");
      expect(group.inputs.retentionInDays).to.equal(365);
      expect(cluster.dependencies).to.include(group.urn);
    });

    it("encrypts Secrets with its own rotating KMS key that the cluster role may use", () => {
      const key = resource(staging, "aws:kms/key:Key", "bot3-control-plane-secrets-key");
      expect(key.inputs.enableKeyRotation).to.equal(true);
      const cluster = resource(staging, clusterType, "bot3-eks");
      const keyArn = "arn:aws:kms:eu-west-1:123456789012:key/bot3-control-plane-secrets-key-0000";
      expect(cluster.inputs.encryptionConfig).to.deep.equal({
        resources: ["secrets"],
        provider: { keyArn },
      });
      const access = resource(
        staging,
        "aws:iam/rolePolicy:RolePolicy",
        "bot3-control-plane-secrets-key-access",
      );
      expect(JSON.parse(String(access.inputs.policy)).Statement[0].Resource).to.equal(keyArn);
    });

    it("installs no self-managed add-ons, and is deletion-protected only with dataProtection", () => {
      expect(resource(staging, clusterType, "bot3-eks").inputs).to.include({
        bootstrapSelfManagedAddons: false,
        deletionProtection: false,
      });
      expect(resource(production, clusterType, "bot3-eks").inputs.deletionProtection).to.equal(
        true,
      );
    });
  });

  describe("access", () => {
    it("authenticates through the API only, keeping the creator's access for the first run", () => {
      expect(resource(staging, clusterType, "bot3-eks").inputs.accessConfig).to.deep.equal({
        authenticationMode: "API",
        bootstrapClusterCreatorAdminPermissions: true,
      });
    });

    it("gives each admin role from settings an access entry with cluster-admin", () => {
      const principal = "arn:aws:iam::123456789012:role/bot3-platform-admin";
      const entry = resource(staging, "aws:eks/accessEntry:AccessEntry", "bot3-admin-0");
      expect(entry.inputs).to.include({ principalArn: principal, type: "STANDARD" });
      const association = resource(
        staging,
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
        "bot3-admin-0",
      );
      expect(association.inputs).to.deep.include({
        principalArn: principal,
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        accessScope: { type: "cluster" },
      });
      expect(association.dependencies).to.include(entry.urn);
    });

    it("registers the cluster's OIDC issuer with IAM for IRSA", () => {
      const provider = resource(
        staging,
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "bot3-oidc",
      );
      expect(provider.inputs.url).to.match(/^https:\/\/oidc\.eks\.eu-west-1\.amazonaws\.com\/id\//);
      expect(provider.inputs.clientIdLists).to.deep.equal(["sts.amazonaws.com"]);
    });

    it("exports the kubeconfig as a secret, with the cluster name, OIDC provider and node roles", () => {
      expect(staging.secretOutputs).to.deep.equal(["kubeconfig"]);
      expect(staging.outputs).to.include({
        clusterName: "bot3-staging",
        oidcProviderArn:
          "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/" +
          String(staging.outputs.oidcProviderUrl).split("/id/")[1],
      });
      expect(staging.outputs.oidcProviderUrl).to.match(
        /^oidc\.eks\.eu-west-1\.amazonaws\.com\/id\/\w+$/,
      );
      expect(staging.outputs.nodeRoleArns).to.deep.equal({
        system: "arn:aws:iam::123456789012:role/bot3-system-node-role",
        engine: "arn:aws:iam::123456789012:role/bot3-engine-node-role",
      });
    });

    it("builds the Kubernetes provider from the secret kubeconfig with server-side apply", () => {
      const provider = resource(staging, "pulumi:providers:kubernetes", "bot3-k8s");
      expect(provider.maskedInputs.kubeconfig).to.equal("[secret]");
      expect(provider.inputs.enableServerSideApply).to.equal("true");
      const kubeconfig = JSON.parse(String(provider.inputs.kubeconfig));
      expect(kubeconfig.users[0].user.exec.args).to.deep.equal([
        "eks",
        "get-token",
        "--region",
        "eu-west-1",
        "--cluster-name",
        "bot3-staging",
        "--output",
        "json",
      ]);
    });

    it("waits with the Kubernetes provider until nodes, DNS and admin access exist", () => {
      const provider = resource(staging, "pulumi:providers:kubernetes", "bot3-k8s");
      for (const [type, name] of [
        [nodeGroupType, "bot3-system-ng"],
        [addonType, "bot3-coredns"],
        ["aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "bot3-admin-0"],
      ]) {
        expect(provider.dependencies, name).to.include(urnOf(staging, type, name));
      }
    });
  });

  describe("eksKubeconfig", () => {
    const base = {
      clusterName: "c",
      endpoint: "https://example.invalid",
      certificateAuthority: "Y2E=",
      region: "eu-west-1",
      awsProfile: "",
    };

    it("passes the profile to aws eks get-token through AWS_PROFILE", () => {
      const config = JSON.parse(eksKubeconfig({ ...base, awsProfile: "bot3-ops" }));
      expect(config.users[0].user.exec.env).to.deep.equal([
        { name: "AWS_PROFILE", value: "bot3-ops" },
      ]);
    });

    it("asks aws eks get-token to assume the role from settings", () => {
      const role = "arn:aws:iam::123456789012:role/bot3-platform-admin";
      const config = JSON.parse(eksKubeconfig({ ...base, assumeRoleArn: role }));
      expect(config.users[0].user.exec.args.slice(-2)).to.deep.equal(["--role-arn", role]);
      expect(config.users[0].user.exec.env).to.equal(null);
    });
  });

  describe("IRSA", () => {
    it("gives the EBS CSI driver its own role that only its service account can assume", () => {
      const role = resource(staging, roleType, "bot3-ebs-csi-role");
      const policy = JSON.parse(String(role.inputs.assumeRolePolicy)) as TrustPolicy;
      const statement = policy.Statement[0];
      const issuer = String(staging.outputs.oidcProviderUrl);
      expect(statement.Action).to.equal("sts:AssumeRoleWithWebIdentity");
      expect(statement.Principal.Federated).to.equal(staging.outputs.oidcProviderArn);
      expect(statement.Condition.StringEquals).to.deep.equal({
        [`${issuer}:sub`]: "system:serviceaccount:kube-system:ebs-csi-controller-sa",
        [`${issuer}:aud`]: "sts.amazonaws.com",
      });
      expect(attachedPolicies(staging, "bot3-ebs-csi-role")).to.deep.equal([
        "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
      ]);
    });

    it("gives the VPC CNI the CNI policy through IRSA instead of through every node", () => {
      const role = resource(staging, roleType, "bot3-vpc-cni-role");
      expect(String(role.inputs.assumeRolePolicy)).to.contain(
        "system:serviceaccount:kube-system:aws-node",
      );
      expect(attachedPolicies(staging, "bot3-vpc-cni-role")).to.deep.equal([
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
      ]);
      for (const group of ["system", "engine"]) {
        expect(attachedPolicies(staging, `bot3-${group}-node-role`)).to.deep.equal([
          "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
          "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        ]);
      }
    });
  });

  describe("add-ons", () => {
    it("installs the four core add-ons at the versions pinned in settings", () => {
      const versions = Object.fromEntries(
        resourcesOfType(staging, addonType).map((a) => [a.inputs.addonName, a.inputs.addonVersion]),
      );
      expect(versions).to.deep.equal({
        "vpc-cni": "v1.19.5-eksbuild.1",
        "kube-proxy": "v1.33.0-eksbuild.2",
        coredns: "v1.12.1-eksbuild.2",
        "aws-ebs-csi-driver": "v1.44.0-eksbuild.1",
      });
    });

    it("turns on the CNI's network policy agent, so NetworkPolicies are enforced", () => {
      const cni = resource(staging, addonType, "bot3-vpc-cni");
      expect(JSON.parse(cni.inputs.configurationValues as string)).to.deep.equal({
        enableNetworkPolicy: "true",
      });
    });

    it("installs the CNI before the nodes, and CoreDNS and the CSI driver after them", () => {
      const nodeGroup = resource(staging, nodeGroupType, "bot3-system-ng");
      expect(nodeGroup.dependencies).to.include(urnOf(staging, addonType, "bot3-vpc-cni"));
      for (const name of ["bot3-coredns", "bot3-aws-ebs-csi-driver"]) {
        expect(resource(staging, addonType, name).dependencies, name).to.include(nodeGroup.urn);
      }
      expect(
        resource(staging, addonType, "bot3-aws-ebs-csi-driver").inputs.serviceAccountRoleArn,
      ).to.equal("arn:aws:iam::123456789012:role/bot3-ebs-csi-role");
    });
  });

  describe("node groups", () => {
    it("sizes the system and engine groups from settings", () => {
      const system = resource(production, nodeGroupType, "bot3-system-ng");
      const engine = resource(production, nodeGroupType, "bot3-engine-ng");
      expect(system.inputs.instanceTypes).to.deep.equal(["m7i.large"]);
      expect(system.inputs.scalingConfig).to.deep.equal({ minSize: 3, maxSize: 6, desiredSize: 3 });
      expect(engine.inputs.instanceTypes).to.deep.equal(["c7i.2xlarge"]);
      expect(engine.inputs.scalingConfig).to.deep.equal({
        minSize: 3,
        maxSize: 10,
        desiredSize: 3,
      });
      expect(engine.inputs.version).to.equal("1.33");
    });

    it("labels and taints the engine group so that only the engine lands there", () => {
      const engine = resource(staging, nodeGroupType, "bot3-engine-ng");
      expect(engine.inputs.labels).to.deep.equal({ "bot3.io/node-role": "engine" });
      expect(engine.inputs.taints).to.deep.equal([
        { key: "bot3.io/dedicated", value: "engine", effect: "NO_SCHEDULE" },
      ]);
      expect(engineNodes.taint).to.deep.equal({
        key: "bot3.io/dedicated",
        value: "engine",
        effect: "NoSchedule",
      });
      expect(resource(staging, nodeGroupType, "bot3-system-ng").inputs.taints).to.deep.equal([]);
    });

    it("puts the nodes in the private subnets, with no SSH access", () => {
      for (const group of resourcesOfType(staging, nodeGroupType)) {
        expect(group.inputs.subnetIds, group.name).to.deep.equal(
          [0, 1, 2].map((i) => `bot3-private-${i}-id`),
        );
        expect(group.inputs, group.name).not.to.have.property("remoteAccess");
      }
      for (const template of resourcesOfType(staging, launchTemplateType)) {
        expect(template.inputs, template.name).not.to.have.property("keyName");
      }
    });

    it("boots from an encrypted gp3 root volume and requires IMDSv2 with a hop limit of 1", () => {
      for (const template of resourcesOfType(production, launchTemplateType)) {
        expect(template.inputs.blockDeviceMappings, template.name).to.deep.equal([
          {
            deviceName: "/dev/xvda",
            ebs: {
              volumeType: "gp3",
              volumeSize: 50,
              encrypted: "true",
              deleteOnTermination: "true",
            },
          },
        ]);
        expect(template.inputs.metadataOptions, template.name).to.deep.equal({
          httpEndpoint: "enabled",
          httpTokens: "required",
          httpPutResponseHopLimit: 1,
        });
      }
      const engine = resource(production, nodeGroupType, "bot3-engine-ng");
      expect(engine.inputs.launchTemplate).to.deep.equal({ id: "bot3-engine-lt-id", version: "1" });
      expect(engine.inputs).not.to.have.property("diskSize");
    });

    it("chooses the AMI type from the instance family", async () => {
      const run = await runStack("staging", {
        overrides: {
          "bot3:nodeGroups": JSON.stringify({
            engine: { instanceTypes: ["c7g.large", "c8g.large"] },
          }),
        },
      });
      expect(resource(run, nodeGroupType, "bot3-engine-ng").inputs.amiType).to.equal(
        "AL2023_ARM_64_STANDARD",
      );
      expect(resource(run, nodeGroupType, "bot3-system-ng").inputs.amiType).to.equal(
        "AL2023_x86_64_STANDARD",
      );
    });

    it("packs the engine group into a cluster placement group in one zone when asked", async () => {
      const run = await runStack("production", {
        overrides: { "bot3:nodeGroups": JSON.stringify({ engine: { placementGroup: true } }) },
      });
      const placement = resource(
        run,
        "aws:ec2/placementGroup:PlacementGroup",
        "bot3-engine-placement",
      );
      expect(placement.inputs.strategy).to.equal("cluster");
      expect(resource(run, launchTemplateType, "bot3-engine-lt").inputs.placement).to.deep.equal({
        groupName: "bot3-engine-placement-0123456",
      });
      expect(resource(run, nodeGroupType, "bot3-engine-ng").inputs.subnetIds).to.deep.equal([
        "bot3-private-0-id",
      ]);
      expect(resource(run, launchTemplateType, "bot3-system-lt").inputs).not.to.have.property(
        "placement",
      );
    });

    it("has no engine group, and no engine taint, when the engine group is disabled", async () => {
      const run = await runStack("staging", {
        overrides: { "bot3:nodeGroups": JSON.stringify({ engine: { enabled: false } }) },
      });
      expect(resourcesOfType(run, nodeGroupType).map((g) => g.name)).to.deep.equal([
        "bot3-system-ng",
      ]);
      expect(run.outputs.nodeRoleArns).to.have.all.keys("system");
    });
  });

  describe("choice of cluster", () => {
    it("declares no AWS resource on the local stack, and exports no EKS outputs", async () => {
      const local = await runStack("local");
      expect(local.resources.filter((r) => r.type.startsWith("aws:"))).to.deep.equal([]);
      expect(local.resources.filter((r) => r.type === "pulumi:providers:aws")).to.deep.equal([]);
      for (const output of ["kubeconfig", "oidcProviderArn", "oidcProviderUrl", "nodeRoleArns"]) {
        expect(local.outputs[output], output).to.equal(undefined);
      }
    });

    it("reaches the local cluster through the kubeconfig context from settings", async () => {
      const local = await runStack("local");
      const provider = resource(local, "pulumi:providers:kubernetes", "bot3-k8s");
      expect(provider.inputs).to.include({ context: "kind-bot3", enableServerSideApply: "true" });
    });

    it("gives every Kubernetes resource of every stack the cluster's provider", async () => {
      for (const stack of ["local", "staging", "production"]) {
        const run = await runStack(stack);
        const provider = resource(run, "pulumi:providers:kubernetes", "bot3-k8s");
        const objects = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
        expect(objects.length, stack).to.be.greaterThan(0);
        for (const object of objects) {
          expect(object.provider, `${stack} ${object.type} ${object.name}`).to.equal(
            `${provider.urn}::${provider.name}-id`,
          );
        }
      }
    });
  });

  describe("ClusterAccess", () => {
    it("hands other components the network, the node security group and an IRSA helper", async () => {
      const run = await runStack("staging", { program: clusterAccessProgram, overrides: {} });
      expect(run.outputs).to.deep.include({
        hasAws: true,
        engineArchitecture: "amd64",
        engineNodes,
        storageClasses: { default: "gp3", retain: "gp3-retain" },
        vpcId: "bot3-vpc-id",
        vpcCidr: "10.20.0.0/16",
        privateSubnetIds: [0, 1, 2].map((i) => `bot3-private-${i}-id`),
        nodeSecurityGroupId: "sg-cluster-bot3-eks",
        engineRoleArn: "arn:aws:iam::123456789012:role/engine-irsa-role",
      });
      const role = resource(run, roleType, "engine-irsa-role");
      expect(String(role.inputs.assumeRolePolicy)).to.contain(
        "system:serviceaccount:bot3:bot3-engine",
      );
    });

    it("reports an arm64 engine when the engine group runs Graviton", async () => {
      const run = await runStack("staging", {
        program: clusterAccessProgram,
        overrides: {
          "bot3:nodeGroups": JSON.stringify({ engine: { instanceTypes: ["c7g.xlarge"] } }),
        },
      });
      expect(run.outputs.engineArchitecture).to.equal("arm64");
    });
  });
});
