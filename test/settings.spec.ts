import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseSettings, SettingsError, settingKeys, type Settings } from "../settings";
import { applyOverrides, readStackConfig, repositoryRoot } from "../tools/offline/stackConfig";
import { settingsErrorFor } from "./harness";

/** Parses a stack's real settings with some fields changed, as `pulumi config set --path` would. */
function settingsOf(stack: string, overrides: Record<string, unknown> = {}): Settings {
  const config = readStackConfig(stack);
  const strings = Object.fromEntries(
    Object.entries(overrides).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  return parseSettings(applyOverrides(config.values, strings), config.secretKeys);
}

function problemsOf(stack: string, overrides: Record<string, unknown>): string[] {
  try {
    settingsOf(stack, overrides);
  } catch (error) {
    if (error instanceof SettingsError) return error.problems;
    throw error;
  }
  throw new Error(`stack ${stack} accepted ${JSON.stringify(overrides)}`);
}

describe("Settings", () => {
  describe("the committed stack files", () => {
    for (const stack of ["local", "staging", "production"]) {
      it(`${stack} is valid`, () => {
        expect(settingsOf(stack).environment).to.equal(stack);
      });
    }

    it("differ by settings, and the settings say what each stack is", () => {
      const local = settingsOf("local");
      const staging = settingsOf("staging");
      const production = settingsOf("production");
      expect(local.cluster.kind).to.equal("existing");
      expect(staging.cluster.kind).to.equal("eks");
      expect(production.database.mode).to.equal("managed");
      expect(staging.database.mode).to.equal("in-cluster");
      expect(production.network.natGateways).to.equal("perZone");
      expect(staging.network.natGateways).to.equal("single");
      expect(production.dataProtection).to.equal(true);
      expect(staging.dataProtection).to.equal(false);
      expect(local.tls.issuer).to.equal("self-signed");
    });
  });

  describe("defaults", () => {
    it("fill every unset field from the schema and the environment's profile", () => {
      const bare = parseSettings({
        "bot3:environment": "production",
        "bot3:tls": '{"acmeEmail":"a@b.io"}',
      });
      expect(bare.engine.minReplicas).to.equal(3);
      expect(bare.engine.maxReplicas).to.equal(10);
      expect(bare.database.mode).to.equal("managed");
      expect(bare.database.backupRetentionDays).to.equal(30);
      expect(bare.tls.issuer).to.equal("letsencrypt-production");
      expect(bare.dataProtection).to.equal(true);
    });

    it("let a stack file override a profile default field by field", () => {
      const s = settingsOf("production", { "bot3:database": { multiAz: false } });
      expect(s.database.multiAz).to.equal(false);
      expect(s.database.mode).to.equal("managed");
    });

    it("in Pulumi.yaml agree with the program's own defaults", () => {
      const project = parse(fs.readFileSync(path.join(repositoryRoot, "Pulumi.yaml"), "utf8")) as {
        config: Record<string, { default?: unknown; type: string; description: string }>;
      };
      const fromCode = parseSettings({ "bot3:tls": '{"acmeEmail":"platform@example.com"}' });
      for (const [key, declaration] of Object.entries(project.config)) {
        expect(settingKeys, `Pulumi.yaml declares ${key}`).to.include(key);
        expect(declaration.description, `${key} has a description`).to.be.a("string").and.not.empty;
        if (declaration.default !== undefined) {
          expect(fromCode[key as keyof Settings], `default of ${key}`).to.deep.equal(
            declaration.default,
          );
        }
      }
    });
  });

  describe("secrets", () => {
    it("come out as secret Outputs, never plain strings", async () => {
      const s = settingsOf("staging");
      const credential = s.exchangeCredentials["binance-testnet"];
      const pulumi = await import("@pulumi/pulumi");
      expect(await pulumi.isSecret(credential.apiKey)).to.equal(true);
      expect(await pulumi.isSecret(credential.apiSecret)).to.equal(true);
    });

    it("are never shown in an error message", () => {
      const problems = problemsOf("staging", {
        "bot3:exchangeCredentials": {
          "binance-testnet": { apiKey: "", apiSecret: "hunter2-very-secret" },
        },
      });
      expect(problems.join("\n")).to.not.include("hunter2");
      expect(problems.join("\n")).to.include(
        "bot3:exchangeCredentials.binance-testnet.apiKey = (secret)",
      );
    });
  });

  describe("rejects bad values with an error that names the key, the value and what is allowed", () => {
    const cases: [string, string, Record<string, unknown>, RegExp][] = [
      [
        "an unknown environment",
        "staging",
        { "bot3:environment": "prod" },
        /bot3:environment = "prod": Invalid option: expected one of "local"\|"staging"\|"production"/,
      ],
      [
        "a setting that does not exist",
        "staging",
        { "bot3:enigne": { minReplicas: 2 } },
        /bot3:enigne is not a setting; known settings: .*engine/,
      ],
      [
        "a misspelt field",
        "staging",
        { "bot3:engine": { minReplica: 2 } },
        /bot3:engine has unknown field\(s\) "minReplica"/,
      ],
      [
        "a structured setting given as a plain string",
        "staging",
        { "bot3:engine": "three" },
        /bot3:engine = "three": must be an object/,
      ],
      [
        "zero replicas",
        "staging",
        { "bot3:engine": { minReplicas: 0 } },
        /bot3:engine.minReplicas = 0: Too small: expected number to be >=1/,
      ],
      [
        "a fractional replica count",
        "staging",
        { "bot3:engine": { maxReplicas: 2.5 } },
        /bot3:engine.maxReplicas = 2.5: .*int/,
      ],
      [
        "a malformed CPU quantity",
        "staging",
        { "bot3:engine": { requests: { cpu: "half" } } },
        /bot3:engine.requests.cpu = "half": must be a CPU quantity such as 500m or 2/,
      ],
      [
        "an invalid host name",
        "staging",
        { "bot3:ingress": { host: "Bot3_Example" } },
        /bot3:ingress.host = "Bot3_Example": must be a lower-case DNS name/,
      ],
      [
        "an invalid CIDR",
        "staging",
        { "bot3:network": { vpcCidr: "10.0.0.0/33" } },
        /bot3:network.vpcCidr = "10.0.0.0\/33": must be an IPv4 CIDR block/,
      ],
      [
        "a CIDR with host bits set",
        "staging",
        { "bot3:cluster": { publicAccessCidrs: ["203.0.113.7/24"] } },
        /bot3:cluster.publicAccessCidrs.0 = "203.0.113.7\/24": must be an IPv4 CIDR block/,
      ],
      [
        "a malformed Kubernetes version",
        "staging",
        { "bot3:cluster": { kubernetesVersion: "v1.33.2" } },
        /bot3:cluster.kubernetesVersion = "v1.33.2": must be a Kubernetes minor version such as 1.33/,
      ],
      [
        "an unsupported log retention",
        "staging",
        { "bot3:cluster": { logRetentionDays: 10 } },
        /bot3:cluster.logRetentionDays = 10: must be a CloudWatch retention/,
      ],
      [
        "an unknown database mode",
        "staging",
        { "bot3:database": { mode: "cloud" } },
        /bot3:database.mode = "cloud": Invalid option: expected one of "managed"\|"in-cluster"/,
      ],
      [
        "a database backup retention below 7 days",
        "staging",
        { "bot3:database": { backupRetentionDays: 3 } },
        /bot3:database.backupRetentionDays = 3: must be at least 7 days/,
      ],
      [
        "a backup retention below 7 days",
        "staging",
        { "bot3:backup": { retentionDays: 1 } },
        /bot3:backup.retentionDays = 1: must be at least 7 days/,
      ],
      [
        "a malformed backup schedule",
        "staging",
        { "bot3:backup": { schedule: "hourly" } },
        /bot3:backup.schedule = "hourly": must be a five-field cron expression/,
      ],
      [
        "a malformed ACME e-mail",
        "staging",
        { "bot3:tls": { acmeEmail: "platform-at-example" } },
        /bot3:tls.acmeEmail = "platform-at-example": must be an e-mail address/,
      ],
      [
        "dataProtection that is not a boolean",
        "staging",
        { "bot3:dataProtection": "yes" },
        /bot3:dataProtection = "yes": must be true or false/,
      ],
      [
        "an unknown instance type format",
        "staging",
        { "bot3:nodeGroups": { system: { instanceTypes: ["large"] } } },
        /bot3:nodeGroups.system.instanceTypes.0 = "large": must be an EC2 instance type/,
      ],
    ];
    for (const [what, stack, overrides, expected] of cases) {
      it(what, () => {
        const problems = problemsOf(stack, overrides);
        expect(problems.join("\n")).to.match(expected);
      });
    }
  });

  describe("rejects what a reviewer found accepted before", () => {
    const cases: [string, string, Record<string, unknown>, RegExp][] = [
      [
        "a system namespace for the engine",
        "staging",
        { "bot3:engine": { namespace: "kube-system" } },
        /bot3:engine.namespace = "kube-system": must be a namespace of Bot3's own/,
      ],
      [
        "a chart's namespace for the engine",
        "staging",
        { "bot3:engine": { namespace: "cert-manager" } },
        /bot3:engine.namespace = "cert-manager": must be a namespace of Bot3's own/,
      ],
      [
        "an image tag with spaces",
        "staging",
        { "bot3:image": { tag: "bad tag!" } },
        /bot3:image.tag = "bad tag!": must be a Docker tag/,
      ],
      [
        "the image tag latest",
        "staging",
        { "bot3:image": { tag: "latest" } },
        /bot3:image.tag = "latest": must not be latest/,
      ],
      [
        "a backup image that is not an image",
        "staging",
        { "bot3:backup": { dumpImage: "not an image" } },
        /bot3:backup.dumpImage = "not an image": is not an image reference/,
      ],
      [
        "an upper-case upload image",
        "staging",
        { "bot3:backup": { uploadImage: "Amazon/AWS-CLI:2" } },
        /bot3:backup.uploadImage = "Amazon\/AWS-CLI:2": is not an image reference/,
      ],
      [
        "a runbook link that is not https",
        "staging",
        { "bot3:monitoring": { runbookUrl: "javascript:alert(1)" } },
        /bot3:monitoring.runbookUrl = "javascript:alert\(1\)": must be an https:\/\/ URL/,
      ],
      [
        "a schedule out of range",
        "staging",
        { "bot3:backup": { schedule: "99 99 99 99 99" } },
        /bot3:backup.schedule = "99 99 99 99 99": must be a five-field cron expression in numbers/,
      ],
      [
        "a schedule with day names",
        "staging",
        { "bot3:backup": { schedule: "0 3 * * MON" } },
        /bot3:backup.schedule = "0 3 \* \* MON": must be a five-field cron expression in numbers/,
      ],
      [
        "a webhook URL that is not https",
        "staging",
        {
          "bot3:monitoring": { receivers: ["oncall"] },
          "bot3:alertWebhookUrls": { oncall: "file:///etc/passwd" },
        },
        /bot3:alertWebhookUrls.oncall = \(secret\): must be an https:\/\/ URL/,
      ],
      [
        "Grafana on the engine's host",
        "staging",
        { "bot3:ingress": { grafanaHost: "bot3.staging.example.com" } },
        /bot3:ingress.grafanaHost equals bot3:ingress.host/,
      ],
      [
        "no load balancer outside local",
        "production",
        { "bot3:ingress": { loadBalancer: "none" } },
        /bot3:ingress.loadBalancer = "none" leaves the ingress controller on a NodePort/,
      ],
      [
        "production without data protection",
        "production",
        { "bot3:dataProtection": "false" },
        /bot3:dataProtection is false, but bot3:environment is production/,
      ],
      [
        "production RDS backups kept a week",
        "production",
        { "bot3:database": { backupRetentionDays: 7 } },
        /bot3:database.backupRetentionDays is 7, below the 14 days production keeps/,
      ],
      [
        "a quota that cannot hold the engine",
        "staging",
        { "bot3:engine": { quota: { cpu: "1", memory: "1Gi" } } },
        /bot3:engine.quota.cpu \(1\) cannot hold bot3:engine.maxReplicas \(4\) pods of bot3:engine.limits.cpu \(1\)/,
      ],
      [
        "fewer quota pods than replicas",
        "staging",
        { "bot3:engine": { quota: { pods: 1 } } },
        /bot3:engine.quota.pods \(1\) is below bot3:engine.maxReplicas \(4\)/,
      ],
    ];
    for (const [what, stack, overrides, expected] of cases) {
      it(`refuses ${what}`, () => {
        expect(problemsOf(stack, overrides).join("\n")).to.match(expected);
      });
    }

    it("accepts whole CPUs stored as numbers, as `pulumi config set --path ... 2` stores them", () => {
      const s = settingsOf("staging", {
        "bot3:engine": { limits: { cpu: 2 }, requests: { cpu: 1 } },
      });
      expect([s.engine.requests.cpu, s.engine.limits.cpu]).to.deep.equal(["1", "2"]);
    });

    it("accepts numeric schedules with ranges, lists and steps", () => {
      for (const schedule of ["0 3 * * 1-5", "*/15 * * * *", "0 0,12 1 */2 0"]) {
        expect(settingsOf("staging", { "bot3:backup": { schedule } }).backup.schedule).to.equal(
          schedule,
        );
      }
    });
  });

  describe("cross-field rules", () => {
    const cases: [string, string, Record<string, unknown>, RegExp][] = [
      [
        "minimum replicas above maximum",
        "staging",
        { "bot3:engine": { minReplicas: 5, maxReplicas: 2 } },
        /bot3:engine.minReplicas \(5\) is above bot3:engine.maxReplicas \(2\)/,
      ],
      [
        "limits below requests",
        "staging",
        { "bot3:engine": { requests: { memory: "2Gi" }, limits: { memory: "1Gi" } } },
        /bot3:engine.limits.memory \(1Gi\) is below bot3:engine.requests.memory \(2Gi\)/,
      ],
      [
        "guaranteed QoS with fractional CPUs",
        "staging",
        { "bot3:engine": { guaranteedQos: true, limits: { cpu: "1500m" } } },
        /bot3:engine.guaranteedQos needs whole CPUs/,
      ],
      [
        "the same port for HTTP and metrics",
        "staging",
        { "bot3:engine": { metricsPort: 8080 } },
        /bot3:engine.httpPort and bot3:engine.metricsPort must be different/,
      ],
      [
        "a self-signed issuer in production",
        "production",
        { "bot3:tls": { issuer: "self-signed" } },
        /bot3:tls.issuer = "self-signed" is not allowed when bot3:environment is production/,
      ],
      [
        "an ACME issuer without an e-mail",
        "staging",
        { "bot3:tls": { acmeEmail: "" } },
        /bot3:tls.issuer = "letsencrypt-staging" needs bot3:tls.acmeEmail/,
      ],
      [
        "a managed database on the local stack",
        "local",
        { "bot3:database": { mode: "managed" } },
        /bot3:database.mode = "managed" needs AWS, but bot3:cluster.kind is "existing"/,
      ],
      [
        "a managed cache on the local stack",
        "local",
        { "bot3:cache": { mode: "managed" } },
        /bot3:cache.mode = "managed" needs AWS/,
      ],
      [
        "an existing cluster in production",
        "production",
        { "bot3:cluster": { kind: "existing" } },
        /bot3:cluster.kind = "existing" is not allowed when bot3:environment is production/,
      ],
      [
        "a production API endpoint open to the world",
        "production",
        { "bot3:cluster": { publicAccessCidrs: ["0.0.0.0/0"] } },
        /bot3:cluster.publicAccessCidrs contains 0.0.0.0\/0/,
      ],
      [
        "a production API endpoint open to two halves of the world",
        "production",
        { "bot3:cluster": { publicAccessCidrs: ["0.0.0.0/1", "128.0.0.0/1"] } },
        /bot3:cluster.publicAccessCidrs contains 0.0.0.0\/1, 128.0.0.0\/1/,
      ],
      [
        "an exchange without credentials",
        "staging",
        { "bot3:engine": { exchanges: ["binance-testnet", "kraken"] } },
        /bot3:engine.exchanges lists kraken, but bot3:exchangeCredentials.kraken is not set/,
      ],
      [
        "credentials for an unknown exchange",
        "staging",
        { "bot3:exchangeCredentials": { kraken: { apiKey: "k", apiSecret: "s" } } },
        /bot3:exchangeCredentials.kraken is not an exchange in bot3:engine.exchanges/,
      ],
      [
        "a receiver without a webhook URL",
        "staging",
        { "bot3:monitoring": { receivers: ["oncall"] } },
        /bot3:monitoring.receivers lists oncall, but bot3:alertWebhookUrls.oncall is not set/,
      ],
      [
        "a node group sized outside its bounds",
        "staging",
        { "bot3:nodeGroups": { system: { minSize: 3, desiredSize: 2 } } },
        /bot3:nodeGroups.system sizes must satisfy minSize <= desiredSize <= maxSize/,
      ],
      [
        "a node group mixing architectures",
        "staging",
        { "bot3:nodeGroups": { engine: { instanceTypes: ["c7i.large", "c7g.large"] } } },
        /bot3:nodeGroups.engine.instanceTypes \["c7i.large","c7g.large"\] mixes arm64 and amd64/,
      ],
      [
        "burstable engine nodes in production",
        "production",
        { "bot3:nodeGroups": { engine: { instanceTypes: ["t3.xlarge"] } } },
        /bot3:nodeGroups.engine.instanceTypes has burstable types \["t3.xlarge"\]/,
      ],
      [
        "a single-node production cache",
        "production",
        { "bot3:cache": { nodes: 1 } },
        /bot3:cache.nodes must be at least 2 in production/,
      ],
      [
        "RDS autoscaling ceiling below its size",
        "production",
        { "bot3:database": { maxAllocatedStorageGb: 50 } },
        /bot3:database.maxAllocatedStorageGb is below bot3:database.allocatedStorageGb/,
      ],
    ];
    for (const [what, stack, overrides, expected] of cases) {
      it(`refuses ${what}`, () => {
        expect(problemsOf(stack, overrides).join("\n")).to.match(expected);
      });
    }

    it("reports every problem at once", () => {
      const problems = problemsOf("staging", {
        "bot3:engine": { minReplicas: 0 },
        "bot3:ingress": { host: "NOT A HOST" },
      });
      expect(problems).to.have.length(2);
    });
  });

  it("fail a run of the program with the settings error", async () => {
    const error = await settingsErrorFor("staging", {
      "bot3:engine": { minReplicas: 5, maxReplicas: 2 },
    });
    expect(error).to.be.instanceOf(SettingsError);
    expect(error.message)
      .to.include("bot3:engine.minReplicas")
      .and.include("bot3:engine.maxReplicas");
  });
});
