import { strict as assert } from "node:assert";
import type { Policies, PolicyResource, ResourceValidationArgs } from "@pulumi/policy";
import { policies } from "../policies";
import { evaluatePolicies } from "../policies/offline";
import { deployment, mainContainer, resource, securityContextOf } from "./workload-builders";

const rootDeployment = () =>
  deployment("engine", (s) => (securityContextOf(mainContainer(s)).runAsNonRoot = false));
const levelsOf = (policyName: string, config?: Record<string, unknown>) =>
  evaluatePolicies([rootDeployment()], { config: config as never })
    .filter((v) => v.policyName === policyName)
    .map((v) => v.enforcementLevel);

describe("evaluatePolicies", () => {
  describe("enforcement levels", () => {
    it("reports each policy at its default level", () => {
      assert.deepEqual(levelsOf("containers-run-as-non-root"), ["mandatory"]);
    });

    it("applies a per-policy level from the config", () => {
      assert.deepEqual(
        levelsOf("containers-run-as-non-root", { "containers-run-as-non-root": "advisory" }),
        ["advisory"],
      );
      const asObject = { "containers-run-as-non-root": { enforcementLevel: "advisory" } };
      assert.deepEqual(levelsOf("containers-run-as-non-root", asObject), ["advisory"]);
    });

    it("lets `all` set every level and a policy's own entry override `all`", () => {
      const all = evaluatePolicies([rootDeployment()], { config: { all: "advisory" } });
      assert.ok(all.length > 1);
      assert.ok(all.every((v) => v.enforcementLevel === "advisory"));
      const config = { all: "advisory", "pss-restricted-run-as-non-root": "mandatory" } as const;
      assert.deepEqual(levelsOf("pss-restricted-run-as-non-root", config), ["mandatory"]);
      assert.deepEqual(levelsOf("containers-run-as-non-root", config), ["advisory"]);
    });

    it("skips disabled policies, also through `all`", () => {
      assert.deepEqual(
        levelsOf("containers-run-as-non-root", { "containers-run-as-non-root": "disabled" }),
        [],
      );
      assert.deepEqual(evaluatePolicies([rootDeployment()], { config: { all: "disabled" } }), []);
    });

    it("reports a remediate-level violation as mandatory, as the SDK does", () => {
      assert.deepEqual(
        levelsOf("containers-run-as-non-root", { "containers-run-as-non-root": "remediate" }),
        ["mandatory"],
      );
    });
  });

  describe("config", () => {
    it("hands policies their schema defaults merged with the configured options", () => {
      const seen: unknown[] = [];
      const probe: Policies = [
        {
          name: "probe",
          description: "Records its config.",
          configSchema: {
            properties: { a: { type: "integer", default: 1 }, b: { type: "string", default: "x" } },
          },
          validateResource: (args) => void seen.push(args.getConfig()),
        },
      ];
      evaluatePolicies([deployment()], {
        policies: probe,
        config: { probe: { enforcementLevel: "mandatory", b: "y" } },
      });
      assert.deepEqual(seen, [{ a: 1, b: "y" }]);
    });

    it("rejects an option of the wrong type, naming the policy and option", () => {
      assert.throws(
        () => evaluatePolicies([], { config: { "images-pinned": { requireDigest: "yes" } } }),
        /images-pinned: requireDigest must be of type boolean/,
      );
    });

    it("rejects an unknown enforcement level", () => {
      assert.throws(
        () => evaluatePolicies([], { config: { all: "strict" as never } }),
        /"all" to "strict", which is not an enforcement level/,
      );
    });

    it("skips resources listed in exemptResources", () => {
      const config = { "containers-run-as-non-root": { exemptResources: ["engine"] } };
      assert.deepEqual(levelsOf("containers-run-as-non-root", config), []);
      assert.equal(levelsOf("pss-restricted-run-as-non-root", config).length, 1);
    });
  });

  describe("validation arguments", () => {
    it("builds resource args like the SDK: type tests, options, provider and config", () => {
      const captured: ResourceValidationArgs[] = [];
      const recorder: Policies = [
        {
          name: "recorder",
          description: "Records args.",
          validateResource: (args) => void captured.push(args),
        },
      ];
      const provider = resource("pulumi:providers:kubernetes", "eks", { namespace: "trading" });
      const workload = {
        ...deployment(),
        parent: "urn:parent",
        protect: true,
        provider: `${provider.urn}::abc`,
      };
      evaluatePolicies([workload], { policies: recorder });
      evaluatePolicies([provider, workload], { policies: recorder });
      const [alone, withProvider] = [captured[0], captured[2]];
      assert.equal(alone.type, "kubernetes:apps/v1:Deployment");
      assert.equal(alone.name, "engine");
      assert.equal(alone.opts.parent, "urn:parent");
      assert.equal(alone.opts.protect, true);
      assert.equal(alone.provider, undefined);
      assert.equal(withProvider.provider?.name, "eks");
      const deploymentClass = { __pulumiType: "kubernetes:apps/v1:Deployment" };
      assert.ok(alone.isType(deploymentClass as never));
      assert.ok(!alone.isType({ __pulumiType: "aws:s3/bucket:Bucket" } as never));
      assert.ok(alone.asType(deploymentClass as never));
    });

    it("unwraps secrets and drops undefined properties before policies read them", () => {
      const seen: unknown[] = [];
      const recorder: Policies = [
        {
          name: "r",
          description: "d",
          validateResource: (args) => void seen.push({ ...args.props }),
        },
      ];
      const secret = {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        value: "s3cr3t",
      };
      evaluatePolicies([resource("t:m:R", "x", { password: secret, gone: undefined })], {
        policies: recorder,
      });
      assert.deepEqual(seen, [{ password: "s3cr3t" }]);
    });

    it("resolves parents and (property) dependencies to resources for stack policies", () => {
      let resources: PolicyResource[] = [];
      const recorder: Policies = [
        { name: "s", description: "d", validateStack: (args) => void (resources = args.resources) },
      ];
      const bucket = resource("aws:s3/bucket:Bucket", "b", {});
      const block = resource(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "p",
        {},
        {
          parent: bucket.urn,
          dependencies: [bucket.urn],
          propertyDependencies: { bucket: [bucket.urn] },
        },
      );
      evaluatePolicies([bucket, block], { policies: recorder });
      assert.equal(resources[1].parent, resources[0]);
      assert.deepEqual(resources[1].dependencies, [resources[0]]);
      assert.equal(resources[1].propertyDependencies.bucket[0], resources[0]);
    });

    it("treats notApplicable as no finding and prefixes messages with the description", () => {
      const pack: Policies = [
        {
          name: "na",
          description: "Never applies.",
          validateResource: (args) => args.notApplicable("not here"),
        },
        {
          name: "says",
          description: "Always speaks.",
          validateResource: (_, report) => report("Detail."),
        },
      ];
      const found = evaluatePolicies([resource("t:m:R", "x", {})], { policies: pack });
      assert.deepEqual(
        found.map((v) => [v.policyName, v.message, v.resourceName]),
        [["says", "Always speaks.\nDetail.", "x"]],
      );
    });
  });

  it("runs every policy of the pack by default and finds nothing in a compliant stack", () => {
    const netpol = resource("kubernetes:networking.k8s.io/v1:NetworkPolicy", "deny", {
      metadata: { namespace: "trading" },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
    assert.ok(policies.length >= 40);
    assert.deepEqual(evaluatePolicies([deployment(), netpol]), []);
  });
});
