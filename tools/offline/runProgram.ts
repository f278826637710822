import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import * as settingsRuntime from "@pulumi/pulumi/runtime/settings";
import { createRequire } from "module";
import * as path from "path";
import { mockCall, mockResourceOutputs } from "./mockCloud";
import { applyOverrides, readStackConfig, repositoryRoot, type StackConfig } from "./stackConfig";

// The gRPC signatures that mark special values in serialized resource inputs.
const sigKey = "4dabf18193072939515e22adb298388d";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";
const resourceSig = "5cf8f73096256a8f31e491e813e4eb8e";
const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The marker that stands for a secret value in everything the offline tools write. */
export const secretMarker = "[secret]";

/** One resource as the program registered it. */
export interface RegisteredResource {
  type: string;
  name: string;
  urn: string;
  custom: boolean;
  /** URN of the parent resource, if any. */
  parent?: string;
  /** Provider reference (`urn::id`) for custom resources with an explicit provider. */
  provider?: string;
  /** Inputs with secrets unwrapped: for assertions only, never for printing. */
  inputs: Record<string, unknown>;
  /** Inputs with every secret replaced by `secretMarker`, and resources by their URN. */
  maskedInputs: Record<string, unknown>;
  /** Every plain value that was passed in a secret. */
  secretValues: string[];
  dependencies: string[];
  /** Input property to the URNs of the resources its value came from. */
  propertyDependencies: Record<string, string[]>;
  protect: boolean;
  retainOnDelete: boolean;
  ignoreChanges: string[];
  replaceOnChanges: string[];
  deleteBeforeReplace: boolean;
}

export interface ProgramRun {
  stack: string;
  config: StackConfig;
  resources: RegisteredResource[];
  /** The stack's exports, resolved; `secretOutputs` names those that are secret. */
  outputs: Record<string, unknown>;
  secretOutputs: string[];
}

export interface RunOptions {
  /**
   * Settings laid over the stack file, as `namespace:key` to the config string. An object
   * (JSON) is merged field by field into the stack file's object, so a test changes one field.
   */
  overrides?: Record<string, string>;
  /** Run as a preview, in which the engine leaves some outputs unknown. */
  preview?: boolean;
  /** The program's entry module; the repository's `index.ts` by default. */
  program?: string;
}

/**
 * Records every registration the mock monitor receives. The monitor unwraps secrets before
 * the mocks see them, so the raw request is read first to learn which inputs were secret.
 * The method is wrapped on the monitor that `setMocks` made, rather than on a subclass
 * installed afterwards, because installing a monitor resets the runtime's feature flags
 * (secrets among them) that `setMocks` turned on.
 */
function recordRegistrations(monitor: MockMonitor): RegisteredResource[] {
  const registered: RegisteredResource[] = [];
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: RegisterResourceRequest, callback) => {
    try {
      recordRequest(req, registered);
    } catch (error) {
      // Answering with the error fails the run; an exception here would leave it hanging.
      callback(error, undefined);
      return Promise.resolve();
    }
    return register(req, callback);
  };
  return registered;
}

function recordRequest(req: RegisterResourceRequest, registered: RegisteredResource[]): void {
  const type = req.getType();
  const name = req.getName();
  const raw = req.getObject()?.toJavaScript() ?? {};
  const secretValues: string[] = [];
  const protect = req.getProtect();
  const retainOnDelete = req.getRetainondelete();
  registered.push({
    type,
    name,
    urn: urnFor(req.getParent(), type, name),
    custom: req.getCustom(),
    parent: req.getParent() || undefined,
    provider: req.getProvider() || undefined,
    inputs: unwrap(raw, false, []) as Record<string, unknown>,
    maskedInputs: unwrap(raw, true, secretValues) as Record<string, unknown>,
    secretValues,
    dependencies: req.getDependenciesList(),
    propertyDependencies: propertyDependenciesOf(req),
    protect: protect === true,
    retainOnDelete: retainOnDelete === true,
    ignoreChanges: req.getIgnorechangesList(),
    replaceOnChanges: req.getReplaceonchangesList(),
    deleteBeforeReplace: req.getDeletebeforereplace(),
  });
}

