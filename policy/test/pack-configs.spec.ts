import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import type { PolicyPackConfig } from "@pulumi/policy";
import { policies } from "../policies";
import { reconcilePolicyConfig } from "../policies/pack-config";

const packRoot = path.resolve(__dirname, "..");
const readConfig = (stack: string) =>
  JSON.parse(
    fs.readFileSync(path.join(packRoot, `config.${stack}.json`), "utf8"),
  ) as PolicyPackConfig;

describe("per-stack pack configs", () => {
  for (const stack of ["local", "staging", "production"]) {
    it(`config.${stack}.json names only real policies and passes their schemas`, () => {
      const config = readConfig(stack);
      const names = new Set(["all", ...policies.map((policy) => policy.name)]);
      assert.deepEqual(
        Object.keys(config).filter((key) => !names.has(key)),
        [],
      );
      assert.doesNotThrow(() => reconcilePolicyConfig(policies, "advisory", config));
    });
  }

  it("production requires digests and RDS deletion protection, all mandatory", () => {
    const reconciled = reconcilePolicyConfig(policies, "advisory", readConfig("production"));
    assert.equal(reconciled.get("images-pinned")?.properties.requireDigest, true);
    assert.equal(
      reconciled.get("rds-instance-protected")?.properties.requireDeletionProtection,
      true,
    );
    assert.ok([...reconciled.values()].every((policy) => policy.enforcementLevel === "mandatory"));
  });

  it("every policy has a kebab-case name, a one-sentence description and a default level", () => {
    for (const policy of policies) {
      assert.match(policy.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      assert.match(policy.description, /^[A-Z][^]*\.$/);
      assert.ok(!/\. [A-Z]/.test(policy.description), `${policy.name}: one sentence`);
      assert.ok(policy.enforcementLevel, `${policy.name} has a default level`);
    }
    assert.equal(new Set(policies.map((p) => p.name)).size, policies.length);
  });
});

describe("README", () => {
  it("documents every policy in its table", () => {
    const readme = fs.readFileSync(path.join(packRoot, "README.md"), "utf8");
    const documented = (name: string) => new RegExp(`^\\| \`${name}\` +\\|`, "m").test(readme);
    assert.deepEqual(
      policies.map((policy) => policy.name).filter((name) => !documented(name)),
      [],
    );
  });
});
