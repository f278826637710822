// Offline render: evaluates one stack under the Pulumi mock runtime with its real stack file,
// writes every Kubernetes object as YAML plus an inventory of every resource, and checks the
// objects against the Kubernetes schema.
//
//   npm run render -- --stack <name> [--out <dir>] [--set bot3:<key>.<field>=<value> ...]
//
// --set lays a value over the stack file for this render only, the way
// `pulumi config set --path` would, so a reviewer can see what a change would declare.
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { schemaProblems } from "./offline/kubernetesSchema";
import { kubernetesManifests } from "./offline/manifests";
import { offlineSecretPrefixes } from "./offline/mockCloud";
import { checkPolicies, describeViolation, type Violation } from "./offline/policyCheck";
import { runProgram, type ProgramRun } from "./offline/runProgram";
import { repositoryRoot } from "./offline/stackConfig";

export interface InventoryEntry {
  type: string;
  name: string;
  parent: string | null;
  provider: string | null;
  inputs: Record<string, unknown>;
}

export interface RenderResult {
  run: ProgramRun;
  outDir: string;
  /** Relative path to file contents, everything that was written. */
  files: Map<string, string>;
  inventory: InventoryEntry[];
  /** Objects the API server would reject, one line each; render fails when any exist. */
  invalid: string[];
  /** Every policy violation; a mandatory one fails the render, as it would fail a preview. */
  violations: Violation[];
  summary: string;
}

/** Evaluates a stack and writes its render; throws on settings errors or unknown stacks. */
export async function render(
  stack: string,
  outDir: string,
  overrides: Record<string, string> = {},
): Promise<RenderResult> {
  const run = await runProgram(stack, { overrides });
  const { manifests, problems } = kubernetesManifests(run.resources);
  const invalid = [...problems];
  const files = new Map<string, string>();

  for (const manifest of manifests) {
    if (!manifest.isPatch) {
      for (const problem of await schemaProblems(manifest.object)) {
        invalid.push(`${manifest.path}: ${problem}`);
      }
    }
    files.set(manifest.path, stringify(manifest.masked, { sortMapEntries: false }));
  }

  const inventory: InventoryEntry[] = run.resources.map((r) => ({
    type: r.type,
    name: r.name,
    parent: r.parent ?? null,
    provider: r.provider ?? null,
    inputs: r.maskedInputs,
  }));
  files.set("inventory.json", JSON.stringify(inventory, null, 2) + "\n");

  invalid.push(...secretLeaks(files));
  const violations = checkPolicies(run);

  const summary = summarise(run, manifests.length, outDir, invalid, violations);
  writeFiles(outDir, files);
  return { run, outDir, files, inventory, invalid, violations, summary };
}

/**
 * Files that hold a secret in plain text. Every offline secret carries a known prefix, so a
 * leak is found without knowing the value, and the message never repeats it.
 */
export function secretLeaks(files: Map<string, string>): string[] {
  return [...files]
    .filter(([, text]) => offlineSecretPrefixes.some((prefix) => text.includes(prefix)))
    .map(([file]) => `${file}: contains a secret value in plain text`);
}

/** True when the render must fail: an invalid object, a leak, or a mandatory violation. */
export function renderFailed(result: RenderResult): boolean {
  return (
    result.invalid.length > 0 || result.violations.some((v) => v.enforcementLevel === "mandatory")
  );
}

function summarise(
  run: ProgramRun,
  manifestCount: number,
  outDir: string,
  invalid: string[],
  violations: Violation[],
) {
  const counts = new Map<string, number>();
  for (const r of run.resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  const width = Math.max(...[...counts.keys()].map((t) => t.length));
  const lines = [
    `Stack ${run.stack}: ${run.resources.length} resources, ${manifestCount} Kubernetes objects.`,
    ...[...counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, count]) => `  ${type.padEnd(width)}  ${count}`),
  ];
  if (run.config.placeholderKeys.length > 0) {
    lines.push(
      `Encrypted settings cannot be decrypted offline; placeholders stand in for: ` +
        run.config.placeholderKeys.join(", "),
    );
  }
  for (const standIn of run.config.standIns) lines.push(`Offline stand-in: ${standIn}.`);
  lines.push(`Wrote manifests and inventory.json to ${displayPath(outDir)}`);
  lines.push(
    invalid.length === 0
      ? "Every Kubernetes object is valid against the Kubernetes schema."
      : `${invalid.length} problem(s):\n` + invalid.map((p) => `  - ${p}`).join("\n"),
  );
  const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory").length;
  lines.push(
    violations.length === 0
      ? `Policy pack (policy/config.${run.stack}.json): no violations.`
      : `Policy pack (policy/config.${run.stack}.json): ${violations.length} violation(s), ` +
          `${mandatory} mandatory:\n` +
          violations.map((v) => `  - ${describeViolation(v)}`).join("\n"),
  );
  return lines.join("\n");
}

