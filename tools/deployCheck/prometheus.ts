// Checks that read the live system through the Prometheus HTTP API.
import type { CheckResult, ValidationOptions } from "./checks";
import { failure, getWithRetries, parseJson, RequestFailure } from "./http";

interface ActiveTarget {
  labels?: Record<string, string>;
  health?: string;
  lastError?: string;
}

export async function checkPrometheusTargets(
  prometheusUrl: URL,
  options: ValidationOptions,
): Promise<CheckResult> {
  const check = "prometheus targets";
  let data: { activeTargets?: ActiveTarget[] };
  try {
    data = (await prometheusApi(prometheusUrl, "api/v1/targets?state=active", options)) as {
      activeTargets?: ActiveTarget[];
    };
  } catch (error) {
    return { check, status: "fail", detail: failure(error) };
  }
  const targets = data.activeTargets ?? [];
  const down = targets.filter((t) => t.health !== "up");
  const describe = (t: ActiveTarget) =>
    `${t.labels?.job ?? "?"} ${t.labels?.instance ?? "?"} (${t.health ?? "unknown"}` +
    `${t.lastError ? `: ${t.lastError}` : ""})`;
  if (down.length > 0) {
    return {
      check,
      status: "fail",
      detail: `${down.length} of ${targets.length} targets are not up: ${down.map(describe).join("; ")}`,
    };
  }
  if (!targets.some((t) => t.labels?.job === options.engineJob)) {
    return {
      check,
      status: "fail",
      detail:
        `no target of job ${options.engineJob} among ${targets.length}: Prometheus does not ` +
        `scrape the engine; see the runbook, Bot3EngineScrapeFailing.`,
    };
  }
  return { check, status: "pass", detail: `all ${targets.length} targets are up.` };
}

export async function checkRecentBackup(
  prometheusUrl: URL,
  namespace: string,
  options: ValidationOptions,
): Promise<CheckResult> {
  const check = "recent backup";
  const selector = `namespace="${namespace}",cronjob="${options.backupCronJob}"`;
  const query = `time() - max(kube_cronjob_status_last_successful_time{${selector}})`;
  let data: { result?: { value?: [number, string] }[] };
  try {
    data = (await prometheusApi(
      prometheusUrl,
      `api/v1/query?query=${encodeURIComponent(query)}`,
      options,
    )) as { result?: { value?: [number, string] }[] };
  } catch (error) {
    return { check, status: "fail", detail: failure(error) };
  }
  const ageSeconds = Number(data.result?.[0]?.value?.[1]);
  if (!Number.isFinite(ageSeconds)) {
    return {
      check,
      status: "fail",
      detail:
        `no successful run of CronJob ${namespace}/${options.backupCronJob} is recorded ` +
        `(missing, never succeeded, or not scraped); see the runbook, Bot3BackupTooOld.`,
    };
  }
  const hours = ageSeconds / 3600;
  const age = `${hours.toFixed(1)} h ago`;
  if (hours > options.backupMaxAgeHours) {
    return {
      check,
      status: "fail",
      detail:
        `last successful backup was ${age}, more than ${options.backupMaxAgeHours} h; ` +
        `see the runbook, Bot3BackupTooOld.`,
    };
  }
  return { check, status: "pass", detail: `last successful backup was ${age}.` };
}

/** Calls the Prometheus HTTP API and returns its `data`, or throws with the API's error. */
async function prometheusApi(
  base: URL,
  pathAndQuery: string,
  options: ValidationOptions,
): Promise<unknown> {
  const url = new URL(pathAndQuery, base.href.endsWith("/") ? base : new URL(`${base.href}/`));
  let answer;
  try {
    answer = await getWithRetries(url, options);
  } catch (error) {
    if (error instanceof RequestFailure) {
      throw new Error(`${error.message}; is the port-forward to Prometheus running?`);
    }
    throw error;
  }
  const body = parseJson(answer.body);
  if (answer.status !== 200 || body?.status !== "success") {
    const reason = typeof body?.error === "string" ? body.error : answer.body.slice(0, 200);
    throw new Error(`Prometheus API ${url.pathname} answered ${answer.status}: ${reason}`);
  }
  return body.data;
}
