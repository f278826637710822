import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import type { EngineSettings, ExchangeCredential } from "../settings";
import { imagePin } from "../settings/imageReference";
import type { DedicatedNodes } from "./clusterAccess";
import { enginePaths, enginePodSpec, type DataStoreSecretNames } from "./enginePodSpec";

export interface TradingEngineArgs {
  /** Namespace to run in; pass the WorkloadNamespace's output so it exists first. */
  namespace: pulumi.Input<string>;
  /**
   * The engine image, `repo@sha256:<digest>`. A tag (`repo:1.2.3`) is accepted only with
   * `allowTagOnlyImage`; a bare repository or `latest` is always refused.
   */
  image: pulumi.Input<string>;
  /** Accept an image pinned by tag alone, for local registries. Default false. */
  allowTagOnlyImage?: boolean;
  /** Replicas, resources, ports, shutdown timing, exchanges and non-secret configuration. */
  engine: EngineSettings;
  /** API credentials per exchange in `engine.exchanges`; mounted as files, never in env. */
  exchangeCredentials: Record<string, ExchangeCredential>;
  /** The dedicated engine node group; without it the engine runs on any node. */
  engineNodes?: DedicatedNodes;
  /** IRSA role for the engine's ServiceAccount; omit to give the engine no AWS identity. */
  awsRoleArn?: pulumi.Input<string>;
  /** Secrets with the database and cache connections, created by the data-store components. */
  dataStoreSecrets?: DataStoreSecretNames;
  /** The cluster's provider. */
  provider: k8s.Provider;
}

/** Labels of every engine pod; selectors and NetworkPolicies match on them. */
export const engineLabels = {
  "app.kubernetes.io/name": "bot3-engine",
  "app.kubernetes.io/component": "trading-engine",
  "app.kubernetes.io/part-of": "bot3",
} as const;

export const defaultDataStoreSecrets: DataStoreSecretNames = {
  postgres: "bot3-postgres-connection",
  redis: "bot3-redis-connection",
};

/**
 * The trading engine: a hardened Deployment whose replica count the autoscaler owns, with its
 * identity, configuration, exchange credentials, Service, disruption budget and priority.
 */
export class TradingEngine extends pulumi.ComponentResource {
  /** Name of the ClusterIP Service in front of the engine. */
  readonly serviceName: pulumi.Output<string>;
  /** Port name of the engine's API on the Service. */
  readonly httpPortName = "http";
  readonly deployment: k8s.apps.v1.Deployment;

  constructor(name: string, args: TradingEngineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:engine:TradingEngine", name, {}, opts);
    const childOpts = { parent: this, provider: args.provider };
    const { engine } = args;
    const namespace = args.namespace;
    const metadata = (objectName: string) => ({
      name: objectName,
      namespace,
      labels: { ...engineLabels },
    });
    // A plain reference fails before any resource exists; a built one once it is known.
    if (typeof args.image === "string") checkImage(args.image, args.allowTagOnlyImage ?? false);
    const image = pulumi.output(args.image).apply((ref) => {
      checkImage(ref, args.allowTagOnlyImage ?? false);
      return ref;
    });

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      {
        metadata: {
          ...metadata("bot3-engine"),
          ...(args.awsRoleArn === undefined
            ? {}
            : { annotations: { "eks.amazonaws.com/role-arn": args.awsRoleArn } }),
        },
        automountServiceAccountToken: false,
      },
      childOpts,
    );

