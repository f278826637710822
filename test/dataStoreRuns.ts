import * as path from "path";
import type * as k8s from "@pulumi/kubernetes";
import { runStack, type ProgramRun, type RegisteredResource } from "./harness";

// Runs of the data stores for the data-store specs. index.ts still builds ExistingCluster for
// every stack, so the EKS-only paths (RDS, ElastiCache, S3 backups) run through a test program
// on a stand-in cluster; see test/programs/dataStoresOnEks.ts.

export const eksProgram = path.join(__dirname, "programs", "dataStoresOnEks.ts");
export const existingClusterProgram = path.join(
  __dirname,
  "programs",
  "dataStoresOnExistingCluster.ts",
);

const eksRuns = new Map<string, Promise<ProgramRun>>();

/** The data stores of a stack on the stand-in EKS cluster; cached when there are no overrides. */
export function runOnEks(stack: string, overrides?: Record<string, unknown>): Promise<ProgramRun> {
  const strings = Object.fromEntries(
    Object.entries(overrides ?? {}).map(([k, v]) => [
      k,
      typeof v === "string" ? v : JSON.stringify(v),
    ]),
  );
  // An (empty) overrides object keeps the harness from caching this run under the stack name.
  if (overrides !== undefined) return runStack(stack, { program: eksProgram, overrides: strings });
  let run = eksRuns.get(stack);
  if (run === undefined) {
    run = runStack(stack, { program: eksProgram, overrides: {} });
    eksRuns.set(stack, run);
  }
  return run;
}

/** The error a run fails with; fails the test when the run succeeds. */
export async function failureOf(run: Promise<ProgramRun>): Promise<Error> {
  try {
    await run;
  } catch (error) {
    return error as Error;
  }
  throw new Error("The run succeeded; expected it to fail");
}

export type PodSpec = k8s.types.output.core.v1.PodSpec;
export type Container = k8s.types.output.core.v1.Container;

/** The pod template's spec of a StatefulSet, Deployment or CronJob, as registered. */
export function podSpecOf(workload: RegisteredResource): PodSpec {
  const spec = workload.inputs.spec as {
    template?: { spec: PodSpec };
    jobTemplate?: { spec: { template: { spec: PodSpec } } };
  };
  const template = spec.template ?? spec.jobTemplate?.spec.template;
  if (template === undefined) throw new Error(`${workload.name} has no pod template`);
  return template.spec;
}

/** Every container of a pod, init containers included. */
export function allContainers(pod: PodSpec): Container[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

/** A container by name; fails the test if it is not there. */
export function containerNamed(pod: PodSpec, name: string): Container {
  const found = allContainers(pod).find((c) => c.name === name);
  if (found === undefined) throw new Error(`The pod has no container named ${name}`);
  return found;
}
