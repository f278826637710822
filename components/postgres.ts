import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { DatabaseSettings } from "../settings";
import { postgresConnectionSecret, postgresConnectionSecretName } from "./storeConnection";
import {
  backupSelector,
  engineSelector,
  restrictedContainerSecurity,
  restrictedPodSecurity,
  storeEndpoints,
  postgresSelector,
} from "./storeSecurity";
import {
  claimTemplate,
  dataVolumeName,
  immutableClaimTemplateFields,
  replicaClaim,
} from "./storeVolume";

/** User and group of the official postgres image (Debian variant). */
const postgresUid = 999;
/** postgres_exporter; the image runs as nobody. */
export const postgresExporterImage = "quay.io/prometheuscommunity/postgres-exporter:v0.17.1";
const exporterUid = 65534;
export const postgresPort = 5432;
export const postgresMetricsPort = 9187;

export interface InClusterPostgresArgs {
  /**
   * `version` is the tag of the official `postgres` image (a full version such as 16.6);
   * `name` and `user` are created on first start; `storageSize`, `requests` and `limits`
   * size the server. The other fields only apply to RDS.
   */
  settings: DatabaseSettings;
  /** Namespace of the engine; the server, its Secret and its policies live there too. */
  namespace: pulumi.Input<string>;
  /** StorageClass of the data volume; "" means the cluster's default class. */
  storageClass: string;
  /**
   * Protects the volume and the password from deletion (`protect`, `retainOnDelete`), so that
   * destroying the stack leaves the data behind. Off: the stack tears down completely.
   */
  dataProtection: boolean;
  /** The cluster's provider. */
  provider: k8s.Provider;
}

/**
 * A single PostgreSQL server as a StatefulSet from the official image, with a
 * postgres_exporter sidecar, reachable only by the engine, the backup job and Prometheus.
 * Limitation: one replica, no streaming replication; a node loss means downtime until the
 * volume reattaches. Production runs on RDS Multi-AZ instead.
 */
export class InClusterPostgres extends pulumi.ComponentResource {
  /** Name of the Secret with host, port, user, password, database and sslmode. */
  readonly connectionSecretName: pulumi.Output<string>;
  /** DNS name of the server inside the cluster. */
  readonly host: pulumi.Output<string>;

  constructor(name: string, args: InClusterPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:data:InClusterPostgres", name, {}, opts);
    const childOpts = { parent: this, provider: args.provider };
    const stateOpts = {
      ...childOpts,
      protect: args.dataProtection,
      retainOnDelete: args.dataProtection,
    };
    const { settings, namespace } = args;
    const objectName = "bot3-postgres";
    const labels = {
      "app.kubernetes.io/name": objectName,
      "app.kubernetes.io/component": "database",
      "app.kubernetes.io/part-of": "bot3",
    };
    const selector = postgresSelector;

    const password = new random.RandomPassword(
      `${name}-password`,
      { length: 32, special: false },
      { parent: this, protect: args.dataProtection },
    );
    this.host = pulumi.interpolate`${objectName}.${namespace}.svc`;
    const secret = postgresConnectionSecret(
      `${name}-connection`,
      namespace,
      {
        host: this.host,
        port: postgresPort,
        user: settings.user,
        password: password.result,
        database: settings.name,
        // The server has no certificate; the NetworkPolicy below is what guards the traffic.
        sslmode: "disable",
      },
      childOpts,
    );
    this.connectionSecretName = secret.metadata.name;

    storeEndpoints(
      name,
      objectName,
      {
        namespace,
        labels,
        storeLabels: selector,
        portName: "postgres",
        port: postgresPort,
        metricsPort: postgresMetricsPort,
        clients: [engineSelector, backupSelector],
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
    const fromSecret = (key: string) => ({
      secretKeyRef: { name: postgresConnectionSecretName, key },
    });
    const isReady = {
      exec: {
        command: ["pg_isready", "-h", "127.0.0.1", "-U", settings.user, "-d", settings.name],
      },
    };

    new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: { name: objectName, namespace, labels },
        spec: {
          serviceName: objectName,
          replicas: 1,
          selector: { matchLabels: selector },
          // Pulumi owns the claim (see storeVolume.ts); the controller must never delete it.
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
          volumeClaimTemplates: [claimTemplate(volume)],
          template: {
            metadata: { labels },
            spec: {
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              securityContext: restrictedPodSecurity(postgresUid),
              // A fast shutdown finishes well within this; a kill would force crash recovery.
              terminationGracePeriodSeconds: 60,
              containers: [
                {
                  name: "postgres",
                  image: `postgres:${settings.version}`,
                  ports: [{ name: "postgres", containerPort: postgresPort }],
                  env: [
                    { name: "POSTGRES_USER", value: settings.user },
                    { name: "POSTGRES_DB", value: settings.name },
                    { name: "POSTGRES_PASSWORD", valueFrom: fromSecret("password") },
                    // A subdirectory, because the volume's root may hold lost+found.
                    { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
                  ],
                  securityContext: restrictedContainerSecurity(),
                  resources: { requests: settings.requests, limits: settings.limits },
                  startupProbe: { ...isReady, periodSeconds: 5, failureThreshold: 60 },
                  readinessProbe: { ...isReady, periodSeconds: 10, timeoutSeconds: 5 },
                  livenessProbe: {
                    ...isReady,
                    periodSeconds: 20,
                    timeoutSeconds: 5,
                    failureThreshold: 6,
                  },
                  volumeMounts: [
                    { name: dataVolumeName, mountPath: "/var/lib/postgresql/data" },
                    { name: "run", mountPath: "/var/run/postgresql" },
                    { name: "tmp", mountPath: "/tmp" },
                    { name: "shm", mountPath: "/dev/shm" },
                  ],
                },
                {
                  name: "exporter",
                  image: postgresExporterImage,
                  ports: [{ name: "metrics", containerPort: postgresMetricsPort }],
                  env: [
                    {
                      name: "DATA_SOURCE_URI",
                      value: `127.0.0.1:${postgresPort}/${settings.name}?sslmode=disable`,
                    },
                    { name: "DATA_SOURCE_USER", valueFrom: fromSecret("user") },
                    { name: "DATA_SOURCE_PASS", valueFrom: fromSecret("password") },
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
                { name: "run", emptyDir: { sizeLimit: "16Mi" } },
                { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
                // PostgreSQL's dynamic shared memory; the runtime's default /dev/shm is 64Mi.
                { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "256Mi" } },
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
