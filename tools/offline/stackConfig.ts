import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { offlineSecretPrefixes } from "./mockCloud";

/** Configuration of one stack as the Pulumi CLI would hand it to the program. */
export interface StackConfig {
  /** `namespace:key` to the string value; structured values are JSON. */
  values: Record<string, string>;
  /** Keys whose values are secret. */
  secretKeys: string[];
  /** Keys whose `secure:` values could not be decrypted and hold placeholders instead. */
  placeholderKeys: string[];
}

export class UnknownStackError extends Error {}

export const repositoryRoot = path.resolve(__dirname, "..", "..");

export function knownStacks(root = repositoryRoot): string[] {
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.([\w-]+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/**
 * Reads `Pulumi.yaml` defaults and `Pulumi.<stack>.yaml`, the way the CLI merges them.
 * Encrypted (`secure:`) values cannot be decrypted without the stack's secrets provider, so
 * each becomes a recognisable placeholder that is still treated as a secret.
 */
export function readStackConfig(stack: string, root = repositoryRoot): StackConfig {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    throw new UnknownStackError(
      `Unknown stack "${stack}": there is no Pulumi.${stack}.yaml. ` +
        `Known stacks: ${knownStacks(root).join(", ")}.`,
    );
  }
  const project = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
    name: string;
    config?: Record<string, { default?: unknown }>;
  };
  const stackFile = (parse(fs.readFileSync(file, "utf8")) ?? {}) as {
    config?: Record<string, unknown>;
  };

  const config: StackConfig = { values: {}, secretKeys: [], placeholderKeys: [] };
  for (const [key, declaration] of Object.entries(project.config ?? {})) {
    if (declaration.default === undefined) continue;
    const fullKey = key.includes(":") ? key : `${project.name}:${key}`;
    config.values[fullKey] = toConfigString(declaration.default);
  }
  for (const [key, value] of Object.entries(stackFile.config ?? {})) {
    const found: string[] = [];
    const plain = replaceSecure(value, key, found);
    config.values[key] = toConfigString(plain);
    if (found.length > 0) {
      config.secretKeys.push(key);
      config.placeholderKeys.push(...found);
    }
  }
  return config;
}

/** The value that stands for an encrypted setting in offline runs. */
export function secretPlaceholder(path: string): string {
  // A URL on the reserved .invalid domain passes as any kind of secret (an API key or a
  // webhook URL), and is never reachable.
  return `${offlineSecretPrefixes[2]}${path.replace(/[^\w.-]/g, "_")}`;
}

function replaceSecure(value: unknown, at: string, found: string[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => replaceSecure(v, `${at}[${i}]`, found));
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  if (Object.keys(record).length === 1 && typeof record.secure === "string") {
    found.push(at);
    return secretPlaceholder(at);
  }
  return Object.fromEntries(
    Object.entries(record).map(([k, v]) => [k, replaceSecure(v, `${at}.${k}`, found)]),
  );
}

function toConfigString(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * Lays overrides over stack values. An override that is a JSON object is merged field by
 * field into the stack file's object, as `pulumi config set --path` would change one field.
 */
export function applyOverrides(
  values: Record<string, string>,
  overrides: Record<string, string>,
): Record<string, string> {
  const result = { ...values };
  for (const [key, text] of Object.entries(overrides)) {
    result[key] = key in result ? mergeConfigText(result[key], text) : text;
  }
  return result;
}

function mergeConfigText(base: string, override: string): string {
  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };
  const merged = mergeObjects(parse(base), parse(override));
  return typeof merged === "string" ? merged : JSON.stringify(merged);
}

function mergeObjects(base: unknown, override: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(base) || !isObject(override)) return override;
  const result: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) result[k] = mergeObjects(base[k], v);
  return result;
}
