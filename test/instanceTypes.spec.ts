import { expect } from "chai";
import { amiTypeFor, architectureOf, isBurstable } from "../settings/instanceTypes";
import { runStack, settingsErrorFor } from "./harness";

describe("instance types", () => {
  const table: [instanceType: string, amiType: string][] = [
    ["m7i.large", "AL2023_x86_64_STANDARD"],
    ["c7i.2xlarge", "AL2023_x86_64_STANDARD"],
    ["c6a.xlarge", "AL2023_x86_64_STANDARD"],
    ["r7iz.large", "AL2023_x86_64_STANDARD"],
    ["t3.large", "AL2023_x86_64_STANDARD"],
    ["g4dn.xlarge", "AL2023_x86_64_STANDARD"],
    ["inf2.xlarge", "AL2023_x86_64_STANDARD"],
    ["c7g.xlarge", "AL2023_ARM_64_STANDARD"],
    ["c7gn.large", "AL2023_ARM_64_STANDARD"],
    ["m6gd.large", "AL2023_ARM_64_STANDARD"],
    ["r8g.large", "AL2023_ARM_64_STANDARD"],
    ["t4g.small", "AL2023_ARM_64_STANDARD"],
    ["x2gd.large", "AL2023_ARM_64_STANDARD"],
    ["im4gn.large", "AL2023_ARM_64_STANDARD"],
    ["is4gen.xlarge", "AL2023_ARM_64_STANDARD"],
    ["g5g.xlarge", "AL2023_ARM_64_STANDARD"],
    ["a1.medium", "AL2023_ARM_64_STANDARD"],
  ];
  for (const [instanceType, amiType] of table) {
    it(`runs ${instanceType} on ${amiType}`, () => {
      expect(amiTypeFor(architectureOf(instanceType))).to.equal(amiType);
    });
  }

  it("counts only the t families as burstable", () => {
    expect(["t3.large", "t3a.medium", "t4g.small", "t2.micro"].filter(isBurstable)).to.have.length(
      4,
    );
    expect(
      ["c7i.large", "trn1.2xlarge", "m7g.large", "g5g.xlarge"].filter(isBurstable),
    ).to.deep.equal([]);
  });
});

describe("cluster settings that cannot be deployed", () => {
  async function messageFor(stack: string, overrides: Record<string, unknown>): Promise<string> {
    const error = await settingsErrorFor(stack, overrides);
    expect(error.name, error.message).to.equal("SettingsError");
    return error.message;
  }

  it("refuses an invalid CIDR in the public endpoint allow-list", async () => {
    const message = await messageFor("staging", {
      "bot3:cluster": { publicAccessCidrs: ["203.0.113.300/24"] },
    });
    expect(message).to.contain(
      'bot3:cluster.publicAccessCidrs.0 = "203.0.113.300/24": must be an IPv4 CIDR block such as 10.0.0.0/16',
    );
  });

  it("refuses a Kubernetes version that is not a minor version", async () => {
    const message = await messageFor("staging", {
      "bot3:cluster": { kubernetesVersion: "1.33.2" },
    });
    expect(message).to.contain(
      'bot3:cluster.kubernetesVersion = "1.33.2": must be a Kubernetes minor version such as 1.33',
    );
  });

  it("refuses a node group that mixes arm64 and amd64 instance types", async () => {
    const message = await messageFor("staging", {
      "bot3:nodeGroups": { engine: { instanceTypes: ["c7i.large", "c7g.large"] } },
    });
    expect(message).to.contain(
      'bot3:nodeGroups.engine.instanceTypes ["c7i.large","c7g.large"] mixes arm64 and amd64 ' +
        "instance families; one node group runs one AMI, so keep to one architecture",
    );
  });

  it("refuses a production API endpoint open to the world", async () => {
    const message = await messageFor("production", {
      "bot3:cluster": { publicAccessCidrs: ["198.51.100.0/24", "0.0.0.0/0"] },
    });
    expect(message).to.contain(
      "bot3:cluster.publicAccessCidrs contains 0.0.0.0/0, which opens the production API " +
        "endpoint to the world (or a large part of it); list your office or VPN CIDRs, or " +
        "none to keep it private",
    );
  });

  it("allows an allow-listed public endpoint in production", async () => {
    const run = await runStack("production", {
      overrides: { "bot3:cluster": JSON.stringify({ publicAccessCidrs: ["198.51.100.0/24"] }) },
    });
    const cluster = run.resources.find((r) => r.type === "aws:eks/cluster:Cluster");
    expect(cluster?.inputs.vpcConfig).to.deep.include({
      endpointPublicAccess: true,
      publicAccessCidrs: ["198.51.100.0/24"],
    });
  });

  it("refuses burstable engine instances in production", async () => {
    const message = await messageFor("production", {
      "bot3:nodeGroups": { engine: { instanceTypes: ["t3.2xlarge"] } },
    });
    expect(message).to.contain(
      'bot3:nodeGroups.engine.instanceTypes has burstable types ["t3.2xlarge"], which throttle ' +
        "under sustained load; use a fixed-performance family such as c7i",
    );
  });

  it("refuses a kube-proxy add-on built for another Kubernetes version", async () => {
    const message = await messageFor("staging", { "bot3:cluster": { kubernetesVersion: "1.32" } });
    expect(message).to.contain(
      "bot3:cluster.addonVersions.kubeProxy (v1.33.0-eksbuild.2) does not match " +
        "bot3:cluster.kubernetesVersion (1.32)",
    );
  });

  it("refuses an add-on version that is not an EKS build", async () => {
    const message = await messageFor("staging", {
      "bot3:cluster": { addonVersions: { coreDns: "1.12.1" } },
    });
    expect(message).to.contain(
      'bot3:cluster.addonVersions.coreDns = "1.12.1": must be an EKS add-on version such as ' +
        "v1.19.5-eksbuild.1",
    );
  });

  it("refuses a placement group for a disabled engine group", async () => {
    const message = await messageFor("production", {
      "bot3:nodeGroups": { engine: { enabled: false, placementGroup: true } },
    });
    expect(message).to.contain(
      "bot3:nodeGroups.engine.placementGroup is true but bot3:nodeGroups.engine.enabled is false",
    );
  });
});
