import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import { MockMonitor, type MockResourceArgs } from "@pulumi/pulumi/runtime/mocks";
import * as settingsRuntime from "@pulumi/pulumi/runtime/settings";
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { parse } from "yaml";
import { repositoryRoot } from "../tools/offline/stackConfig";

// The bootstrap is its own Pulumi project (bootstrap/Pulumi.yaml), so it runs here under the
// SDK's mock runtime with its own project name and stack file, not through runProgram, which
// reads the platform's stack files.

// require, not import(): the program is CommonJS TypeScript loaded through ts-node.
const loadModule = createRequire(__filename);
const bootstrapDir = path.join(repositoryRoot, "bootstrap");
const project = "bot3-state";

interface BootstrapResource {
  type: string;
  name: string;
  protect: boolean;
  dependencies: string[];
  inputs: Record<string, unknown>;
}

interface BootstrapRun {
  resources: BootstrapResource[];
  outputs: Record<string, unknown>;
}

class ProtectionRecordingMonitor extends MockMonitor {
  readonly protectedUrns = new Map<string, { protect: boolean; dependencies: string[] }>();

  async registerResource(
    req: RegisterResourceRequest,
    callback: Parameters<MockMonitor["registerResource"]>[1],
  ): Promise<void> {
    this.protectedUrns.set(`${req.getType()}::${req.getName()}`, {
      protect: req.getProtect() === true,
      dependencies: req.getDependenciesList(),
    });
    return super.registerResource(req, callback);
  }
}

function mockState(args: MockResourceArgs): Record<string, unknown> {
  const inputs = args.inputs as Record<string, unknown>;
  if (args.type === "aws:s3/bucket:Bucket") {
    return { ...inputs, arn: `arn:aws:s3:::${String(inputs.bucket)}` };
  }
  if (args.type === "aws:kms/key:Key") {
    return { ...inputs, arn: "arn:aws:kms:eu-west-1:123456789012:key/k-1", keyId: "k-1" };
  }
  return inputs;
}

/** The stack file's config, with `overrides` laid over it, as `namespace:key` strings. */
function stackConfig(overrides: Record<string, string>): Record<string, string> {
  const file = path.join(bootstrapDir, "Pulumi.shared.yaml");
  const values = (parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> })
    .config;
  const strings = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
  return { ...strings, ...overrides };
}

async function runBootstrap(overrides: Record<string, string> = {}): Promise<BootstrapRun> {
  const inputsByKey = new Map<string, Record<string, unknown>>();
  const monitor = new ProtectionRecordingMonitor({
    newResource: (args) => {
      inputsByKey.set(`${args.type}::${args.name}`, args.inputs as Record<string, unknown>);
      return Promise.resolve({ id: `${args.name}-id`, state: mockState(args) });
    },
    call: () => Promise.reject(new Error("the bootstrap calls no provider functions")),
  });
  pulumi.runtime.setAllConfig(stackConfig(overrides), []);
  await pulumi.runtime.setMocks(monitor.mocks, project, "shared", false);
  settingsRuntime.setMockOptions(monitor, project, "shared", false);

  const entry = path.join(bootstrapDir, "index.ts");
  delete require.cache[require.resolve(entry)];
  const exported = loadModule(entry) as Record<string, pulumi.Output<unknown>>;
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(exported)) {
    outputs[key] = await new Promise((done) => value.apply(done));
  }
  // Same escape hatch as tools/offline/runProgram.ts: wait for every registration.
  const { waitForRPCs } = settingsRuntime as unknown as { waitForRPCs(this: void): Promise<void> };
  await waitForRPCs();

  const resources = [...monitor.protectedUrns].map(([key, recorded]) => {
    const [type, name] = key.split("::");
    return { type, name, ...recorded, inputs: inputsByKey.get(key) ?? {} };
  });
  return { resources, outputs };
}

function only(run: BootstrapRun, type: string): BootstrapResource {
  const found = run.resources.filter((r) => r.type === type);
  assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
  return found[0];
}

async function bootstrapError(overrides: Record<string, string>): Promise<Error> {
  try {
    await runBootstrap(overrides);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`the bootstrap accepted ${JSON.stringify(overrides)}`);
}

