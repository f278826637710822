// Post-deploy validation: reads a stack's outputs and checks the live system. The engine's
// health endpoint and the ingress certificate, Grafana's health, Prometheus' targets and the
// age of the last successful backup (both through the Prometheus API, usually reached with
// `kubectl port-forward`).
//
//   npm run validate-deploy -- --stack staging --prometheus-url http://127.0.0.1:9090
//   pulumi stack output --json | npm run validate-deploy -- --outputs - --no-prometheus
//
// Exit status: 0 when no check failed (warnings allowed), 1 when one did, 2 for bad usage.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import {
  defaultValidationOptions,
  validateDeployment,
  type CheckResult,
  type ValidationOptions,
} from "./deployCheck/checks";
import { deployTargets, StackOutputsError } from "./deployCheck/outputs";

export class UsageError extends Error {}

export interface ValidateArguments {
  /** Where the outputs come from: a stack name for the Pulumi CLI, a file, or "-" for stdin. */
  source: { stack: string } | { file: string };
  options: ValidationOptions;
}

const usage =
  "usage: npm run validate-deploy -- (--stack <name> | --outputs <file|->)\n" +
  "         (--prometheus-url <url> | --no-prometheus) [--ca-file <pem>]... [--health-path /healthz]\n" +
  "         [--timeout <seconds>] [--attempts <n>] [--backup-max-age <hours>]";

const valueFlags = [
  "--stack",
  "--outputs",
  "--prometheus-url",
  "--ca-file",
  "--health-path",
  "--timeout",
  "--attempts",
  "--backup-max-age",
];

export function parseArguments(argv: string[], readFile = fs.readFileSync): ValidateArguments {
  const values = new Map<string, string[]>();
  let noPrometheus = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--no-prometheus") {
      noPrometheus = true;
      continue;
    }
    if (!valueFlags.includes(flag)) throw new UsageError(`unknown argument ${flag}`);
    const value = argv[++i];
    if (value === undefined || (value.startsWith("--") && value !== "-")) {
      throw new UsageError(`${flag} needs a value`);
    }
    values.set(flag, [...(values.get(flag) ?? []), value]);
  }
  const last = (flag: string) => values.get(flag)?.at(-1);

  const stack = last("--stack");
  const file = last("--outputs");
  if ((stack === undefined) === (file === undefined)) {
    throw new UsageError("give exactly one of --stack <name> and --outputs <file|->");
  }

  const prometheus = last("--prometheus-url");
  if (noPrometheus === (prometheus !== undefined)) {
    throw new UsageError(
      "give exactly one of --prometheus-url <url> and --no-prometheus; reach Prometheus with " +
        "kubectl -n monitoring port-forward svc/<prometheus service> 9090, then " +
        "--prometheus-url http://127.0.0.1:9090",
    );
  }

  const options: ValidationOptions = {
    ...defaultValidationOptions,
    prometheusUrl:
      prometheus === undefined ? undefined : urlArgument("--prometheus-url", prometheus),
    extraCaCertificates: (values.get("--ca-file") ?? []).map((path) => {
      const pem = String(readFile(path, "utf8"));
      if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
        throw new UsageError(`--ca-file ${path} holds no PEM certificate`);
      }
      return pem;
    }),
  };
  const healthPath = last("--health-path");
  if (healthPath !== undefined) {
    if (!healthPath.startsWith("/")) throw new UsageError("--health-path must start with /");
    options.healthPath = healthPath;
  }
  const timeout = last("--timeout");
  if (timeout !== undefined)
    options.timeoutMs = numberArgument("--timeout", timeout, 1, 120) * 1000;
  const attempts = last("--attempts");
  if (attempts !== undefined) options.attempts = numberArgument("--attempts", attempts, 1, 10);
  const maxAge = last("--backup-max-age");
  if (maxAge !== undefined) {
    options.backupMaxAgeHours = numberArgument("--backup-max-age", maxAge, 1, 24 * 31);
  }
  return { source: stack !== undefined ? { stack } : { file: file! }, options };
}

function urlArgument(flag: string, value: string): URL {
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return url;
  } catch {
    // Reported below.
  }
  throw new UsageError(`${flag} takes an http(s) URL, not "${value}"`);
}

function numberArgument(flag: string, value: string, min: number, max: number): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < min || number > max) {
    throw new UsageError(`${flag} takes a number from ${min} to ${max}, not "${value}"`);
  }
  return number;
}

/** The stack outputs as JSON text: from the Pulumi CLI, a file, or standard input. */
export function readOutputs(source: ValidateArguments["source"]): unknown {
  if ("file" in source) {
    const text = fs.readFileSync(source.file === "-" ? 0 : source.file, "utf8");
    try {
      return JSON.parse(text);
    } catch {
      throw new StackOutputsError(
        `${source.file === "-" ? "standard input" : source.file} is not JSON; ` +
          "produce it with `pulumi stack output --json`.",
      );
    }
  }
  const result = spawnSync("pulumi", ["stack", "output", "--json", "--stack", source.stack], {
    encoding: "utf8",
    timeout: 60_000,
  });
  if (result.error) {
    throw new StackOutputsError(
      `could not run the Pulumi CLI (${result.error.message}); install it, or pipe the ` +
        "outputs in: pulumi stack output --json | npm run validate-deploy -- --outputs -",
    );
  }
  if (result.status !== 0) {
    throw new StackOutputsError(
      `pulumi stack output --stack ${source.stack} failed: ${result.stderr.trim()}`,
    );
  }
  return JSON.parse(result.stdout) as unknown;
}

export function report(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  const lines = results.map(
    (r) => `${r.status.toUpperCase().padEnd(4)}  ${r.check.padEnd(width)}  ${r.detail}`,
  );
  const count = (status: CheckResult["status"]) => results.filter((r) => r.status === status);
  lines.push(
    `validate-deploy: ${count("fail").length} of ${results.length} checks failed ` +
      `(${count("pass").length} passed, ${count("warn").length} warnings, ` +
      `${count("skip").length} skipped).`,
  );
  return lines.join("\n");
}

async function main(): Promise<number> {
  try {
    const { source, options } = parseArguments(process.argv.slice(2));
    const targets = deployTargets(readOutputs(source));
    const results = await validateDeployment(targets, options);
    console.log(report(results));
    return results.some((r) => r.status === "fail") ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`validate-deploy: ${error.message}\n${usage}`);
      return 2;
    }
    if (error instanceof StackOutputsError) {
      console.error(`validate-deploy: ${error.message}`);
      return 1;
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 1;
  }
}

if (require.main === module) {
  void main().then((code) => process.exit(code));
}