function displayPath(folder: string): string {
  const relative = path.relative(process.cwd(), folder);
  return relative === "" ? "." : relative.startsWith("..") ? folder : relative;
}

function writeFiles(outDir: string, files: Map<string, string>): void {
  if (fs.existsSync(outDir)) {
    // Only a previous render is cleared: inventory.json and folders of YAML files, nothing else.
    if (!isPreviousRender(outDir)) {
      throw new Error(`${outDir} exists and is not a previous render; choose another --out`);
    }
    fs.rmSync(outDir, { recursive: true, force: true });
  }
  for (const [file, text] of files) {
    const target = path.join(outDir, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, text);
  }
}

function isPreviousRender(folder: string): boolean {
  return fs.readdirSync(folder, { withFileTypes: true }).every((entry) => {
    if (entry.isFile()) return entry.name === "inventory.json";
    if (!entry.isDirectory()) return false;
    return fs
      .readdirSync(path.join(folder, entry.name), { withFileTypes: true })
      .every((file) => file.isFile() && file.name.endsWith(".yaml"));
  });
}

export interface RenderArguments {
  stack: string;
  outDir: string;
  /** Config overrides for runProgram: `namespace:key` to a JSON or plain string. */
  overrides: Record<string, string>;
}

export function parseArguments(argv: string[]): RenderArguments {
  let stack: string | undefined;
  let out: string | undefined;
  const overrides: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (!["--stack", "--out", "--set"].includes(flag)) {
      throw new UsageError(`unknown argument ${flag}`);
    }
    if (value === undefined || value.startsWith("--"))
      throw new UsageError(`${flag} needs a value`);
    i++;
    if (flag === "--stack") stack = value;
    else if (flag === "--out") out = value;
    else addOverride(overrides, value);
  }
  if (stack === undefined) throw new UsageError("--stack is required");
  const outDir = path.resolve(out ?? path.join(repositoryRoot, "dist", stack));
  return { stack, outDir, overrides };
}

/** Turns `bot3:engine.minReplicas=5` into `{ "bot3:engine": '{"minReplicas":5}' }`. */
function addOverride(overrides: Record<string, string>, assignment: string): void {
  const match = /^([\w-]+:[\w-]+)((?:\.[\w-]+)*)=(.*)$/s.exec(assignment);
  if (!match) {
    throw new UsageError(`--set takes <namespace>:<key>[.<field>...]=<value>, not "${assignment}"`);
  }
  const [, key, fieldPath, text] = match;
  const value = configValue(text);
  const fields = fieldPath.split(".").filter((f) => f !== "");
  if (fields.some((f) => ["__proto__", "constructor", "prototype"].includes(f))) {
    throw new UsageError(`--set cannot write the field names __proto__, constructor or prototype`);
  }
  if (fields.length === 0) {
    overrides[key] = typeof value === "string" ? value : JSON.stringify(value);
    return;
  }
  const root = (overrides[key] ? JSON.parse(overrides[key]) : {}) as unknown;
  if (typeof root !== "object" || root === null || Array.isArray(root)) {
    throw new UsageError(`--set ${assignment}: ${key} was set to a plain value before`);
  }
  let node = root as Record<string, unknown>;
  for (const field of fields.slice(0, -1)) {
    const next = node[field] ?? {};
    if (typeof next !== "object" || next === null || Array.isArray(next)) {
      throw new UsageError(`--set ${assignment}: ${field} is not an object`);
    }
    node[field] = next;
    node = next as Record<string, unknown>;
  }
  node[fields[fields.length - 1]] = value;
  overrides[key] = JSON.stringify(root);
}

/**
 * A value as `pulumi config set --path` stores it: whole numbers and true/false become
 * numbers and booleans, anything else stays a string. JSON arrays, objects and quoted
 * strings are read as JSON, so lists can be given too.
 */
export function configValue(text: string): unknown {
  if (/^-?\d{1,15}$/.test(text)) return Number(text);
  if (text === "true" || text === "false") return text === "true";
  if (/^[[{"]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

class UsageError extends Error {}

async function main(): Promise<number> {
  try {
    const { stack, outDir, overrides } = parseArguments(process.argv.slice(2));
    const result = await render(stack, outDir, overrides);
    console.log(result.summary);
    return renderFailed(result) ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(
        `render: ${error.message}\nusage: npm run render -- --stack <name> [--out <dir>] [--set <key>=<value>]`,
      );
      return 2;
    }
    // The program's own errors say what to fix; a stack trace would bury that.
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

if (require.main === module) {
  void main().then((code) => process.exit(code));
}
