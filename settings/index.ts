import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { z } from "zod";
import { crossFieldProblems } from "./rules";
import { profileDefaults } from "./profiles";
import * as schema from "./schema";

export * from "./schema";

/** An exchange's API credentials; every field is a secret Output. */
export interface ExchangeCredential {
  apiKey: pulumi.Output<string>;
  apiSecret: pulumi.Output<string>;
  passphrase?: pulumi.Output<string>;
}

/** The stack's validated settings. Components receive parts of it, never `pulumi.Config`. */
export interface Settings {
  /** What kind of stack this is; rules and defaults key off it, never off the stack name. */
  environment: schema.Environment;
  /** Protect stateful resources against deletion and replacement. */
  dataProtection: boolean;
  cluster: schema.ClusterSettings;
  network: schema.NetworkSettings;
  nodeGroups: schema.NodeGroupsSettings;
  storage: schema.StorageSettings;
  image: schema.ImageSettings;
  engine: schema.EngineSettings;
  database: schema.DatabaseSettings;
  cache: schema.CacheSettings;
  ingress: schema.IngressSettings;
  tls: schema.TlsSettings;
  monitoring: schema.MonitoringSettings;
  backup: schema.BackupSettings;
  exchangeCredentials: Record<string, ExchangeCredential>;
  /** Alertmanager webhook URLs by receiver name, secret because they embed tokens. */
  alertWebhookUrls: Record<string, pulumi.Output<string>>;
}

/** A stack configuration that cannot be deployed; `problems` holds one line per bad value. */
export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(
      "The stack's settings are invalid:\n" +
        problems.map((p) => `  - ${p}`).join("\n") +
        "\nFix each with `pulumi config set --path bot3:<key> <value>` (or edit Pulumi.<stack>.yaml).",
    );
    this.name = "SettingsError";
  }
}

const namespace = "bot3";

/** The structured settings, `bot3:<key>`, and the schema of each. */
export const structuredSettings = {
  cluster: schema.clusterSchema,
  network: schema.networkSchema,
  nodeGroups: schema.nodeGroupsSchema,
  storage: schema.storageSchema,
  image: schema.imageSchema,
  engine: schema.engineSchema,
  database: schema.databaseSchema,
  cache: schema.cacheSchema,
  ingress: schema.ingressSchema,
  tls: schema.tlsSchema,
  monitoring: schema.monitoringSchema,
  backup: schema.backupSchema,
} as const;
type StructuredKey = keyof typeof structuredSettings;

const scalarKeys = ["environment", "dataProtection"] as const;
const secretObjectKeys = ["exchangeCredentials", "alertWebhookUrls"] as const;
export const settingKeys: readonly string[] = [
  ...scalarKeys,
  ...Object.keys(structuredSettings),
  ...secretObjectKeys,
];

/**
 * Validates raw stack configuration (`bot3:<key>` to the string Pulumi stores, JSON for
 * structured values) and returns typed settings. Every problem is collected, so one run
 * reports them all; a secret's value never appears in a message.
 */
