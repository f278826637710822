import { strict as assert } from "node:assert";
import { parseSettings, SettingsError, type Settings } from "../settings";
import { existingClusterProgram, failureOf } from "./dataStoreRuns";
import { runStack } from "./harness";

// Settings of the data stores and their backups, read straight through parseSettings (fast)
// and, for what only the components can know, through a run.

const acme = { "bot3:tls": JSON.stringify({ acmeEmail: "platform@example.com" }) };

function settingsOf(environment: string, values: Record<string, unknown> = {}): Settings {
  const raw: Record<string, string> = { "bot3:environment": environment, ...acme };
  for (const [key, value] of Object.entries(values)) raw[key] = JSON.stringify(value);
  return parseSettings(raw);
}

function problemsOf(environment: string, values: Record<string, unknown>): string[] {
  try {
    settingsOf(environment, values);
  } catch (error) {
    if (error instanceof SettingsError) return error.problems;
    throw error;
  }
  throw new Error(`${environment} accepted ${JSON.stringify(values)}; expected a settings error`);
}

describe("Data store settings", () => {
  describe("defaults", () => {
    it("keeps local and staging in the cluster, and production on RDS and ElastiCache", () => {
      const modes = (environment: string) => {
        const s = settingsOf(environment);
        return [s.database.mode, s.cache.mode];
      };
      assert.deepEqual(modes("local"), ["in-cluster", "in-cluster"]);
      assert.deepEqual(modes("staging"), ["in-cluster", "in-cluster"]);
      assert.deepEqual(modes("production"), ["managed", "managed"]);
    });

    it("keeps backups 30 days and database backups 30 days in production", () => {
      const production = settingsOf("production");
      assert.equal(production.database.backupRetentionDays, 30);
      assert.equal(production.backup.retentionDays, 30);
      assert.equal(settingsOf("staging").database.backupRetentionDays, 7);
    });

    it("backs up to a volume on local and to S3 elsewhere", () => {
      assert.equal(settingsOf("local").backup.destination, "volume");
      assert.equal(settingsOf("staging").backup.destination, "s3");
    });

    it("pins a full Redis image version in the cluster and an ElastiCache version when managed", () => {
      assert.equal(settingsOf("staging").cache.version, "7.2.7");
      assert.equal(settingsOf("production").cache.version, "7.1");
    });
  });

  describe("bad values", () => {
    it("refuses a database backup retention below 7 days", () => {
      assert.deepEqual(problemsOf("staging", { "bot3:database": { backupRetentionDays: 3 } }), [
        "bot3:database.backupRetentionDays = 3: must be at least 7 days",
      ]);
    });

    it("refuses a backup retention below 7 days", () => {
      assert.deepEqual(problemsOf("staging", { "bot3:backup": { retentionDays: 1 } }), [
        "bot3:backup.retentionDays = 1: must be at least 7 days",
      ]);
    });

    it("refuses an unknown mode and names the valid ones", () => {
      const [problem] = problemsOf("staging", { "bot3:cache": { mode: "cloud" } });
      assert.match(problem, /^bot3:cache\.mode = "cloud": .*"managed".*"in-cluster"/);
    });

    it("refuses managed stores on local, where the cluster is an existing one", () => {
      assert.deepEqual(problemsOf("local", { "bot3:database": { mode: "managed" } }), [
        'bot3:database.mode = "managed" needs AWS, but bot3:cluster.kind is "existing"; ' +
          'use "in-cluster"',
      ]);
    });

    it("refuses managed stores on local even when it builds an EKS cluster", () => {
      const problems = problemsOf("local", {
        "bot3:cluster": { kind: "eks" },
        "bot3:cache": { mode: "managed", version: "7.1" },
      });
      assert.deepEqual(problems, [
        'bot3:cache.mode = "managed" is not allowed when bot3:environment is local; ' +
          'use "in-cluster"',
      ]);
    });

    it("refuses a patch version for ElastiCache and a floating one for the image", () => {
      assert.deepEqual(problemsOf("production", { "bot3:cache": { version: "7.1.2" } }), [
        'bot3:cache.version = "7.1.2": ElastiCache takes a major.minor Redis OSS version ' +
          'when bot3:cache.mode is "managed"; set one it offers, such as "7.1"',
      ]);
      assert.deepEqual(problemsOf("staging", { "bot3:cache": { version: "7.2" } }), [
        'bot3:cache.version = "7.2" would let the in-cluster image drift between patch ' +
          'releases; set a full version such as "7.2.7" when bot3:cache.mode is "in-cluster"',
      ]);
    });

    it("refuses S3 backups on an existing cluster, which has no IRSA", () => {
      assert.deepEqual(problemsOf("local", { "bot3:backup": { destination: "s3" } }), [
        'bot3:backup.destination = "s3" needs an IRSA role on EKS, but bot3:cluster.kind is ' +
          '"existing"; use "volume" or set bot3:backup.enabled to false',
      ]);
    });

    it("refuses a cluster name too long for the ElastiCache group id", () => {
      const name = "bot3-production-eu-west-1-blue-green";
      const problems = problemsOf("production", { "bot3:cluster": { name } });
      assert.deepEqual(problems, [
        `bot3:cluster.name = "${name}" is too long for the ElastiCache replication group id ` +
          `"${name}-redis" (at most 40 characters); shorten bot3:cluster.name to 34 characters`,
      ]);
    });
  });

  describe("on a cluster without an AWS network", () => {
    it("fails before any resource when a store is managed", async () => {
      const error = await failureOf(
        runStack("production", { program: existingClusterProgram, overrides: {} }),
      );
      assert.equal(
        error.message,
        'bot3:database.mode = "managed" needs the cluster\'s VPC, private subnets and node ' +
          "security group, but the cluster component provides no AWS network " +
          '(only the EKS cluster of bot3:cluster.kind = "eks" does); build the cluster with ' +
          'the EKS cluster component, or set bot3:database.mode to "in-cluster"',
      );
    });

    it("fails before any resource when backups go to S3", async () => {
      const error = await failureOf(
        runStack("staging", { program: existingClusterProgram, overrides: {} }),
      );
      assert.match(error.message, /^bot3:backup\.destination = "s3" needs an IRSA role/);
      assert.match(error.message, /set bot3:backup\.destination to "volume"$/);
    });
  });
});
