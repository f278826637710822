import { expect } from "chai";
import * as path from "path";
import { resourcesOfType, runStack, type ProgramRun } from "./harness";

const storageClassType = "kubernetes:storage.k8s.io/v1:StorageClass";
const patchType = "kubernetes:storage.k8s.io/v1:StorageClassPatch";
const defaultAnnotation = "storageclass.kubernetes.io/is-default-class";
const clusterAccessProgram = path.join(__dirname, "fixtures", "clusterAccessProgram.ts");

interface StorageClassInputs {
  metadata: { name: string; annotations: Record<string, string> };
  provisioner: string;
  parameters: Record<string, string>;
  reclaimPolicy: string;
  volumeBindingMode: string;
  allowVolumeExpansion: boolean;
}

function storageClasses(run: ProgramRun): StorageClassInputs[] {
  return resourcesOfType(run, storageClassType).map(
    (r) => r.inputs as unknown as StorageClassInputs,
  );
}

function storageClass(run: ProgramRun, name: string): StorageClassInputs {
  const found = storageClasses(run).find((c) => c.metadata.name === name);
  if (!found) throw new Error(`No StorageClass ${name} in stack ${run.stack}`);
  return found;
}

describe("StorageClasses", () => {
  let staging: ProgramRun;
  before(async () => {
    staging = await runStack("staging");
  });

  it("declares exactly one default class", async () => {
    for (const run of [staging, await runStack("production")]) {
      const defaults = storageClasses(run).filter(
        (c) => c.metadata.annotations[defaultAnnotation] === "true",
      );
      expect(
        defaults.map((c) => c.metadata.name),
        run.stack,
      ).to.deep.equal(["gp3"]);
    }
  });

  it("makes the default class encrypted gp3 through the EBS CSI driver, bound where the pod lands", () => {
    expect(storageClass(staging, "gp3")).to.deep.include({
      provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" },
      reclaimPolicy: "Delete",
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
    });
  });

  it("keeps database volumes after their claims are deleted with a Retain class", () => {
    const retain = storageClass(staging, "gp3-retain");
    expect(retain.reclaimPolicy).to.equal("Retain");
    expect(retain.metadata.annotations[defaultAnnotation]).to.equal("false");
    expect(retain.parameters.encrypted).to.equal("true");
    expect(retain.volumeBindingMode).to.equal("WaitForFirstConsumer");
  });

  it("demotes the gp2 class that EKS creates with a forced server-side-apply patch", () => {
    const patches = resourcesOfType(staging, patchType);
    expect(patches).to.have.length(1);
    expect(patches[0].inputs.metadata).to.deep.equal({
      name: "gp2",
      annotations: { [defaultAnnotation]: "false", "pulumi.com/patchForce": "true" },
    });
  });

  it("encrypts with the KMS key from settings, and lets the CSI driver use it", async () => {
    const keyArn = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab";
    const run = await runStack("staging", {
      overrides: { "bot3:storage": JSON.stringify({ kmsKeyArn: keyArn }) },
    });
    for (const name of ["gp3", "gp3-retain"]) {
      expect(storageClass(run, name).parameters, name).to.include({
        encrypted: "true",
        kmsKeyId: keyArn,
      });
    }
    const keyPolicy = run.resources.find((r) => r.name === "bot3-ebs-csi-volume-key");
    expect(keyPolicy?.inputs.role).to.equal("bot3-ebs-csi-role");
    const statements = JSON.parse(String(keyPolicy?.inputs.policy)).Statement;
    expect(statements.map((st: { Resource: string }) => st.Resource)).to.deep.equal([
      keyArn,
      keyArn,
    ]);
    expect(statements[0].Action).to.include("kms:CreateGrant");
    expect(staging.resources.find((r) => r.name === "bot3-ebs-csi-volume-key")).to.equal(undefined);
  });

  it("waits for the EBS CSI driver add-on before creating the classes", () => {
    const addon = staging.resources.find((r) => r.name === "bot3-aws-ebs-csi-driver");
    for (const r of [
      ...resourcesOfType(staging, storageClassType),
      ...resourcesOfType(staging, patchType),
    ]) {
      expect(r.dependencies, r.name).to.include(addon?.urn);
    }
  });

  it("hands the class names to the rest of the program through ClusterAccess", async () => {
    const run = await runStack("staging", { program: clusterAccessProgram, overrides: {} });
    expect(run.outputs.storageClasses).to.deep.equal({ default: "gp3", retain: "gp3-retain" });
  });

  describe("on an existing cluster", () => {
    it("creates no class and uses the cluster's default unless settings name classes", async () => {
      const local = await runStack("local");
      expect(resourcesOfType(local, storageClassType)).to.deep.equal([]);
      expect(resourcesOfType(local, patchType)).to.deep.equal([]);
      const run = await runStack("local", { program: clusterAccessProgram, overrides: {} });
      expect(run.outputs.storageClasses).to.deep.equal({ default: "", retain: "" });
    });

    it("uses the classes that settings name", async () => {
      const run = await runStack("local", {
        program: clusterAccessProgram,
        overrides: {
          "bot3:storage": JSON.stringify({ defaultClass: "standard", retainClass: "keep" }),
        },
      });
      expect(run.outputs.storageClasses).to.deep.equal({ default: "standard", retain: "keep" });
    });
  });
});