/** Input property to the URNs it depends on, from a registration request. */
export function propertyDependenciesOf(req: RegisterResourceRequest): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((deps, property) => {
    result[property] = deps.getUrnsList();
  });
  return result;
}

// Mirrors the mock monitor's URN scheme, so recorded URNs match the ones children refer to.
function urnFor(parent: string, type: string, name: string): string {
  const qualifiedType = parent ? `${parent.split("::")[2].split("$").pop()}$${type}` : type;
  return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualifiedType}::${name}`;
}

function unwrap(value: unknown, mask: boolean, secrets: string[], inSecret = false): unknown {
  if (Array.isArray(value)) return value.map((v) => unwrap(v, mask, secrets, inSecret));
  if (value === unknownValue) return "[unknown]";
  if (typeof value !== "object" || value === null) {
    if (inSecret && typeof value === "string" && value !== "") secrets.push(value);
    return value;
  }
  const record = value as Record<string, unknown>;
  if (record[sigKey] === secretSig) {
    const inner = unwrap(record.value, mask, secrets, true);
    return mask ? secretMarker : inner;
  }
  if (record[sigKey] === resourceSig) return record.urn;
  return Object.fromEntries(
    Object.entries(record).map(([k, v]) => [k, unwrap(v, mask, secrets, inSecret)]),
  );
}

let running = false;

/**
 * Runs the program for one stack under the Pulumi SDK's mock runtime, with the real stack
 * file, and returns every resource it registered and the stack outputs. Runs are serialised:
 * the SDK's runtime state is global to the process.
 */
export async function runProgram(stack: string, options: RunOptions = {}): Promise<ProgramRun> {
  if (running) throw new Error("runProgram is already running; await the previous run first.");
  running = true;
  // An error thrown inside an apply surfaces only as an unhandled rejection, and the outputs
  // that depend on it never resolve: the first such rejection ends the run with that error.
  let onRejection: (reason: unknown) => void = () => undefined;
  const firstFailure = new Promise<never>((_, reject) => {
    onRejection = reject;
  });
  process.on("unhandledRejection", onRejection);
  try {
    return await Promise.race([evaluate(stack, options), firstFailure]);
  } finally {
    process.off("unhandledRejection", onRejection);
    running = false;
  }
}

async function evaluate(stack: string, options: RunOptions): Promise<ProgramRun> {
  const config = readStackConfig(stack);
  const values = applyOverrides(config.values, options.overrides ?? {});
  const secretKeys = [...config.secretKeys];
  pulumi.runtime.setAllConfig(values, secretKeys);

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => Promise.resolve(mockResourceOutputs(args)),
      call: (args) => Promise.resolve(mockCall(args)),
    },
    "bot3",
    stack,
    options.preview ?? false,
  );
  const registered = recordRegistrations(settingsRuntime.getMonitor() as unknown as MockMonitor);

  const entry = options.program ?? path.join(repositoryRoot, "index.ts");
  delete require.cache[require.resolve(entry)];
  // require, not import(): the program is CommonJS TypeScript loaded through ts-node.
  const exported = createRequire(__filename)(entry) as Record<string, unknown>;

  const outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  for (const [key, value] of Object.entries(exported)) {
    if (key === "default" || key === "__esModule") continue;
    if (pulumi.Output.isInstance(value)) {
      if (await pulumi.isSecret(value)) secretOutputs.push(key);
      outputs[key] = await resolve(value);
    } else {
      outputs[key] = value;
    }
  }
  // The SDK keeps waitForRPCs out of its typings; it is how a mock run knows that every
  // registration, including those made inside apply callbacks, has finished.
  const { waitForRPCs } = settingsRuntime as unknown as {
    waitForRPCs(this: void): Promise<void>;
  };
  await waitForRPCs();
  return { stack, config, resources: registered, outputs, secretOutputs };
}

function resolve<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((done) => output.apply((v) => done(v)));
}
