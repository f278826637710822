import {
  runProgram,
  type ProgramRun,
  type RegisteredResource,
  type RunOptions,
} from "../tools/offline/runProgram";

export type { ProgramRun, RegisteredResource };

const cache = new Map<string, Promise<ProgramRun>>();
let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs the program for a stack under the mock runtime. Runs without overrides are cached, so
 * every spec can ask for "staging" and the program is evaluated once per stack.
 */
export function runStack(stack: string, options: RunOptions = {}): Promise<ProgramRun> {
  const cacheable =
    options.overrides === undefined &&
    options.preview === undefined &&
    options.program === undefined;
  const key = stack;
  if (cacheable && cache.has(key)) return cache.get(key)!;
  // The SDK's runtime is global to the process, so runs take turns.
  const run = queue.then(() => runProgram(stack, options));
  queue = run.catch(() => undefined);
  if (cacheable) cache.set(key, run);
  return run;
}

/** Every resource of a Pulumi type token, such as `kubernetes:apps/v1:Deployment`. */
export function resourcesOfType(run: ProgramRun, type: string): RegisteredResource[] {
  return run.resources.filter((r) => r.type === type);
}

/** The one resource with this type and logical name; fails the test if it is not there. */
export function resource(run: ProgramRun, type: string, name: string): RegisteredResource {
  const found = run.resources.find((r) => r.type === type && r.name === name);
  if (!found) {
    const names = resourcesOfType(run, type).map((r) => r.name);
    throw new Error(
      `No ${type} named ${name} in stack ${run.stack}; there are: ${names.join(", ") || "none"}`,
    );
  }
  return found;
}

/** Kubernetes resources, found by their object name and kind instead of the Pulumi name. */
export function kubernetesObject(run: ProgramRun, kind: string, name: string): RegisteredResource {
  const found = run.resources.find(
    (r) =>
      r.type.startsWith("kubernetes:") &&
      r.type.endsWith(`:${kind}`) &&
      (r.inputs.metadata as { name?: string } | undefined)?.name === name,
  );
  if (!found) throw new Error(`No Kubernetes ${kind} named ${name} in stack ${run.stack}`);
  return found;
}

/** Runs a stack with settings laid over its file and returns the error it fails with. */
export async function settingsErrorFor(
  stack: string,
  overrides: Record<string, unknown>,
): Promise<Error> {
  const strings = Object.fromEntries(
    Object.entries(overrides).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  try {
    await runStack(stack, { overrides: strings });
  } catch (error) {
    return error as Error;
  }
  throw new Error(
    `Stack ${stack} accepted ${JSON.stringify(overrides)}; expected a settings error`,
  );
}
