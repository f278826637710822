import { createHash } from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { CacheSettings } from "../settings";
import { parseMemoryBytes } from "../settings/formats";
import { redisConnectionSecret, redisConnectionSecretName } from "./storeConnection";
import {
  engineSelector,
  restrictedContainerSecurity,
  restrictedPodSecurity,
  storeEndpoints,
  redisSelector,
} from "./storeSecurity";
import {
  claimTemplate,
  dataVolumeName,
  immutableClaimTemplateFields,
  replicaClaim,
} from "./storeVolume";

/** User and group of the official redis image. */
const redisUid = 999;
export const redisExporterImage = "oliver006/redis_exporter:v1.67.0";
const exporterUid = 65534;
export const redisPort = 6379;
export const redisMetricsPort = 9121;
/** Share of the container's memory limit that Redis may fill; the rest is for AOF rewrites. */
const maxMemoryShare = 0.75;

export interface InClusterRedisArgs {
  /**
   * `version` is the tag of the official `redis` image (a full version such as 7.2.7);
   * `storageSize`, `requests` and `limits` size the server. The other fields only apply to
   * ElastiCache.
   */
  settings: CacheSettings;
  /** Namespace of the engine; the server, its Secrets and its policies live there too. */
  namespace: pulumi.Input<string>;
  /** StorageClass of the data volume; "" means the cluster's default class. */
  storageClass: string;
  /** Protects the volume and the password from deletion; off lets the stack tear down. */
  dataProtection: boolean;
  /** The cluster's provider. */
  provider: k8s.Provider;
}

/**
 * A single Redis server as a StatefulSet from the official image: a password is required,
 * writes are persisted with the append-only file, and a redis_exporter sidecar serves metrics.
 * Memory is never evicted: the engine's hot state must fail loudly rather than vanish.
 */
export class InClusterRedis extends pulumi.ComponentResource {
  /** Name of the Secret with host, port, password and tls. */
  readonly connectionSecretName: pulumi.Output<string>;
  /** DNS name of the server inside the cluster. */
  readonly host: pulumi.Output<string>;

