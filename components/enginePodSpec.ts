import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { EngineSettings } from "../settings";
import type { DedicatedNodes } from "./clusterAccess";

type PodSpec = k8s.types.input.core.v1.PodSpec;
type Container = k8s.types.input.core.v1.Container;
type EnvVar = k8s.types.input.core.v1.EnvVar;

/** Where the engine finds what the platform hands it, inside its container. */
export const enginePaths = {
  config: "/etc/bot3",
  configFile: "/etc/bot3/engine.json",
  exchangeCredentials: "/var/run/secrets/bot3/exchanges",
  tmp: "/tmp",
} as const;

/** The non-root identity the engine runs as: the image's own user (docker/engine/Dockerfile). */
export const engineUser = { uid: 65532, gid: 65532 } as const;

/** Names of the Secrets that the data-store components create for the engine. */
export interface DataStoreSecretNames {
  /** Keys: host, port, user, password, database, sslmode. */
  postgres: string;
  /** Keys: host, port; optionally password and tls. */
  redis: string;
}

export interface EnginePodInputs {
  engine: EngineSettings;
  image: pulumi.Input<string>;
  labels: Record<string, string>;
  serviceAccountName: pulumi.Input<string>;
  priorityClassName: pulumi.Input<string>;
  configMapName: pulumi.Input<string>;
  /** Secret with `<exchange>.apiKey` etc.; absent when the engine trades on no exchange. */
  exchangeCredentialsSecretName?: pulumi.Input<string>;
  exchangeSecretKeys: string[];
  dataStoreSecrets: DataStoreSecretNames;
  engineNodes?: DedicatedNodes;
}

/**
 * The engine's pod: hardened to the `restricted` Pod Security profile, with its configuration
 * and credentials mounted read-only and nothing secret in a literal environment variable.
 */
export function enginePodSpec(inputs: EnginePodInputs): PodSpec {
  const { engine } = inputs;
  const volumes: k8s.types.input.core.v1.Volume[] = [
    { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
    { name: "config", configMap: { name: inputs.configMapName } },
  ];
  const mounts: k8s.types.input.core.v1.VolumeMount[] = [
    { name: "tmp", mountPath: enginePaths.tmp },
    { name: "config", mountPath: enginePaths.config, readOnly: true },
  ];
  if (inputs.exchangeCredentialsSecretName !== undefined) {
    volumes.push({
      name: "exchange-credentials",
      secret: {
        secretName: inputs.exchangeCredentialsSecretName,
        // Owner and group read only: the pod's fsGroup owns the files, nobody else reads them.
        defaultMode: 0o440,
        items: inputs.exchangeSecretKeys.map((key) => ({ key, path: key.replace(".", "/") })),
      },
    });
    mounts.push({
      name: "exchange-credentials",
      mountPath: enginePaths.exchangeCredentials,
      readOnly: true,
    });
  }

  const container: Container = {
    name: "engine",
    image: inputs.image,
    imagePullPolicy: "IfNotPresent",
    ports: [
      { name: "http", containerPort: engine.httpPort, protocol: "TCP" },
      { name: "metrics", containerPort: engine.metricsPort, protocol: "TCP" },
    ],
    env: [
      { name: "BOT3_CONFIG_FILE", value: enginePaths.configFile },
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      ...dataStoreEnv(inputs.dataStoreSecrets),
    ],
    volumeMounts: mounts,
    resources: engineResources(engine),
    // Startup allows a slow first connection to the exchanges without liveness killing the pod.
    startupProbe: httpProbe("/livez", { periodSeconds: 5, failureThreshold: 36 }),
    livenessProbe: httpProbe("/livez", { periodSeconds: 10, failureThreshold: 3 }),
    readinessProbe: httpProbe("/readyz", { periodSeconds: 5, failureThreshold: 2 }),
    // Limitation: the sleep action needs Kubernetes 1.30 or later (beta, on by default).
    ...(engine.preStopSleepSeconds > 0
      ? { lifecycle: { preStop: { sleep: { seconds: engine.preStopSleepSeconds } } } }
      : {}),
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    },
  };

  return {
    serviceAccountName: inputs.serviceAccountName,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    priorityClassName: inputs.priorityClassName,
    terminationGracePeriodSeconds: engine.terminationGracePeriodSeconds,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: engineUser.uid,
      runAsGroup: engineUser.gid,
      fsGroup: engineUser.gid,
      seccompProfile: { type: "RuntimeDefault" },
    },
    topologySpreadConstraints: spreadConstraints(engine, inputs.labels),
    ...placementOn(inputs.engineNodes),
    containers: [container],
    volumes,
  };

  function httpProbe(path: string, timing: { periodSeconds: number; failureThreshold: number }) {
    // The engine serves its health endpoints on its API port (docker/engine/README.md).
    return { httpGet: { path, port: "http" }, timeoutSeconds: 2, ...timing };
  }
}

/** Requests and limits; Guaranteed QoS sets requests to the (whole-CPU) limits. */
export function engineResources(engine: EngineSettings) {
  return {
    requests: engine.guaranteedQos ? { ...engine.limits } : { ...engine.requests },
    limits: { ...engine.limits },
  };
}

function dataStoreEnv(secrets: DataStoreSecretNames): EnvVar[] {
  const fromSecret = (name: string, secret: string, key: string, optional = false): EnvVar => ({
    name,
    valueFrom: { secretKeyRef: { name: secret, key, ...(optional ? { optional } : {}) } },
  });
  // libpq's own variable names, so any PostgreSQL driver picks the connection up unchanged.
  return [
    fromSecret("PGHOST", secrets.postgres, "host"),
    fromSecret("PGPORT", secrets.postgres, "port"),
    fromSecret("PGUSER", secrets.postgres, "user"),
    fromSecret("PGPASSWORD", secrets.postgres, "password"),
    fromSecret("PGDATABASE", secrets.postgres, "database"),
    fromSecret("PGSSLMODE", secrets.postgres, "sslmode"),
    fromSecret("REDIS_HOST", secrets.redis, "host"),
    fromSecret("REDIS_PORT", secrets.redis, "port"),
    fromSecret("REDIS_PASSWORD", secrets.redis, "password", true),
    fromSecret("REDIS_TLS", secrets.redis, "tls", true),
  ];
}

function spreadConstraints(engine: EngineSettings, labels: Record<string, string>) {
  const common = {
    maxSkew: 1,
    labelSelector: { matchLabels: labels },
    // Only pods of the same rollout count, so a surge pod is not placed against old ones.
    matchLabelKeys: ["pod-template-hash"],
  };
  return [
    {
      ...common,
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable: engine.zoneSpread === "required" ? "DoNotSchedule" : "ScheduleAnyway",
    },
    { ...common, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway" },
  ];
}

function placementOn(nodes: DedicatedNodes | undefined): Partial<PodSpec> {
  if (nodes === undefined) return {};
  return {
    tolerations: [{ ...nodes.taint, operator: "Equal" }],
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: Object.entries(nodes.labels).map(([key, value]) => ({
                key,
                operator: "In",
                values: [value],
              })),
            },
          ],
        },
      },
    },
  };
}
