/**
 * Holds the offline evaluator to the real thing: starts this pack's analyzer (index.ts, the
 * gRPC server of @pulumi/policy), drives it the way the Pulumi engine does (Configure with the
 * reconciled config, Analyze per resource, AnalyzeStack once), and requires the same findings
 * as evaluatePolicies on the same resources.
 */
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import type { EnforcementLevel, PolicyPackConfig } from "@pulumi/policy";
import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { policies } from "../policies";
import { evaluatePolicies, OfflineResource } from "../policies/offline";
import { reconcilePolicyConfig } from "../policies/pack-config";
import { unknownStringValue } from "../policies/sdk-proxy";
import { deployment, mainContainer, Props, resource, securityContextOf } from "./workload-builders";

// The generated gRPC stubs load these themselves; taking the same copies keeps classes equal,
// and google-protobuf ships no types, hence plain requires resolved from the stubs' directory.
/* eslint-disable @typescript-eslint/no-require-imports */
const protoDirectory = path.dirname(require.resolve("@pulumi/pulumi/proto/analyzer_grpc_pb"));
const grpc = require(
  require.resolve("@grpc/grpc-js", { paths: [protoDirectory] }),
) as typeof import("@grpc/grpc-js");
const { Struct } = require(
  require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [protoDirectory] }),
) as { Struct: { fromJavaScript(value: Record<string, unknown>): never } };
/* eslint-enable @typescript-eslint/no-require-imports */

const packRoot = path.resolve(__dirname, "..");
const levels: EnforcementLevel[] = ["advisory", "mandatory", "disabled", "remediate"];

interface Finding {
  policyName: string;
  enforcementLevel: EnforcementLevel;
  message: string;
}

function startAnalyzer(): Promise<{ child: ChildProcess; client: AnalyzerClient }> {
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "index.ts"], {
    cwd: packRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.stdout?.once("data", (chunk: Buffer) => {
      const port = chunk.toString().trim();
      const client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      resolve({ child, client });
    });
  });
}

function toStruct(value: Record<string, unknown>) {
  return Struct.fromJavaScript(JSON.parse(JSON.stringify(value)) as Record<string, unknown>);
}