    const configData = { "engine.json": engineConfigDocument(engine) };
    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: metadata("bot3-engine-config"), data: configData },
      childOpts,
    );

    const exchangeSecretKeys = engine.exchanges.flatMap((exchange) =>
      credentialKeys(exchange, args.exchangeCredentials[exchange]),
    );
    const exchangeSecret =
      engine.exchanges.length === 0
        ? undefined
        : new k8s.core.v1.Secret(
            `${name}-exchange-credentials`,
            {
              metadata: metadata("bot3-engine-exchange-credentials"),
              type: "Opaque",
              stringData: exchangeSecretData(engine.exchanges, args.exchangeCredentials),
            },
            childOpts,
          );

    const priorityClass = new k8s.scheduling.v1.PriorityClass(
      `${name}-priority`,
      {
        metadata: { name: "bot3-engine", labels: { ...engineLabels } },
        value: 100000,
        globalDefault: false,
        preemptionPolicy: "PreemptLowerPriority",
        description: "The Bot3 trading engine: scheduled ahead of batch and tooling pods.",
      },
      childOpts,
    );

    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: metadata("bot3-engine"),
        spec: {
          // No replicas: the HorizontalPodAutoscaler owns the count, and a declared one would
          // reset it on every update.
          selector: { matchLabels: { ...engineLabels } },
          revisionHistoryLimit: 5,
          minReadySeconds: 10,
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: {
              labels: { ...engineLabels },
              annotations: { "bot3.io/config-sha256": sha256(JSON.stringify(configData)) },
            },
            spec: enginePodSpec({
              engine,
              image,
              labels: { ...engineLabels },
              serviceAccountName: serviceAccount.metadata.name,
              priorityClassName: priorityClass.metadata.name,
              configMapName: configMap.metadata.name,
              exchangeCredentialsSecretName: exchangeSecret?.metadata.name,
              exchangeSecretKeys,
              dataStoreSecrets: args.dataStoreSecrets ?? defaultDataStoreSecrets,
              engineNodes: args.engineNodes,
            }),
          },
        },
      },
      childOpts,
    );

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: metadata("bot3-engine"),
        spec: {
          type: "ClusterIP",
          selector: { ...engineLabels },
          ports: [
            { name: this.httpPortName, port: engine.httpPort, targetPort: "http" },
            { name: "metrics", port: engine.metricsPort, targetPort: "metrics" },
          ],
        },
      },
      childOpts,
    );
    this.serviceName = service.metadata.name;

    new k8s.autoscaling.v2.HorizontalPodAutoscaler(
      `${name}-autoscaler`,
      {
        metadata: metadata("bot3-engine"),
        spec: {
          scaleTargetRef: {
            apiVersion: "apps/v1",
            kind: "Deployment",
            name: this.deployment.metadata.name,
          },
          minReplicas: engine.minReplicas,
          maxReplicas: engine.maxReplicas,
          metrics: [
            utilisationTarget("cpu", engine.targetCpuUtilization),
            utilisationTarget("memory", engine.targetMemoryUtilization),
          ],
          behavior: {
            scaleDown: {
              stabilizationWindowSeconds: engine.scaleDownStabilizationSeconds,
              // One pod a minute, so open positions move to the remaining pods gradually.
              policies: [{ type: "Pods", value: 1, periodSeconds: 60 }],
            },
          },
        },
      },
      childOpts,
    );

    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-disruption-budget`,
      {
        metadata: metadata("bot3-engine"),
        spec: {
          // maxUnavailable rather than minAvailable: with one replica a node can still drain.
          maxUnavailable: 1,
          selector: { matchLabels: { ...engineLabels } },
          unhealthyPodEvictionPolicy: "AlwaysAllow",
        },
      },
      childOpts,
    );

    this.registerOutputs({ serviceName: this.serviceName });
  }
}

/** The ConfigMap's document: the settings' free-form config plus what the platform decides. */
export function engineConfigDocument(engine: EngineSettings): string {
  const sorted = Object.fromEntries(
    Object.entries(engine.config).sort(([a], [b]) => a.localeCompare(b)),
  );
  return JSON.stringify(
    {
      exchanges: engine.exchanges,
      ports: { http: engine.httpPort, metrics: engine.metricsPort },
      // A directory of files `<exchange>/apiKey`, `<exchange>/apiSecret` (and `passphrase`).
      exchangeCredentialsDir: enginePaths.exchangeCredentials,
      settings: sorted,
    },
    null,
    2,
  );
}

/** Throws when an image reference does not pin what runs. */
export function checkImage(ref: string, allowTagOnly: boolean): void {
  const pin = imagePin(ref);
  if (pin === "digest" || (pin === "tag" && allowTagOnly)) return;
  const problem = pin === "tag" ? "pinned by tag only" : "not pinned";
  throw new Error(
    `TradingEngine image ${JSON.stringify(ref)} is ${problem}; ` +
      "pass repo@sha256:<digest> (set bot3:image.ref, or let the image build supply it)",
  );
}

function credentialKeys(exchange: string, credential: ExchangeCredential | undefined): string[] {
  if (credential === undefined) {
    throw new Error(
      `TradingEngine: bot3:engine.exchanges lists ${exchange}, but no credential was passed; ` +
        `set bot3:exchangeCredentials.${exchange}.apiKey and .apiSecret as secrets`,
    );
  }
  const fields = ["apiKey", "apiSecret", ...(credential.passphrase ? ["passphrase"] : [])];
  return fields.map((field) => `${exchange}.${field}`);
}

function exchangeSecretData(
  exchanges: string[],
  credentials: Record<string, ExchangeCredential>,
): Record<string, pulumi.Output<string>> {
  const entries: [string, pulumi.Output<string>][] = [];
  for (const exchange of exchanges) {
    const { apiKey, apiSecret, passphrase } = credentials[exchange];
    entries.push([`${exchange}.apiKey`, pulumi.secret(apiKey)]);
    entries.push([`${exchange}.apiSecret`, pulumi.secret(apiSecret)]);
    if (passphrase) entries.push([`${exchange}.passphrase`, pulumi.secret(passphrase)]);
  }
  return Object.fromEntries(entries);
}

function utilisationTarget(resource: "cpu" | "memory", percent: number) {
  return {
    type: "Resource",
    resource: { name: resource, target: { type: "Utilization", averageUtilization: percent } },
  };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
