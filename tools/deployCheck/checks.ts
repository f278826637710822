import { presentedCertificate } from "./certificate";
import { failure, getWithRetries, parseJson, type RequestPolicy } from "./http";
import { checkPrometheusTargets, checkRecentBackup } from "./prometheus";
import type { DeployTargets } from "./outputs";

export type CheckStatus = "pass" | "warn" | "fail" | "skip";

export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
}

export interface ValidationOptions extends RequestPolicy {
  /** Path of the engine's health endpoint behind the ingress. */
  healthPath: string;
  /** Prometheus base URL (e.g. after `kubectl port-forward`); undefined skips its checks. */
  prometheusUrl: URL | undefined;
  /** Scrape job of the engine, as the engine's alerts name it. */
  engineJob: string;
  backupCronJob: string;
  backupMaxAgeHours: number;
  /** A certificate that expires sooner than this is reported as a warning. */
  certificateWarnDays: number;
  now: () => Date;
}

export const defaultValidationOptions: Omit<ValidationOptions, "prometheusUrl"> = {
  healthPath: "/healthz",
  engineJob: "bot3-engine",
  backupCronJob: "bot3-postgres-backup",
  // The Bot3BackupTooOld alert's default threshold.
  backupMaxAgeHours: 26,
  // The Bot3CertificateExpiringSoon alert's threshold.
  certificateWarnDays: 14,
  timeoutMs: 10_000,
  attempts: 3,
  retryDelayMs: 1_000,
  extraCaCertificates: [],
  now: () => new Date(),
};

/** Runs every check in turn; one check's failure never stops the others. */
export async function validateDeployment(
  targets: DeployTargets,
  options: ValidationOptions,
): Promise<CheckResult[]> {
  const results = [
    await checkCertificate(targets, options),
    await checkEngineHealth(targets, options),
    await checkGrafana(targets, options),
  ];
  if (options.prometheusUrl === undefined) {
    const detail = "no --prometheus-url given (--no-prometheus)";
    results.push({ check: "prometheus targets", status: "skip", detail });
    results.push({ check: "recent backup", status: "skip", detail });
  } else {
    results.push(await checkPrometheusTargets(options.prometheusUrl, options));
    results.push(await checkRecentBackup(options.prometheusUrl, targets.namespace, options));
  }
  return results;
}

export async function checkCertificate(
  targets: DeployTargets,
  options: ValidationOptions,
): Promise<CheckResult> {
  const check = "ingress TLS";
  const host = targets.ingressUrl.hostname;
  const port = Number(targets.ingressUrl.port || 443);
  let certificate;
  try {
    certificate = await presentedCertificate(host, port, options);
  } catch (error) {
    return {
      check,
      status: "fail",
      detail: `TLS connection to ${host}:${port}: ${failure(error)}`,
    };
  }
  const now = options.now();
  const days = (certificate.validTo.getTime() - now.getTime()) / 86_400_000;
  const until = certificate.validTo.toISOString();
  if (days <= 0) {
    return {
      check,
      status: "fail",
      detail: `certificate of ${host} expired on ${until}; see the runbook, Bot3CertificateExpiringSoon.`,
    };
  }
  if (certificate.validFrom > now) {
    return {
      check,
      status: "fail",
      detail: `certificate of ${host} is not valid before ${certificate.validFrom.toISOString()}.`,
    };
  }
  if (certificate.hostError) {
    return {
      check,
      status: "fail",
      detail:
        `certificate does not cover ${host} (${certificate.subjectAltName || "no names"}): ` +
        certificate.hostError,
    };
  }
  if (certificate.trustError) {
    return {
      check,
      status: "fail",
      detail:
        `certificate of ${host} is not trusted (${certificate.trustError}); for a staging ` +
        `stack, pass the Let's Encrypt staging root with --ca-file <pem>.`,
    };
  }
  const status = days < options.certificateWarnDays ? "warn" : "pass";
  return {
    check,
    status,
    detail: `certificate of ${host} is trusted and valid until ${until} (${Math.floor(days)} days).`,
  };
}

export async function checkEngineHealth(
  targets: DeployTargets,
  options: ValidationOptions,
): Promise<CheckResult> {
  const check = "engine health";
  const url = new URL(options.healthPath, targets.ingressUrl);
  try {
    const answer = await getWithRetries(url, options);
    if (answer.status >= 200 && answer.status < 300) {
      return {
        check,
        status: "pass",
        detail: `${url.href} answered ${answer.status} (attempt ${answer.attempts}).`,
      };
    }
    return {
      check,
      status: "fail",
      detail: `${url.href} answered ${answer.status}; see the runbook, Bot3EngineUnavailable.`,
    };
  } catch (error) {
    return { check, status: "fail", detail: `${failure(error)}; see Bot3EngineUnavailable.` };
  }
}

export async function checkGrafana(
  targets: DeployTargets,
  options: ValidationOptions,
): Promise<CheckResult> {
  const check = "grafana";
  const url = new URL("/api/health", targets.grafanaUrl);
  try {
    const answer = await getWithRetries(url, options);
    const database = parseJson(answer.body)?.database;
    if (answer.status === 200 && database === "ok") {
      return { check, status: "pass", detail: `${url.href} answered 200, database ok.` };
    }
    return {
      check,
      status: "fail",
      detail: `${url.href} answered ${answer.status} with database ${JSON.stringify(database)}.`,
    };
  } catch (error) {
    return { check, status: "fail", detail: failure(error) };
  }
}
