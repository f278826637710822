import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import type { z } from "zod";
import { structuredSettings } from "../settings";
import * as schema from "../settings/schema";
import { repositoryRoot } from "../tools/offline/stackConfig";
import { runStack } from "./harness";

const readme = fs.readFileSync(path.join(repositoryRoot, "README.md"), "utf8");

/** The settings table's first column: every key it documents. */
function documentedKeys(): Set<string> {
  const section = readme.slice(
    readme.indexOf("## Settings"),
    readme.indexOf("## How it is tested"),
  );
  const keys = new Set<string>();
  for (const row of section.split("\n").filter((line) => line.startsWith("| `bot3:"))) {
    for (const match of row.split("|")[1].matchAll(/`(bot3:[^`]+)`/g)) keys.add(match[1]);
  }
  return keys;
}

/** Leaf fields of a settings schema, as dotted paths; records count as one leaf. */
function leafPaths(type: z.ZodType, prefix: string): string[] {
  const def = type.def as {
    type: string;
    innerType?: z.ZodType;
    shape?: Record<string, z.ZodType>;
  };
  if (def.innerType) return leafPaths(def.innerType, prefix);
  if (def.type === "object") {
    const shape = (type as z.ZodObject).shape as Record<string, z.ZodType>;
    return Object.entries(shape).flatMap(([k, v]) => leafPaths(v, `${prefix}.${k}`));
  }
  return [prefix];
}

describe("README", () => {
  it("documents every setting in its table", () => {
    const expected = [
      "bot3:environment",
      "bot3:dataProtection",
      ...Object.entries(structuredSettings as Record<string, z.ZodType>).flatMap(([key, s]) =>
        leafPaths(s, `bot3:${key}`),
      ),
      ...Object.keys(schema.exchangeCredentialSchema.shape).map(
        (field) => `bot3:exchangeCredentials.<exchange>.${field}`,
      ),
      "bot3:alertWebhookUrls.<receiver>",
    ];
    const documented = documentedKeys();
    const missing = expected.filter((key) => !documented.has(key));
    expect(missing, "settings missing from the README's table").to.deep.equal([]);
    const stale = [...documented].filter((key) => !expected.includes(key));
    expect(stale, "README documents settings that do not exist").to.deep.equal([]);
  });

  it("lists every stack output, on the stacks that export it, and which are secret", async () => {
    const section = readme.slice(readme.indexOf("### Stack outputs"), readme.indexOf("### Check"));
    const rows = section.split("\n").filter((line) => line.startsWith("| `"));
    const documented = new Map<string, string>();
    for (const row of rows) {
      const [, names, stacks] = row.split("|");
      for (const match of names.matchAll(/`(\w+)`/g)) documented.set(match[1], stacks.trim());
    }
    for (const stack of ["local", "staging", "production"]) {
      const run = await runStack(stack);
      const exported = Object.keys(run.outputs).filter((k) => run.outputs[k] !== undefined);
      const expected = [...documented]
        .filter(([, stacks]) => stacks.startsWith("all") || stacks.includes(stack))
        .map(([name]) => name);
      expect(exported.sort(), `outputs of ${stack}`).to.deep.equal(expected.sort());
      const secret = stack === "local" ? [] : ["kubeconfig"];
      expect(run.secretOutputs, `secret outputs of ${stack}`).to.deep.equal(secret);
    }
  });

  it("gives the set-up and test commands that CI runs", () => {
    expect(readme).to.include("npm ci\nnpm test");
    const ci = fs.readFileSync(path.join(repositoryRoot, ".ci", "run"), "utf8");
    expect(ci)
      .to.match(/^npm ci/m)
      .and.match(/^npm test$/m);
  });
});