  constructor(name: string, args: InClusterRedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:data:InClusterRedis", name, {}, opts);
    const childOpts = { parent: this, provider: args.provider };
    const stateOpts = {
      ...childOpts,
      protect: args.dataProtection,
      retainOnDelete: args.dataProtection,
    };
    const { settings, namespace } = args;
    const objectName = "bot3-redis";
    const labels = {
      "app.kubernetes.io/name": objectName,
      "app.kubernetes.io/component": "cache",
      "app.kubernetes.io/part-of": "bot3",
    };
    const selector = redisSelector;

    const password = new random.RandomPassword(
      `${name}-password`,
      { length: 32, special: false },
      { parent: this, protect: args.dataProtection },
    );
    this.host = pulumi.interpolate`${objectName}.${namespace}.svc`;
    const secret = redisConnectionSecret(
      `${name}-connection`,
      namespace,
      { host: this.host, port: redisPort, password: password.result, tls: false },
      childOpts,
    );
    this.connectionSecretName = secret.metadata.name;

    // The password is part of the server's configuration, so the file is a Secret, not a
    // ConfigMap; it also keeps the password out of the process's command line.
    const configText = password.result.apply((p) =>
      serverConfig(p, maxMemoryBytes(settings.limits.memory)),
    );
    // A digest of a file that holds a random password says nothing about the password.
    const configDigest = pulumi.unsecret(
      configText.apply((text) => createHash("sha256").update(text).digest("hex")),
    );
    const config = new k8s.core.v1.Secret(
      `${name}-config`,
      {
        metadata: { name: `${objectName}-config`, namespace, labels },
        type: "Opaque",
        stringData: {
          "redis.conf": pulumi.secret(configText),
        },
      },
      childOpts,
    );

    storeEndpoints(
      name,
      objectName,
      {
        namespace,
        labels,
        storeLabels: selector,
        portName: "redis",
        port: redisPort,
        metricsPort: redisMetricsPort,
        clients: [engineSelector],
      },
      childOpts,
    );

    const volume = {
      namespace,
      statefulSetName: objectName,
      labels,
      size: settings.storageSize,
      storageClass: args.storageClass,
    };
    const claim = replicaClaim(`${name}-data`, volume, stateOpts);
    const passwordRef = { secretKeyRef: { name: redisConnectionSecretName, key: "password" } };
    const answersPing = {
      exec: { command: ["sh", "-c", "redis-cli -h 127.0.0.1 ping | grep -q PONG"] },
    };

    new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: { name: objectName, namespace, labels },
        spec: {
          serviceName: objectName,
          replicas: 1,
          selector: { matchLabels: selector },
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
          volumeClaimTemplates: [claimTemplate(volume)],
          template: {
            metadata: {
              labels,
              // A new password or memory limit must restart Redis, which reads its file once.
              annotations: { "bot3.io/config-sha256": configDigest },
            },
            spec: {
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              securityContext: restrictedPodSecurity(redisUid),
              terminationGracePeriodSeconds: 30,
              containers: [
                {
                  name: "redis",
                  image: `redis:${settings.version}`,
                  command: ["redis-server", "/etc/redis/redis.conf"],
                  ports: [{ name: "redis", containerPort: redisPort }],
                  // redis-cli reads the password from here, so probes need no argument.
                  env: [{ name: "REDISCLI_AUTH", valueFrom: passwordRef }],
                  securityContext: restrictedContainerSecurity(),
                  resources: { requests: settings.requests, limits: settings.limits },
                  // While Redis replays a long append-only file it answers LOADING, not PONG.
                  startupProbe: { ...answersPing, periodSeconds: 5, failureThreshold: 120 },
                  readinessProbe: { ...answersPing, periodSeconds: 10, timeoutSeconds: 5 },
                  livenessProbe: { tcpSocket: { port: "redis" }, periodSeconds: 20 },
                  volumeMounts: [
                    { name: dataVolumeName, mountPath: "/data" },
                    { name: "config", mountPath: "/etc/redis", readOnly: true },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                },
                {
                  name: "exporter",
                  image: redisExporterImage,
                  ports: [{ name: "metrics", containerPort: redisMetricsPort }],
                  env: [
                    { name: "REDIS_ADDR", value: `redis://127.0.0.1:${redisPort}` },
                    { name: "REDIS_PASSWORD", valueFrom: passwordRef },
                  ],
                  securityContext: restrictedContainerSecurity(exporterUid),
                  resources: {
                    requests: { cpu: "20m", memory: "32Mi" },
                    limits: { cpu: "200m", memory: "128Mi" },
                  },
                  readinessProbe: { tcpSocket: { port: "metrics" }, periodSeconds: 10 },
                  livenessProbe: { tcpSocket: { port: "metrics" }, periodSeconds: 20 },
                },
              ],
              volumes: [
                {
                  name: "config",
                  secret: { secretName: config.metadata.name, defaultMode: 0o440 },
                },
                { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
              ],
            },
          },
        },
      },
      {
        ...stateOpts,
        ignoreChanges: immutableClaimTemplateFields,
        // The pod must find its claim already there, or the controller would create its own.
        dependsOn: [claim, secret],
      },
    );
    this.registerOutputs({ connectionSecretName: this.connectionSecretName, host: this.host });
  }
}

function maxMemoryBytes(limit: string): number {
  return Math.floor((parseMemoryBytes(limit) ?? 0) * maxMemoryShare);
}

/** The server's configuration file; a password is required and every write goes to the AOF. */
export function serverConfig(password: string, maxMemory: number): string {
  return [
    "bind * -::*",
    `port ${redisPort}`,
    "dir /data",
    "appendonly yes",
    "appendfsync everysec",
    `maxmemory ${maxMemory}`,
    "maxmemory-policy noeviction",
    `requirepass ${password}`,
    "",
  ].join("\n");
}
