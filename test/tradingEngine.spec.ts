import { offlineSecretPrefixes } from "../tools/offline/mockCloud";
import { strict as assert } from "assert";
import * as path from "path";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment" with {
  "resolution-mode": "import",
};
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler" with {
  "resolution-mode": "import",
};
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget" with {
  "resolution-mode": "import",
};
import type { IService } from "kubernetes-models/v1/Service" with { "resolution-mode": "import" };
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount" with {
  "resolution-mode": "import",
};
import { checkImage, engineConfigDocument } from "../components/tradingEngine";
import { parseSettings } from "../settings";
import { schemaProblems } from "../tools/offline/kubernetesSchema";
import {
  kubernetesObject,
  resourcesOfType,
  runStack,
  settingsErrorFor,
  type ProgramRun,
} from "./harness";
import { engineNodes, engineRoleArn } from "./programs/engineNodeFixture";

const stacks = ["local", "staging", "production"];

/** A Kubernetes object's inputs, read as the schema's type (the mocks record untyped data). */
function objectOf<T>(run: ProgramRun, kind: string, name: string): T {
  return kubernetesObject(run, kind, name).inputs as unknown as T;
}
function deploymentOf(run: ProgramRun) {
  return objectOf<IDeployment>(run, "Deployment", "bot3-engine");
}
function autoscalerOf(run: ProgramRun) {
  return objectOf<IHorizontalPodAutoscaler>(run, "HorizontalPodAutoscaler", "bot3-engine");
}
function engineContainer(run: ProgramRun) {
  const containers = deploymentOf(run).spec?.template.spec?.containers ?? [];
  const engine = containers.find((c) => c.name === "engine");
  assert.ok(engine, `stack ${run.stack} has no engine container`);
  return engine;
}
function engineSettings(run: ProgramRun) {
  return parseSettings(run.config.values).engine;
}

