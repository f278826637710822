import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { ProgramRun } from "./runProgram";
import { repositoryRoot } from "./stackConfig";

/** A policy violation, as the pack's offline evaluator reports it. */
export interface Violation {
  policyName: string;
  enforcementLevel: "advisory" | "mandatory" | "remediate" | "disabled";
  message: string;
  urn: string;
  resourceName: string;
}

const policyDirectory = path.join(repositoryRoot, "policy");

/** The pack configuration a stack is previewed with, `policy/config.<stack>.json`. */
export function policyConfigFor(stack: string): unknown {
  const file = path.join(policyDirectory, `config.${stack}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as unknown) : undefined;
}

/**
 * Runs the policy pack over every resource of a program run, with the stack's pack
 * configuration, as `pulumi preview --policy-pack policy` would. The pack runs in a child
 * process inside `policy/`, as the CLI runs it: it is a package of its own, with its own copy
 * of the Pulumi SDK, which stays out of the process whose SDK runtime holds the mocks.
 */
export function checkPolicies(run: ProgramRun): Violation[] {
  const request = {
    config: policyConfigFor(run.stack),
    resources: run.resources.map((r) => ({
      type: r.type,
      name: r.name,
      urn: r.urn,
      props: r.inputs,
      parent: r.parent,
      provider: r.provider,
      dependencies: r.dependencies,
      propertyDependencies: r.propertyDependencies,
      protect: r.protect,
    })),
  };
  const result = spawnSync(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", "evaluate-offline.ts"],
    { cwd: policyDirectory, input: JSON.stringify(request), encoding: "utf8", timeout: 120_000 },
  );
  if (result.status !== 0) {
    throw new Error(
      `The policy pack could not run (exit ${String(result.status)}); did \`npm --prefix policy ci\` run?\n` +
        (result.stderr || String(result.error)),
    );
  }
  return JSON.parse(result.stdout) as Violation[];
}

/** One line per violation: level, policy, resource and the message. */
export function describeViolation(v: Violation): string {
  return `[${v.enforcementLevel}] ${v.policyName} on ${v.resourceName}: ${v.message.replace(/\n/g, " ")}`;
}
