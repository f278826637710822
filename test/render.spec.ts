import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { schemaProblems } from "../tools/offline/kubernetesSchema";
import { kubernetesManifests } from "../tools/offline/manifests";
import { offlineSecretPrefixes } from "../tools/offline/mockCloud";
import { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import { checkPolicies, describeViolation } from "../tools/offline/policyCheck";
import { propertyDependenciesOf, type RegisteredResource } from "../tools/offline/runProgram";
import { repositoryRoot } from "../tools/offline/stackConfig";
import {
  configValue,
  parseArguments,
  render,
  renderFailed,
  secretLeaks,
  type RenderResult,
} from "../tools/render";

const stacks = ["local", "staging", "production"];

function runRenderCli(...args: string[]) {
  return spawnSync(
    process.execPath,
    [
      "-r",
      "ts-node/register/transpile-only",
      path.join(repositoryRoot, "tools", "render.ts"),
      ...args,
    ],
    { cwd: repositoryRoot, encoding: "utf8", timeout: 60_000 },
  );
}

function kubernetesResource(inputs: Record<string, unknown>): RegisteredResource {
  return {
    type: `kubernetes:core/v1:${String(inputs.kind)}`,
    name: "fixture",
    urn: "urn:pulumi:test::bot3::fixture",
    custom: true,
    inputs,
    maskedInputs: inputs,
    secretValues: [],
    dependencies: [],
    propertyDependencies: {},
    protect: false,
    retainOnDelete: false,
    ignoreChanges: [],
    replaceOnChanges: [],
    deleteBeforeReplace: false,
  };
}

describe("Offline render", () => {
  const renders = new Map<string, RenderResult>();
  const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), "bot3-render-"));

  before(async () => {
    for (const stack of stacks) renders.set(stack, await render(stack, path.join(outRoot, stack)));
  });
  after(() => fs.rmSync(outRoot, { recursive: true, force: true }));

  for (const stack of stacks) {
    describe(`of the ${stack} stack`, () => {
      it("writes one YAML file per Kubernetes object, cluster-scoped ones under _cluster/", () => {
        const result = renders.get(stack)!;
        const yamlFiles = [...result.files.keys()].filter((f) => f.endsWith(".yaml"));
        expect(yamlFiles).to.not.be.empty;
        for (const file of yamlFiles) {
          expect(fs.existsSync(path.join(result.outDir, file)), file).to.equal(true);
          expect(file).to.match(/^[a-z0-9_-]+\/[A-Za-z]+-[a-z0-9.-]+\.yaml$/);
        }
        expect(yamlFiles).to.include(
          `_cluster/Namespace-${result.run.outputs.namespace as string}.yaml`,
        );
      });

      it("lists every resource in inventory.json with its type, name, parent and provider", () => {
        const result = renders.get(stack)!;
        const written = JSON.parse(
          fs.readFileSync(path.join(result.outDir, "inventory.json"), "utf8"),
        ) as { type: string; name: string; parent: string | null; provider: string | null }[];
        expect(written).to.have.length(result.run.resources.length);
        for (const entry of written) {
          expect(Object.keys(entry)).to.deep.equal([
            "type",
            "name",
            "parent",
            "provider",
            "inputs",
          ]);
        }
        const namespace = written.find((e) => e.type === "kubernetes:core/v1:Namespace")!;
        expect(namespace.provider).to.match(/pulumi:providers:kubernetes/);
      });

      it("finds every Kubernetes object valid against the Kubernetes schema", () => {
        expect(renders.get(stack)!.invalid).to.deep.equal([]);
      });

      it("writes no secret value in the manifests, the inventory or the summary", () => {
        const result = renders.get(stack)!;
        const secrets = [
          ...result.run.resources.flatMap((r) => r.secretValues),
          ...result.run.config.placeholderKeys,
        ];
        const written = [...result.files.values(), result.summary].join("\n");
        for (const prefix of offlineSecretPrefixes) expect(written).to.not.include(prefix);
        for (const secret of secrets.filter(
          (s) => s.startsWith("offline") || s.startsWith("https://offline"),
        )) {
          expect(written).to.not.include(secret);
        }
      });

      it("passes every mandatory policy of the pack with the stack's pack config", () => {
        const mandatory = renders
          .get(stack)!
          .violations.filter((v) => v.enforcementLevel === "mandatory")
          .map(describeViolation);
        expect(mandatory).to.deep.equal([]);
      });

      it("summarises resource counts by type and where the files went", () => {
        const result = renders.get(stack)!;
        expect(result.summary).to.match(new RegExp(`^Stack ${stack}: \\d+ resources`));
        expect(result.summary).to.match(/kubernetes:core\/v1:Namespace\s+\d+/);
        expect(result.summary).to.include("Wrote manifests and inventory.json to");
      });
    });
  }

  it("says when it builds the engine from the stand-in source", () => {
    expect(renders.get("staging")!.summary).to.match(
      /Offline stand-in: bot3:image.context \.\.\/bot3-engine is not on this machine; building from test\/fixtures\/engine/,
    );
  });

  it("says which encrypted settings were replaced by placeholders", () => {
    expect(renders.get("staging")!.summary).to.include(
      "placeholders stand in for: bot3:exchangeCredentials.binance-testnet.apiKey",
    );
  });

  describe("its checks", () => {
    it("report a schema violation with the field's path", async () => {
      const problems = await schemaProblems({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "engine" },
        spec: {
          selector: {},
          template: { spec: { containers: [{ name: "c", ports: [{ containerPort: "http" }] }] } },
        },
      });
      expect(problems.join("\n")).to.include(
        "/spec/template/spec/containers/0/ports/0/containerPort",
      );
    });

    it("report a kind that has no schema", async () => {
      expect(await schemaProblems({ apiVersion: "example.com/v1", kind: "Widget" })).to.deep.equal([
        "no schema is known for example.com/v1 Widget",
      ]);
    });

    it("accept a valid custom resource of cert-manager", async () => {
      const problems = await schemaProblems({
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: "selfsigned" },
        spec: { selfSigned: {} },
      });
      expect(problems).to.deep.equal([]);
    });

    it("refuse a namespaced object without a namespace, and an object without a name", () => {
      const { problems } = kubernetesManifests([
        kubernetesResource({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }),
        kubernetesResource({ apiVersion: "v1", kind: "ConfigMap", metadata: {} }),
      ]);
      expect(problems[0]).to.match(/ConfigMap "x" \(fixture\) has no metadata.namespace/);
      expect(problems[1]).to.match(/has no metadata.name/);
    });

    it("run the policy pack and fail the render on a mandatory violation", () => {
      const run = renders.get("local")!.run;
      const deployment = kubernetesResource({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "unbounded", namespace: "bot3" },
        spec: {
          selector: { matchLabels: { app: "unbounded" } },
          template: {
            metadata: { labels: { app: "unbounded" } },
            spec: { containers: [{ name: "main", image: "example.com/app:1.0" }] },
          },
        },
      });
      const violations = checkPolicies({
        ...run,
        resources: [...run.resources, { ...deployment, type: "kubernetes:apps/v1:Deployment" }],
      });
      const names = violations
        .filter((v) => v.enforcementLevel === "mandatory" && v.resourceName === "fixture")
        .map((v) => v.policyName);
      expect(names).to.include("containers-run-as-non-root");
      expect(renderFailed({ ...renders.get("local")!, violations })).to.equal(true);
      expect(renderFailed(renders.get("local")!)).to.equal(false);
    });

    it("record which resources each input property came from", () => {
      const request = new RegisterResourceRequest();
      const deps = new RegisterResourceRequest.PropertyDependencies();
      deps.setUrnsList(["urn:pulumi:test::bot3::aws:ec2/vpc:Vpc::net"]);
      request.getPropertydependenciesMap().set("vpcId", deps);
      expect(propertyDependenciesOf(request)).to.deep.equal({
        vpcId: ["urn:pulumi:test::bot3::aws:ec2/vpc:Vpc::net"],
      });
    });

    it("find a secret written in plain text, without repeating it", () => {
      const leaked = `${offlineSecretPrefixes[0]}bot3-postgres`;
      const leaks = secretLeaks(new Map([["bot3/ConfigMap-x.yaml", `password: ${leaked}`]]));
      expect(leaks).to.deep.equal(["bot3/ConfigMap-x.yaml: contains a secret value in plain text"]);
    });
  });

  describe("command line", () => {
    it("renders a stack and prints the summary", () => {
      const out = path.join(outRoot, "cli-local");
      const result = runRenderCli("--stack", "local", "--out", out);
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout).to.match(/^Stack local: \d+ resources/);
      expect(fs.existsSync(path.join(out, "inventory.json"))).to.equal(true);
    });

    it("exits non-zero for an unknown stack and names the known ones", () => {
      const result = runRenderCli("--stack", "prod");
      expect(result.status).to.equal(1);
      expect(result.stderr)
        .to.include('Unknown stack "prod"')
        .and.include("local, production, staging");
    });

    it("exits non-zero for minimum replicas above maximum, naming both keys", () => {
      const result = runRenderCli(
        "--stack",
        "staging",
        "--out",
        path.join(outRoot, "cli-bad"),
        "--set",
        "bot3:engine.minReplicas=5",
        "--set",
        "bot3:engine.maxReplicas=2",
      );
      expect(result.status).to.equal(1);
      expect(result.stderr).to.include(
        "bot3:engine.minReplicas (5) is above bot3:engine.maxReplicas (2)",
      );
      expect(fs.existsSync(path.join(outRoot, "cli-bad"))).to.equal(false);
    });

    it("exits with the program's own message when an error is thrown inside an apply", () => {
      const result = runRenderCli(
        "--stack",
        "staging",
        "--out",
        path.join(outRoot, "cli-zones"),
        "--set",
        "bot3:network.availabilityZones=6",
      );
      expect(result.status).to.equal(1);
      expect(result.stderr).to.include(
        "bot3:network.availabilityZones is 6, but the region has only 3 available zones",
      );
    });

    it("turns --set paths into field overrides", () => {
      const parsed = parseArguments([
        "--stack",
        "staging",
        "--set",
        "bot3:engine.requests.cpu=250m",
        "--set",
        "bot3:engine.minReplicas=4",
      ]);
      expect(JSON.parse(parsed.overrides["bot3:engine"])).to.deep.equal({
        requests: { cpu: "250m" },
        minReplicas: 4,
      });
      expect(parsed.outDir).to.equal(path.join(repositoryRoot, "dist", "staging"));
    });

    it("reads --set values the way pulumi config set --path stores them", () => {
      expect(configValue("3")).to.equal(3);
      expect(configValue("true")).to.equal(true);
      expect(configValue("1.33")).to.equal("1.33");
      expect(configValue("1e400")).to.equal("1e400");
      expect(configValue('["oncall"]')).to.deep.equal(["oncall"]);
      expect(configValue("kind-bot3")).to.equal("kind-bot3");
      const parsed = parseArguments([
        "--stack",
        "staging",
        "--set",
        "bot3:cluster.kubernetesVersion=1.33",
      ]);
      expect(JSON.parse(parsed.overrides["bot3:cluster"])).to.deep.equal({
        kubernetesVersion: "1.33",
      });
    });

    it("refuses --set paths through special names or plain values", () => {
      expect(() => parseArguments(["--stack", "s", "--set", "bot3:engine.__proto__.x=2"])).to.throw(
        /cannot write the field names __proto__/,
      );
      expect(({} as Record<string, unknown>).x).to.equal(undefined);
      expect(() =>
        parseArguments([
          "--stack",
          "s",
          "--set",
          "bot3:engine=5",
          "--set",
          "bot3:engine.minReplicas=2",
        ]),
      ).to.throw(/bot3:engine was set to a plain value before/);
    });

    it("leaves a folder alone that holds anything but a render, even beside an inventory.json", async () => {
      const folder = fs.mkdtempSync(path.join(outRoot, "mixed-"));
      fs.writeFileSync(path.join(folder, "inventory.json"), "{}");
      fs.mkdirSync(path.join(folder, "src"));
      fs.writeFileSync(path.join(folder, "src", "main.ts"), "keep me");
      let message = "";
      try {
        await render("local", folder);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).to.include("is not a previous render");
      expect(fs.existsSync(path.join(folder, "src", "main.ts"))).to.equal(true);
    });

    it("refuses to clear a folder that is not a previous render", async () => {
      const folder = fs.mkdtempSync(path.join(outRoot, "precious-"));
      fs.writeFileSync(path.join(folder, "notes.txt"), "keep me");
      let message = "";
      try {
        await render("local", folder);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).to.include("is not a previous render");
      expect(fs.readFileSync(path.join(folder, "notes.txt"), "utf8")).to.equal("keep me");
    });
  });
});