function call<TRequest, TResponse>(
  method: (
    request: TRequest,
    callback: (error: Error | null, response: TResponse) => void,
  ) => unknown,
  request: TRequest,
): Promise<TResponse> {
  return new Promise((resolve, reject) =>
    method(request, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

function findingsOf(response: analyzerProto.AnalyzeResponse): Finding[] {
  return response.getDiagnosticsList().map((diagnostic) => ({
    policyName: diagnostic.getPolicyname(),
    enforcementLevel: levels[diagnostic.getEnforcementlevel()],
    message: diagnostic.getMessage(),
  }));
}

function options(resource: OfflineResource) {
  const result = new analyzerProto.AnalyzerResourceOptions();
  result.setProtect(resource.protect ?? false);
  if (resource.parent) {
    result.setParent(resource.parent);
  }
  return result;
}

function providerOf(resource: OfflineResource, all: OfflineResource[]) {
  const provider = all.find((candidate) => resource.provider?.startsWith(candidate.urn));
  if (!provider) {
    return undefined;
  }
  const result = new analyzerProto.AnalyzerProviderResource();
  result.setType(provider.type);
  result.setName(provider.name);
  result.setUrn(provider.urn);
  result.setProperties(toStruct(provider.props));
  return result;
}

async function analyzeLikeTheEngine(
  client: AnalyzerClient,
  resources: OfflineResource[],
  config: PolicyPackConfig,
) {
  const configure = new analyzerProto.ConfigureAnalyzerRequest();
  for (const [name, reconciled] of reconcilePolicyConfig(policies, "advisory", config)) {
    const policyConfig = new analyzerProto.PolicyConfig();
    policyConfig.setEnforcementlevel(levels.indexOf(reconciled.enforcementLevel));
    policyConfig.setProperties(toStruct(reconciled.properties));
    configure.getPolicyconfigMap().set(name, policyConfig);
  }
  await call(client.configure.bind(client), configure);

  const findings: Finding[] = [];
  const stack = new analyzerProto.AnalyzeStackRequest();
  for (const resource of resources) {
    const request = new analyzerProto.AnalyzeRequest();
    request.setType(resource.type);
    request.setName(resource.name);
    request.setUrn(resource.urn);
    request.setProperties(toStruct(resource.props));
    request.setOptions(options(resource));
    const provider = providerOf(resource, resources);
    if (provider) {
      request.setProvider(provider);
    }
    findings.push(...findingsOf(await call(client.analyze.bind(client), request)));

    const stackResource = new analyzerProto.AnalyzerResource();
    stackResource.setType(resource.type);
    stackResource.setName(resource.name);
    stackResource.setUrn(resource.urn);
    stackResource.setProperties(toStruct(resource.props));
    stackResource.setOptions(options(resource));
    if (provider) {
      stackResource.setProvider(provider);
    }
    for (const [property, urns] of Object.entries(resource.propertyDependencies ?? {})) {
      const dependencies = new analyzerProto.AnalyzerPropertyDependencies();
      dependencies.setUrnsList(urns);
      stackResource.getPropertydependenciesMap().set(property, dependencies);
    }
    stack.addResources(stackResource);
  }
  findings.push(...findingsOf(await call(client.analyzeStack.bind(client), stack)));
  return findings;
}

const sorted = (findings: Finding[]) =>
  findings
    .map(({ policyName, enforcementLevel, message }) => ({ policyName, enforcementLevel, message }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe("offline evaluator parity with the pack's real analyzer", function () {
  this.timeout(60_000);
  let analyzer: { child: ChildProcess; client: AnalyzerClient } | undefined;

  before(async () => {
    analyzer = await startAnalyzer();
  });

  after(() => {
    analyzer?.client.close();
    analyzer?.child.kill();
  });

  const provider = resource("pulumi:providers:kubernetes", "eks", { namespace: "default" });
  const bucket = resource("aws:s3/bucket:Bucket", "reports", { bucket: unknownStringValue });
  const resources: OfflineResource[] = [
    provider,
    deployment("engine", (s) => (securityContextOf(mainContainer(s)).runAsNonRoot = false), 3),
    deployment("api", (s) => {
      mainContainer(s).image = unknownStringValue;
      (s.initContainers as Props[])[0].image = "busybox";
    }),
    { ...deployment("worker"), provider: `${provider.urn}::id` },
    resource("kubernetes:core/v1:Service", "lb", { spec: { type: "LoadBalancer" } }),
    resource("aws:rds/instance:Instance", "orders", {
      storageEncrypted: true,
      backupRetentionPeriod: 3,
    }),
    bucket,
    resource(
      "aws:s3/bucketVersioning:BucketVersioning",
      "reports-v",
      {
        bucket: unknownStringValue,
        versioningConfiguration: { status: "Enabled" },
      },
      { propertyDependencies: { bucket: [bucket.urn] } },
    ),
  ];
  delete ((resources[3].props.metadata as Props) ?? {}).namespace;

  const configs: [string, PolicyPackConfig][] = [
    ["the defaults", {}],
    [
      "a production-like config",
      {
        all: "mandatory",
        "images-pinned": { requireDigest: true },
        "rds-instance-protected": { requireDeletionProtection: true },
        "containers-run-as-non-root": { enforcementLevel: "advisory", exemptResources: ["api"] },
        "namespaces-default-deny": "disabled",
      },
    ],
  ];

  for (const [label, config] of configs) {
    it(`reports the same findings under ${label}`, async () => {
      assert.ok(analyzer);
      const real = sorted(await analyzeLikeTheEngine(analyzer.client, resources, config));
      const offline = sorted(evaluatePolicies(resources, { config }));
      assert.ok(real.length > 10, `expected findings, got ${real.length}`);
      assert.deepEqual(offline, real);
    });
  }
});