describe("State bootstrap", function () {
  let run: BootstrapRun;
  before(async function () {
    run = await runBootstrap();
  });

  const bucketId = "bot3-state-id";

  it("creates the state bucket with the configured name, never force-destroyed", function () {
    const bucket = only(run, "aws:s3/bucket:Bucket");
    assert.equal(bucket.inputs.bucket, "bot3-pulumi-state-123456789012");
    assert.equal(bucket.inputs.forceDestroy, false);
  });

  it("protects the bucket and the key against deletion", function () {
    assert.equal(only(run, "aws:s3/bucket:Bucket").protect, true);
    assert.equal(only(run, "aws:kms/key:Key").protect, true);
  });

  it("keeps every version of the state, and expires old versions after 90 days", function () {
    const versioning = only(run, "aws:s3/bucketVersioning:BucketVersioning");
    assert.equal(versioning.inputs.bucket, bucketId);
    assert.deepEqual(versioning.inputs.versioningConfiguration, { status: "Enabled" });
    const lifecycle = only(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
    const [rule] = lifecycle.inputs.rules as Record<string, unknown>[];
    assert.deepEqual(rule.noncurrentVersionExpiration, { noncurrentDays: 90 });
    assert.equal(rule.expiration, undefined, "current state must never expire");
    assert.ok(
      lifecycle.dependencies.some((urn) => urn.endsWith("BucketVersioning::bot3-state")),
      "the lifecycle rules must wait for versioning",
    );
  });

  it("encrypts objects with the KMS key by default", function () {
    const encryption = only(
      run,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    );
    assert.deepEqual(encryption.inputs.rules, [
      {
        applyServerSideEncryptionByDefault: {
          sseAlgorithm: "aws:kms",
          kmsMasterKeyId: "arn:aws:kms:eu-west-1:123456789012:key/k-1",
        },
        bucketKeyEnabled: true,
      },
    ]);
  });

  it("blocks every kind of public access and disables ACLs", function () {
    const block = only(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    for (const flag of [
      "blockPublicAcls",
      "blockPublicPolicy",
      "ignorePublicAcls",
      "restrictPublicBuckets",
    ]) {
      assert.equal(block.inputs[flag], true, flag);
    }
    const ownership = only(run, "aws:s3/bucketOwnershipControls:BucketOwnershipControls");
    assert.deepEqual(ownership.inputs.rule, { objectOwnership: "BucketOwnerEnforced" });
  });

  it("refuses any request without TLS 1.2 or newer, to the bucket and its objects", function () {
    const policy = JSON.parse(
      only(run, "aws:s3/bucketPolicy:BucketPolicy").inputs.policy as string,
    ) as { Statement: Record<string, unknown>[] };
    const resources = [
      "arn:aws:s3:::bot3-pulumi-state-123456789012",
      "arn:aws:s3:::bot3-pulumi-state-123456789012/*",
    ];
    assert.deepEqual(
      policy.Statement.map((s) => [s.Effect, s.Principal, s.Action, s.Resource, s.Condition]),
      [
        ["Deny", "*", "s3:*", resources, { Bool: { "aws:SecureTransport": "false" } }],
        ["Deny", "*", "s3:*", resources, { NumericLessThan: { "s3:TlsVersion": "1.2" } }],
      ],
    );
  });

  it("rotates the secrets key yearly and names it with an alias", function () {
    const key = only(run, "aws:kms/key:Key");
    assert.equal(key.inputs.enableKeyRotation, true);
    assert.equal(key.inputs.deletionWindowInDays, 30);
    const alias = only(run, "aws:kms/alias:Alias");
    assert.deepEqual([alias.inputs.name, alias.inputs.targetKeyId], ["alias/bot3-pulumi", "k-1"]);
  });

  it("exports the login URL and secrets provider that docs/state.md tells people to use", function () {
    assert.deepEqual(run.outputs, {
      stateBucket: "bot3-pulumi-state-123456789012",
      secretsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k-1",
      backendUrl: "s3://bot3-pulumi-state-123456789012?region=eu-west-1&awssdk=v2",
      secretsProvider: "awskms://alias/bot3-pulumi?region=eu-west-1",
    });
    const guide = fs.readFileSync(path.join(repositoryRoot, "docs", "state.md"), "utf8");
    assert.ok(guide.includes("pulumi login 's3://<state-bucket>?region=<region>&awssdk=v2'"));
    assert.ok(guide.includes("--secrets-provider 'awskms://alias/bot3-pulumi?region=<region>'"));
  });

  it("refuses an invalid bucket name, naming the setting", async function () {
    const error = await bootstrapError({ "bot3-state:bucketName": "Bot3_State" });
    assert.match(error.message, /bot3-state:bucketName "Bot3_State" is not a valid S3 bucket name/);
  });

  it("refuses an alias given with its prefix, and a version retention under 7 days", async function () {
    const error = await bootstrapError({
      "bot3-state:keyAlias": "alias/bot3",
      "bot3-state:noncurrentVersionDays": "3",
    });
    assert.match(error.message, /bot3-state:keyAlias "alias\/bot3" must be a bare alias name/);
    assert.match(error.message, /bot3-state:noncurrentVersionDays is 3; keep older state/);
  });

  it("names the missing setting when the stack has no bucket name", function () {
    const values = stackConfig({});
    delete values["bot3-state:bucketName"];
    const error = (() => {
      pulumi.runtime.setAllConfig(values, []);
      const entry = path.join(bootstrapDir, "index.ts");
      delete require.cache[require.resolve(entry)];
      try {
        loadModule(entry);
      } catch (caught) {
        return caught as Error;
      }
      throw new Error("the bootstrap ran without a bucket name");
    })();
    assert.match(error.message, /bot3-state:bucketName/);
  });
});
