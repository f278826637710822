/** What the checks need from a stack's outputs (`pulumi stack output --json`). */
export interface DeployTargets {
  /** `https://<host>[:port]` of the engine's ingress. */
  ingressUrl: URL;
  grafanaUrl: URL;
  /** Namespace of the engine and its backup CronJob. */
  namespace: string;
}

export class StackOutputsError extends Error {}

/**
 * Reads the outputs the checks need and says, for each one missing or malformed, which output
 * it is and what to do. Secret outputs (shown as "[secret]" without --show-secrets) are not
 * needed.
 */
export function deployTargets(outputs: unknown): DeployTargets {
  if (typeof outputs !== "object" || outputs === null || Array.isArray(outputs)) {
    throw new StackOutputsError(
      "The stack outputs must be a JSON object, as `pulumi stack output --json` prints.",
    );
  }
  const values = outputs as Record<string, unknown>;
  const problems: string[] = [];
  const url = (key: string, protocols: string[]): URL | undefined => {
    const value = values[key];
    if (typeof value !== "string" || value === "") {
      problems.push(`stack output ${key} is missing; deploy a version that exports it.`);
      return undefined;
    }
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      problems.push(`stack output ${key} is "${value}", not a URL.`);
      return undefined;
    }
    if (!protocols.includes(parsed.protocol)) {
      problems.push(`stack output ${key} is "${value}"; it must start with ${protocols[0]}//.`);
      return undefined;
    }
    return parsed;
  };
  const ingressUrl = url("ingressUrl", ["https:"]);
  const grafanaUrl = url("grafanaUrl", ["https:", "http:"]);
  const namespace = values.namespace;
  if (typeof namespace !== "string" || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) {
    problems.push(
      `stack output namespace is ${JSON.stringify(namespace)}; it must be a Kubernetes namespace.`,
    );
  }
  if (problems.length > 0 || !ingressUrl || !grafanaUrl) {
    throw new StackOutputsError(problems.join("\n"));
  }
  return { ingressUrl, grafanaUrl, namespace: namespace as string };
}
