import { strict as assert } from "node:assert";
import { kubernetesObject, resource, runStack, type ProgramRun } from "./harness";
import { allContainers, containerNamed, podSpecOf, runOnEks } from "./dataStoreRuns";

type NetworkPolicySpec = {
  podSelector: { matchLabels: Record<string, string> };
  policyTypes: string[];
  ingress: {
    from: {
      podSelector?: { matchLabels: Record<string, string> };
      namespaceSelector?: { matchLabels: Record<string, string> };
    }[];
    ports: { port: number }[];
  }[];
};
type ClaimTemplate = {
  spec: { storageClassName?: string; resources: { requests: { storage: string } } };
};

const stores = [
  { name: "bot3-postgres", image: /^postgres:\d+\.\d+$/, port: 5432, metricsPort: 9187 },
  { name: "bot3-redis", image: /^redis:\d+\.\d+\.\d+$/, port: 6379, metricsPort: 9121 },
];

describe("In-cluster data stores", () => {
  let local: ProgramRun;
  before(async () => {
    local = await runStack("local");
  });

  for (const store of stores) {
    describe(store.name, () => {
      const statefulSet = () => kubernetesObject(local, "StatefulSet", store.name);

      it("runs the official image pinned to a full version", () => {
        const image = containerNamed(podSpecOf(statefulSet()), store.name.slice(5)).image;
        assert.match(String(image), store.image);
      });

      it("runs as the image's numeric non-root user 999 with fsGroup and RuntimeDefault seccomp", () => {
        const security = podSpecOf(statefulSet()).securityContext;
        assert.deepEqual(
          {
            runAsNonRoot: security?.runAsNonRoot,
            runAsUser: security?.runAsUser,
            runAsGroup: security?.runAsGroup,
            fsGroup: security?.fsGroup,
            seccomp: security?.seccompProfile?.type,
          },
          {
            runAsNonRoot: true,
            runAsUser: 999,
            runAsGroup: 999,
            fsGroup: 999,
            seccomp: "RuntimeDefault",
          },
        );
      });

      it("locks down every container: read-only root, no escalation, no capabilities", () => {
        for (const container of allContainers(podSpecOf(statefulSet()))) {
          const security = container.securityContext;
          assert.equal(security?.readOnlyRootFilesystem, true, container.name);
          assert.equal(security?.allowPrivilegeEscalation, false, container.name);
          assert.deepEqual(security?.capabilities, { drop: ["ALL"] }, container.name);
        }
      });

      it("gives every container cpu and memory requests and limits, and probes", () => {
        for (const container of allContainers(podSpecOf(statefulSet()))) {
          const resources = container.resources;
          for (const kind of ["requests", "limits"] as const) {
            assert.ok(
              resources?.[kind]?.cpu && resources[kind]?.memory,
              `${container.name} ${kind}`,
            );
          }
          assert.ok(container.livenessProbe, `${container.name} liveness`);
          assert.ok(container.readinessProbe, `${container.name} readiness`);
        }
      });

      it("does not mount a service account token", () => {
        assert.equal(podSpecOf(statefulSet()).automountServiceAccountToken, false);
      });

      it("has a headless Service for the StatefulSet", () => {
        const service = kubernetesObject(local, "Service", store.name);
        const spec = service.inputs.spec as { clusterIP: string; ports: { port: number }[] };
        assert.equal(spec.clusterIP, "None");
        assert.equal(spec.ports[0].port, store.port);
        assert.equal(
          (statefulSet().inputs.spec as { serviceName: string }).serviceName,
          store.name,
        );
      });

      it("serves exporter metrics on a port named metrics, through a Service labelled metrics", () => {
        const exporter = containerNamed(podSpecOf(statefulSet()), "exporter");
        assert.match(String(exporter.image), /:v\d+\.\d+\.\d+$/);
        assert.deepEqual(exporter.ports, [{ name: "metrics", containerPort: store.metricsPort }]);
        const service = kubernetesObject(local, "Service", `${store.name}-metrics`);
        const metadata = service.inputs.metadata as { labels: Record<string, string> };
        assert.equal(metadata.labels["app.kubernetes.io/component"], "metrics");
        const spec = service.inputs.spec as { ports: { name: string; port: number }[] };
        assert.deepEqual(
          spec.ports.map((p) => [p.name, p.port]),
          [["metrics", store.metricsPort]],
        );
      });

      it("admits Prometheus from the monitoring namespace to the metrics port only", () => {
        const policy = kubernetesObject(local, "NetworkPolicy", store.name);
        const spec = policy.inputs.spec as NetworkPolicySpec;
        const scrape = spec.ingress.find((rule) => rule.from.some((f) => f.namespaceSelector));
        assert.deepEqual(scrape?.from, [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
          },
        ]);
        assert.deepEqual(
          scrape?.ports.map((p) => p.port),
          [store.metricsPort],
        );
        assert.deepEqual(spec.policyTypes, ["Ingress", "Egress"]);
      });
    });
  }

  it("admits only the engine and the backup job to PostgreSQL", () => {
    const spec = kubernetesObject(local, "NetworkPolicy", "bot3-postgres").inputs
      .spec as NetworkPolicySpec;
    const clients = spec.ingress.find((rule) => rule.ports[0].port === 5432);
    assert.deepEqual(
      clients?.from.map((f) => f.podSelector?.matchLabels["app.kubernetes.io/name"]),
      ["bot3-engine", "bot3-postgres-backup"],
    );
    assert.equal(spec.ingress.length, 2);
  });

  it("admits only the engine to Redis", () => {
    const spec = kubernetesObject(local, "NetworkPolicy", "bot3-redis").inputs
      .spec as NetworkPolicySpec;
    const clients = spec.ingress.find((rule) => rule.ports[0].port === 6379);
    assert.deepEqual(
      clients?.from.map((f) => f.podSelector?.matchLabels["app.kubernetes.io/name"]),
      ["bot3-engine"],
    );
  });

  it("gives PostgreSQL writable emptyDirs for its socket directory and /tmp only", () => {
    const pod = podSpecOf(kubernetesObject(local, "StatefulSet", "bot3-postgres"));
    const mounts = containerNamed(pod, "postgres").volumeMounts as {
      name: string;
      mountPath: string;
    }[];
    const paths = Object.fromEntries(mounts.map((m) => [m.mountPath, m.name]));
    assert.equal(paths["/var/run/postgresql"], "run");
    assert.equal(paths["/tmp"], "tmp");
    assert.equal(paths["/var/lib/postgresql/data"], "data");
    const volumes = pod.volumes as { name: string; emptyDir?: object }[];
    for (const name of ["run", "tmp"]) {
      assert.ok(volumes.find((v) => v.name === name)?.emptyDir, name);
    }
  });

  it("requires a Redis password, persists with the append-only file, and never evicts", () => {
    const config = kubernetesObject(local, "Secret", "bot3-redis-config");
    const text = (config.inputs.stringData as Record<string, string>)["redis.conf"];
    const password = resource(
      local,
      "random:index/randomPassword:RandomPassword",
      "bot3-data-redis-password",
    );
    assert.ok(password, "the password comes from a RandomPassword");
    assert.match(text, /^requirepass offline-random-password-bot3-data-redis-password/m);
    assert.match(text, /^appendonly yes$/m);
    assert.match(text, /^maxmemory-policy noeviction$/m);
    assert.equal(config.maskedInputs.stringData, "[secret]");
  });

  it("writes connection Secrets the engine reads, with TLS off in the cluster", () => {
    const postgres = kubernetesObject(local, "Secret", "bot3-postgres-connection");
    const values = postgres.inputs.stringData as Record<string, string>;
    assert.deepEqual(Object.keys(values).sort(), [
      "database",
      "host",
      "password",
      "port",
      "sslmode",
      "user",
    ]);
    assert.deepEqual(
      { host: values.host, port: values.port, sslmode: values.sslmode, database: values.database },
      { host: "bot3-postgres.bot3.svc", port: "5432", sslmode: "disable", database: "bot3" },
    );
    const redis = kubernetesObject(local, "Secret", "bot3-redis-connection");
    const redisValues = redis.inputs.stringData as Record<string, string>;
    assert.deepEqual(Object.keys(redisValues).sort(), ["host", "password", "port", "tls"]);
    assert.equal(redisValues.tls, "false");
    for (const secret of [postgres, redis]) {
      assert.equal(secret.maskedInputs.stringData, "[secret]");
      assert.equal((secret.inputs.metadata as { namespace: string }).namespace, "bot3");
    }
  });

  it("leaves storageClassName unset when the retain class is the cluster default", () => {
    const spec = kubernetesObject(local, "StatefulSet", "bot3-postgres").inputs.spec as {
      volumeClaimTemplates: ClaimTemplate[];
    };
    assert.equal("storageClassName" in spec.volumeClaimTemplates[0].spec, false);
  });

  it("claims volumes on the cluster's retain class", async () => {
    const staging = await runOnEks("staging");
    for (const name of ["bot3-postgres", "bot3-redis"]) {
      const spec = kubernetesObject(staging, "StatefulSet", name).inputs.spec as {
        volumeClaimTemplates: ClaimTemplate[];
      };
      assert.equal(spec.volumeClaimTemplates[0].spec.storageClassName, "gp3-retain", name);
      const claim = kubernetesObject(staging, "PersistentVolumeClaim", `data-${name}-0`);
      assert.equal((claim.inputs.spec as ClaimTemplate["spec"]).storageClassName, "gp3-retain");
    }
  });
});
