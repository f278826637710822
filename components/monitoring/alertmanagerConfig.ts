// The Alertmanager configuration file. It carries the receivers' webhook URLs, which embed
// tokens, so it is only ever written into a Kubernetes Secret, never into chart values.

/** A receiver of `bot3:monitoring.receivers` with its URL from `bot3:alertWebhookUrls`. */
export interface WebhookReceiver {
  name: string;
  url: string;
}

/** The receiver that drops what no route sends elsewhere (the chart's Watchdog alert, info). */
export const discardReceiver = "discard";

interface Route {
  receiver?: string;
  matchers?: string[];
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  continue?: boolean;
  routes?: Route[];
}

export interface AlertmanagerConfiguration {
  global: { resolve_timeout: string };
  route: Route;
  inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[];
  receivers: { name: string; webhook_configs?: { url: string; send_resolved: boolean }[] }[];
}

// Critical alerts page someone now and repeat hourly while unresolved; warnings wait a
// minute to be grouped and repeat twice a day, for working hours.
const severityRoutes = [
  { severity: "critical", group_wait: "10s", repeat_interval: "1h" },
  { severity: "warning", group_wait: "1m", repeat_interval: "12h" },
] as const;

/**
 * The configuration: critical and warning alerts go to every receiver (each child route
 * `continue`s to the next), everything else is discarded, and a critical alert silences the
 * warning of the same name and namespace. With no receivers every alert is discarded: the
 * alerts stay visible in the Alertmanager and Grafana UIs but notify nobody.
 */
export function alertmanagerConfiguration(receivers: WebhookReceiver[]): AlertmanagerConfiguration {
  const names = receivers.map((r) => r.name);
  if (names.includes(discardReceiver)) {
    throw new Error(
      `bot3:monitoring.receivers may not contain "${discardReceiver}", the name of the built-in ` +
        "receiver that drops unrouted alerts; rename that receiver",
    );
  }
  return {
    global: { resolve_timeout: "5m" },
    route: {
      receiver: discardReceiver,
      group_by: ["namespace", "alertname"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "12h",
      routes: severityRoutes.map(({ severity, group_wait, repeat_interval }) => ({
        matchers: [`severity="${severity}"`],
        group_wait,
        repeat_interval,
        routes: names.map((receiver) => ({ receiver, continue: true })),
      })),
    },
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: ["namespace", "alertname"],
      },
    ],
    receivers: [
      { name: discardReceiver },
      ...receivers.map(({ name, url }) => ({
        name,
        webhook_configs: [{ url, send_resolved: true }],
      })),
    ],
  };
}

/**
 * The file as Alertmanager reads it. JSON is a subset of YAML, so the program needs no YAML
 * library at run time.
 */
export function alertmanagerConfigFile(receivers: WebhookReceiver[]): string {
  return JSON.stringify(alertmanagerConfiguration(receivers), null, 2) + "\n";
}
