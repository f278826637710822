import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

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
  return `https://offline-placeholder.invalid/${path.replace(/[^\w.-]/g, "_")}`;
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
