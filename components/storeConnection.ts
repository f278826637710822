import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

// The engine finds its data stores through these Secrets, by name, whether a store runs in the
// cluster or in AWS; their keys are the contract with the engine's Deployment.

/** Secret with PostgreSQL's host, port, user, password, database and sslmode. */
export const postgresConnectionSecretName = "bot3-postgres-connection";
/** Secret with Redis's host, port, password and tls ("true"/"false"). */
export const redisConnectionSecretName = "bot3-redis-connection";

/** Where a PostgreSQL database lives and how to log in. */
export interface PostgresConnection {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  user: pulumi.Input<string>;
  password: pulumi.Input<string>;
  database: pulumi.Input<string>;
  /** libpq's sslmode: `require` for RDS, `disable` for the in-cluster server. */
  sslmode: "require" | "disable";
}

/** Where a Redis server lives and how to log in. */
export interface RedisConnection {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  password: pulumi.Input<string>;
  tls: boolean;
}

/** Declares the connection Secret of a PostgreSQL database; every value is a secret. */
export function postgresConnectionSecret(
  name: string,
  namespace: pulumi.Input<string>,
  connection: PostgresConnection,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  return connectionSecret(
    name,
    namespace,
    postgresConnectionSecretName,
    {
      host: connection.host,
      port: pulumi.output(connection.port).apply(String),
      user: connection.user,
      password: connection.password,
      database: connection.database,
      sslmode: connection.sslmode,
    },
    opts,
  );
}

/** Declares the connection Secret of a Redis server; without ACLs there is no username key. */
export function redisConnectionSecret(
  name: string,
  namespace: pulumi.Input<string>,
  connection: RedisConnection,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  return connectionSecret(
    name,
    namespace,
    redisConnectionSecretName,
    {
      host: connection.host,
      port: pulumi.output(connection.port).apply(String),
      password: connection.password,
      tls: String(connection.tls),
    },
    opts,
  );
}

function connectionSecret(
  name: string,
  namespace: pulumi.Input<string>,
  objectName: string,
  values: Record<string, pulumi.Input<string>>,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  return new k8s.core.v1.Secret(
    name,
    {
      metadata: {
        name: objectName,
        namespace,
        labels: { "app.kubernetes.io/part-of": "bot3" },
      },
      type: "Opaque",
      stringData: pulumi.secret(pulumi.output(values)),
    },
    opts,
  );
}