describe("TradingEngine", () => {
  for (const stack of stacks) {
    describe(`on the ${stack} stack`, () => {
      let run: ProgramRun;
      before(async () => {
        run = await runStack(stack);
      });

      it("declares objects that the Kubernetes schema accepts", async () => {
        const engineObjects = run.resources.filter(
          (r) => r.type.startsWith("kubernetes:") && r.parent?.endsWith("::bot3-engine"),
        );
        assert.ok(engineObjects.length >= 8, "expected the engine's objects");
        for (const object of engineObjects) {
          assert.deepEqual(await schemaProblems(object.inputs), [], object.name);
        }
      });

      it("runs as a numeric non-root user under the RuntimeDefault seccomp profile", () => {
        const pod = deploymentOf(run).spec?.template.spec;
        assert.equal(pod?.securityContext?.runAsNonRoot, true);
        assert.ok((pod?.securityContext?.runAsUser ?? 0) > 0, "runAsUser must be non-zero");
        assert.ok((pod?.securityContext?.runAsGroup ?? 0) > 0, "runAsGroup must be non-zero");
        assert.ok((pod?.securityContext?.fsGroup ?? 0) > 0, "fsGroup must be non-zero");
        assert.deepEqual(pod?.securityContext?.seccompProfile, { type: "RuntimeDefault" });
        assert.equal(pod?.automountServiceAccountToken, false);
      });

      it("drops every capability and writes only to an emptyDir at /tmp", () => {
        const container = engineContainer(run);
        assert.deepEqual(container.securityContext?.capabilities, { drop: ["ALL"] });
        assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
        assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
        const tmp = container.volumeMounts?.find((m) => m.mountPath === "/tmp");
        const volume = deploymentOf(run).spec?.template.spec?.volumes?.find(
          (v) => v.name === tmp?.name,
        );
        assert.ok(volume?.emptyDir, "/tmp must be an emptyDir");
        const writable = (container.volumeMounts ?? []).filter((m) => m.readOnly !== true);
        assert.deepEqual(
          writable.map((m) => m.mountPath),
          ["/tmp"],
        );
      });

      it("runs the image by digest, or by tag only on the local stack", () => {
        const image = String(engineContainer(run).image);
        if (stack === "local") assert.match(image, /:[\w.-]+$/);
        else assert.match(image, /@sha256:[0-9a-f]{64}$/);
        assert.doesNotMatch(image, /:latest$/);
      });

      it("takes requests and limits from the settings", () => {
        const engine = engineSettings(run);
        const resources = engineContainer(run).resources;
        assert.deepEqual(resources?.limits, engine.limits);
        const requests = engine.guaranteedQos ? engine.limits : engine.requests;
        assert.deepEqual(resources?.requests, requests);
      });

      it("probes startup, liveness and readiness on the API port", () => {
        const container = engineContainer(run);
        const http = container.ports?.find((p) => p.name === "http");
        assert.equal(http?.containerPort, engineSettings(run).httpPort);
        const probes = [container.startupProbe, container.livenessProbe, container.readinessProbe];
        for (const probe of probes) assert.equal(probe?.httpGet?.port, "http");
      });

      it("exposes the metrics port on the container and the Service", () => {
        const metricsPort = engineSettings(run).metricsPort;
        const container = engineContainer(run);
        assert.equal(
          container.ports?.find((p) => p.name === "metrics")?.containerPort,
          metricsPort,
        );
        const service = objectOf<IService>(run, "Service", "bot3-engine");
        assert.equal(service.spec?.type, "ClusterIP");
        assert.equal(service.spec?.ports?.find((p) => p.name === "metrics")?.port, metricsPort);
      });

      it("pauses before SIGTERM and waits the grace period from the settings", () => {
        const engine = engineSettings(run);
        const pod = deploymentOf(run).spec?.template.spec;
        assert.equal(pod?.terminationGracePeriodSeconds, engine.terminationGracePeriodSeconds);
        assert.equal(
          engineContainer(run).lifecycle?.preStop?.sleep?.seconds,
          engine.preStopSleepSeconds,
        );
      });

      it("spreads replicas across zones and nodes", () => {
        const constraints = deploymentOf(run).spec?.template.spec?.topologySpreadConstraints;
        const keys = (constraints ?? []).map((c) => c.topologyKey).sort();
        assert.deepEqual(keys, ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
        const zone = constraints?.find((c) => c.topologyKey === "topology.kubernetes.io/zone");
        const expected =
          engineSettings(run).zoneSpread === "required" ? "DoNotSchedule" : "ScheduleAnyway";
        assert.equal(zone?.whenUnsatisfiable, expected);
      });

      it("is scheduled with its own PriorityClass", () => {
        const priorityClass = kubernetesObject(run, "PriorityClass", "bot3-engine");
        assert.equal(deploymentOf(run).spec?.template.spec?.priorityClassName, "bot3-engine");
        assert.equal(priorityClass.inputs.globalDefault, false);
      });

      it("rolls out without ever dropping below the desired count", () => {
        const strategy = deploymentOf(run).spec?.strategy;
        assert.equal(strategy?.type, "RollingUpdate");
        assert.equal(strategy?.rollingUpdate?.maxUnavailable, 0);
        assert.ok(Number(strategy?.rollingUpdate?.maxSurge) >= 1);
      });

      it("omits replicas on every Deployment that an autoscaler targets", () => {
        const hpas = resourcesOfType(run, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
        assert.ok(hpas.length > 0);
        for (const hpa of hpas) {
          const target = (hpa.inputs as unknown as IHorizontalPodAutoscaler).spec?.scaleTargetRef;
          assert.ok(target);
          const deployment = objectOf<IDeployment>(run, target.kind, target.name);
          assert.equal(deployment.spec?.replicas, undefined, target.name);
        }
      });

      it("autoscales between the settings' bounds on CPU and memory", () => {
        const engine = engineSettings(run);
        const spec = autoscalerOf(run).spec;
        assert.equal(spec?.minReplicas, engine.minReplicas);
        assert.equal(spec?.maxReplicas, engine.maxReplicas);
        const targets = Object.fromEntries(
          (spec?.metrics ?? []).map((m) => [
            m.resource?.name,
            m.resource?.target.averageUtilization,
          ]),
        );
        assert.deepEqual(targets, {
          cpu: engine.targetCpuUtilization,
          memory: engine.targetMemoryUtilization,
        });
        assert.equal(
          spec?.behavior?.scaleDown?.stabilizationWindowSeconds,
          engine.scaleDownStabilizationSeconds,
        );
      });

      it("guards the engine pods with a disruption budget", () => {
        const spec = objectOf<IPodDisruptionBudget>(run, "PodDisruptionBudget", "bot3-engine").spec;
        assert.deepEqual(spec?.selector?.matchLabels, deploymentOf(run).spec?.selector.matchLabels);
        assert.equal(spec?.maxUnavailable, 1);
      });

      it("gives the ServiceAccount no token and no AWS role unless one is passed", () => {
        const account = objectOf<IServiceAccount>(run, "ServiceAccount", "bot3-engine");
        assert.equal(account.automountServiceAccountToken, false);
        assert.equal(account.metadata?.annotations?.["eks.amazonaws.com/role-arn"], undefined);
      });

      it("reads the database and cache connections from their Secrets by name", () => {
        const refs = (engineContainer(run).env ?? [])
          .map((e) => e.valueFrom?.secretKeyRef?.name)
          .filter((name) => name !== undefined);
        assert.ok(refs.includes("bot3-postgres-connection"));
        assert.ok(refs.includes("bot3-redis-connection"));
      });

      it("puts no secret value in a ConfigMap, an env literal or Helm values", () => {
        // Every sensitive value of an offline run (generated passwords, encrypted settings)
        // carries a known prefix; a Secret's host or port is secret in state but not sensitive.
        const secrets = new Set(
          run.resources
            .flatMap((r) => r.secretValues)
            .filter((v) => offlineSecretPrefixes.some((prefix) => v.startsWith(prefix))),
        );
        assert.ok(secrets.size > 0, "the stack has no sensitive value to look for");
        const plainTexts = [
          ...resourcesOfType(run, "kubernetes:core/v1:ConfigMap").map((r) => r.inputs.data),
          ...(engineContainer(run).env ?? []).map((e) => e.value),
          ...resourcesOfType(run, "kubernetes:helm.sh/v3:Release").map((r) => r.inputs.values),
        ].map((value) => JSON.stringify(value ?? ""));
        for (const secret of secrets) {
          for (const text of plainTexts) assert.ok(!text.includes(secret), "secret leaked");
        }
      });
    });
  }

  describe("exchange credentials", () => {
    it("become a Secret whose every value is secret, mounted as read-only files", async () => {
      const run = await runStack("production");
      const secret = kubernetesObject(run, "Secret", "bot3-engine-exchange-credentials");
      const data = secret.inputs.stringData as Record<string, string>;
      assert.deepEqual(Object.keys(data).sort(), ["binance.apiKey", "binance.apiSecret"]);
      const masked = JSON.stringify(secret.maskedInputs.stringData);
      for (const value of Object.values(data)) {
        assert.ok(secret.secretValues.includes(value), "a credential is not marked secret");
        assert.ok(!masked.includes(value), "a credential shows through the mask");
      }
      const volume = deploymentOf(run).spec?.template.spec?.volumes?.find(
        (v) => v.secret?.secretName === "bot3-engine-exchange-credentials",
      );
      assert.ok(volume, "the credentials Secret is not mounted");
      const mount = engineContainer(run).volumeMounts?.find((m) => m.name === volume.name);
      assert.equal(mount?.readOnly, true);
    });

    it("leave no Secret and no mount when the engine trades on no exchange", async () => {
      const run = await runStack("local");
      assert.throws(() => kubernetesObject(run, "Secret", "bot3-engine-exchange-credentials"));
      const volumes = deploymentOf(run).spec?.template.spec?.volumes ?? [];
      assert.ok(volumes.every((v) => v.secret === undefined));
    });
  });

  describe("configuration", () => {
    it("rolls the Deployment when the ConfigMap's content changes", async () => {
      const hashOf = (r: ProgramRun) =>
        deploymentOf(r).spec?.template.metadata?.annotations?.["bot3.io/config-sha256"];
      const before = await runStack("staging");
      const after = await runStack("staging", {
        overrides: { "bot3:engine": JSON.stringify({ config: { "risk.maxOrders": 5 } }) },
      });
      assert.match(String(hashOf(before)), /^[0-9a-f]{64}$/);
      assert.notEqual(hashOf(before), hashOf(after));
      const data = kubernetesObject(after, "ConfigMap", "bot3-engine-config").inputs.data as {
        "engine.json": string;
      };
      assert.equal(JSON.parse(data["engine.json"]).settings["risk.maxOrders"], 5);
    });

    it("writes the settings in a stable order, so an unchanged config keeps its hash", () => {
      const engine = parseSettings({ "bot3:environment": "local" }).engine;
      const a = engineConfigDocument({ ...engine, config: { b: 1, a: 2 } });
      const b = engineConfigDocument({ ...engine, config: { a: 2, b: 1 } });
      assert.equal(a, b);
    });
  });

  describe("on a cluster with dedicated engine nodes", () => {
    let run: ProgramRun;
    before(async () => {
      run = await runStack("production", {
        program: path.join(__dirname, "programs", "engineOnDedicatedNodes.ts"),
      });
    });

    it("tolerates the engine nodes' taint and requires their labels", () => {
      const pod = deploymentOf(run).spec?.template.spec;
      assert.deepEqual(pod?.tolerations, [{ ...engineNodes.taint, operator: "Equal" }]);
      const terms =
        pod?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
          ?.nodeSelectorTerms;
      assert.deepEqual(terms, [
        { matchExpressions: [{ key: "bot3.io/node-group", operator: "In", values: ["engine"] }] },
      ]);
    });

    it("annotates the ServiceAccount with the IRSA role", () => {
      const account = objectOf<IServiceAccount>(run, "ServiceAccount", "bot3-engine");
      assert.equal(account.metadata?.annotations?.["eks.amazonaws.com/role-arn"], engineRoleArn);
      assert.equal(account.automountServiceAccountToken, false);
    });

    it("runs on the production cluster's own engine node group", async () => {
      const pod = deploymentOf(await runStack("production")).spec?.template.spec;
      assert.deepEqual(pod?.tolerations, [{ ...engineNodes.taint, operator: "Equal" }]);
      assert.ok(pod?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    });

    it("stays off every node when there is no engine group", async () => {
      const run = await runStack("production", {
        overrides: { "bot3:nodeGroups": JSON.stringify({ engine: { enabled: false } }) },
      });
      const pod = deploymentOf(run).spec?.template.spec;
      assert.equal(pod?.tolerations, undefined);
      assert.equal(pod?.affinity, undefined);
    });
  });

  describe("image references", () => {
    it("refuses an image without a tag or digest", () => {
      assert.throws(
        () => checkImage("registry.example.com/bot3-engine", true),
        /not pinned; pass repo@sha256:<digest>/,
      );
    });
    it("refuses the latest tag even on a local stack", () => {
      assert.throws(() => checkImage("localhost:5001/bot3-engine:latest", true), /not pinned/);
    });
    it("refuses a tag-only image unless told otherwise", () => {
      assert.throws(() => checkImage("repo/bot3-engine:1.2.3", false), /pinned by tag only/);
      assert.doesNotThrow(() => checkImage("repo/bot3-engine:1.2.3", true));
    });
    it("does not mistake a registry port for a tag", () => {
      assert.throws(() => checkImage("localhost:5001/bot3-engine", true), /not pinned/);
    });
  });

  describe("bad settings", () => {
    it("rejects limits below requests, naming both keys", async () => {
      const error = await settingsErrorFor("staging", {
        "bot3:engine": { requests: { cpu: "2" }, limits: { cpu: "1" } },
      });
      assert.match(
        error.message,
        /bot3:engine\.limits\.cpu \(1\) is below bot3:engine\.requests\.cpu \(2\); raise the limit/,
      );
    });

    it("rejects an invalid host name", async () => {
      const error = await settingsErrorFor("staging", {
        "bot3:ingress": { host: "Bot3_API.example.com" },
      });
      assert.match(
        error.message,
        /bot3:ingress\.host = "Bot3_API\.example\.com": must be a lower-case DNS name/,
      );
    });

    it("rejects an unknown exchange credential key without showing the secret", async () => {
      const error = await settingsErrorFor("staging", {
        "bot3:exchangeCredentials": { "binance-testnet": { apiKye: "sk-live-123" } },
      });
      assert.match(
        error.message,
        /bot3:exchangeCredentials\.binance-testnet has unknown field\(s\) "apiKye"/,
      );
      assert.doesNotMatch(error.message, /sk-live-123/);
    });

    it("rejects a tag-only image outside the local stack", async () => {
      const error = await settingsErrorFor("staging", {
        "bot3:image": { ref: "registry.example.com/bot3-engine:1.2.3" },
      });
      assert.match(error.message, /is pinned by a tag, which can be moved/);
      assert.match(error.message, /set repo@sha256:<digest>/);
    });

    it("rejects the latest tag on any stack", async () => {
      const error = await settingsErrorFor("local", {
        "bot3:image": { ref: "localhost:5001/bot3-engine:latest" },
      });
      assert.match(
        error.message,
        /bot3:image\.ref = "localhost:5001\/bot3-engine:latest": uses the tag latest/,
      );
    });

    it("rejects a preStop pause that outlasts the grace period", async () => {
      const error = await settingsErrorFor("staging", {
        "bot3:engine": { preStopSleepSeconds: 60, terminationGracePeriodSeconds: 60 },
      });
      assert.match(
        error.message,
        new RegExp(
          String.raw`bot3:engine\.preStopSleepSeconds \(60\) must be below ` +
            String.raw`bot3:engine\.terminationGracePeriodSeconds \(60\)`,
        ),
      );
    });
  });
});