export function parseSettings(raw: Record<string, string>, secretKeys: string[] = []): Settings {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(raw)) {
    if (!fullKey.startsWith(`${namespace}:`)) continue;
    const key = fullKey.slice(namespace.length + 1);
    if (!settingKeys.includes(key)) {
      problems.push(`${fullKey} is not a setting; known settings: ${settingKeys.join(", ")}`);
      continue;
    }
    values[key] = decode(key, text, problems);
  }

  const environment = parseField("environment", schema.environmentSchema.default("staging"));
  const env = environment ?? "staging";
  const dataProtection = parseField("dataProtection", z.boolean().default(env === "production"));
  const sections = {} as { [K in StructuredKey]: z.infer<(typeof structuredSettings)[K]> };
  for (const key of Object.keys(structuredSettings) as StructuredKey[]) {
    const merged = mergeDefaults(profileDefaults[env][key] ?? {}, values[key]);
    const parsed = parseField(key, structuredSettings[key], merged);
    if (parsed !== undefined) Object.assign(sections, { [key]: parsed });
  }
  const exchangeCredentials = parseField(
    "exchangeCredentials",
    z.record(z.string(), schema.exchangeCredentialSchema).default({}),
  );
  const alertWebhookUrls = parseField(
    "alertWebhookUrls",
    z.record(z.string(), schema.webhookUrlSchema).default({}),
  );

  if (problems.length > 0) throw new SettingsError(problems);
  const candidate = {
    environment: env,
    dataProtection: dataProtection ?? false,
    ...sections,
    exchangeCredentials: exchangeCredentials ?? {},
    alertWebhookUrls: alertWebhookUrls ?? {},
  };
  problems.push(...crossFieldProblems(candidate));
  if (problems.length > 0) throw new SettingsError(problems);

  return {
    ...candidate,
    exchangeCredentials: Object.fromEntries(
      Object.entries(candidate.exchangeCredentials).map(([name, c]) => [
        name,
        {
          apiKey: pulumi.secret(c.apiKey),
          apiSecret: pulumi.secret(c.apiSecret),
          ...(c.passphrase === undefined ? {} : { passphrase: pulumi.secret(c.passphrase) }),
        },
      ]),
    ),
    alertWebhookUrls: Object.fromEntries(
      Object.entries(candidate.alertWebhookUrls).map(([name, url]) => [name, pulumi.secret(url)]),
    ),
  };

  function parseField<T extends z.ZodType>(
    key: string,
    fieldSchema: T,
    value: unknown = values[key],
  ): z.infer<T> | undefined {
    const result = fieldSchema.safeParse(value);
    if (result.success) return result.data;
    const secret = secretKeys.includes(`${namespace}:${key}`) || isSecretSetting(key);
    for (const issue of result.error.issues) {
      problems.push(describeIssue(key, issue, value, secret));
    }
    return undefined;
  }
}

/** Reads the running stack's configuration through the Pulumi runtime. */
export function loadSettings(): Settings {
  const raw = pulumi.runtime.allConfig();
  // The SDK keeps isConfigSecret out of its typings, but it is how a program learns which
  // keys the CLI decrypted, so error messages can keep their values hidden.
  const { isConfigSecret } = runtimeConfig as unknown as {
    isConfigSecret(this: void, key: string): boolean;
  };
  const secretKeys = Object.keys(raw).filter((k) => isConfigSecret(k));
  return parseSettings(raw, secretKeys);
}

function isSecretSetting(key: string): boolean {
  return (secretObjectKeys as readonly string[]).includes(key);
}

function decode(key: string, text: string, problems: string[]): unknown {
  if ((scalarKeys as readonly string[]).includes(key)) {
    if (key === "dataProtection") {
      if (text === "true" || text === "false") return text === "true";
      problems.push(`${namespace}:${key} = ${JSON.stringify(text)}: must be true or false`);
      return undefined;
    }
    return text;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const shown = isSecretSetting(key) ? "(secret)" : JSON.stringify(text);
    problems.push(
      `${namespace}:${key} = ${shown}: must be an object; set its fields with ` +
        `\`pulumi config set --path ${namespace}:${key}.<field> <value>\``,
    );
    return undefined;
  }
}

/** Lays a stack file's object over the profile's defaults, field by field. */
function mergeDefaults(defaults: Record<string, unknown>, value: unknown): unknown {
  if (value === undefined) return defaults;
  if (!isPlainObject(value)) return value;
  const merged: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(value)) {
    const d = defaults[k];
    merged[k] = isPlainObject(d) && isPlainObject(v) ? mergeDefaults(d, v) : v;
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeIssue(key: string, issue: z.core.$ZodIssue, value: unknown, secret: boolean) {
  const path = [key, ...issue.path.map(String)].join(".");
  if (issue.code === "unrecognized_keys") {
    return `${namespace}:${path} has unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}; check the spelling against the settings table in README.md`;
  }
  const actual = secret ? "(secret)" : JSON.stringify(valueAt(value, issue.path));
  const shown = actual === undefined ? "missing" : actual;
  return `${namespace}:${path} = ${shown}: ${issue.message}`;
}

function valueAt(value: unknown, path: PropertyKey[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}
