import { strict as assert } from "assert";
import type { IIngress } from "kubernetes-models/networking.k8s.io/v1/Ingress" with {
  "resolution-mode": "import",
};
import { ingressNginxChart } from "../components/ingressController";
import { parseSettings } from "../settings";
import { schemaProblems } from "../tools/offline/kubernetesSchema";
import { kubernetesObject, resource, runStack, type ProgramRun } from "./harness";

/** The ingress-nginx chart values the release receives, in the shape the tests read. */
interface ControllerValues {
  controller: {
    replicaCount: number;
    image: Record<string, unknown>;
    resources: { requests?: Record<string, string>; limits?: Record<string, string> };
    allowSnippetAnnotations: boolean;
    metrics: { enabled: boolean };
    ingressClassResource: { name: string; enabled: boolean };
    service: { type: string; annotations?: Record<string, string> };
    admissionWebhooks: Record<string, { securityContext?: Record<string, unknown> }>;
  };
  defaultBackend: { enabled: boolean };
}

function releaseOf(run: ProgramRun) {
  return resource(run, "kubernetes:helm.sh/v3:Release", "bot3-ingress-release");
}
function valuesOf(run: ProgramRun): ControllerValues {
  return releaseOf(run).inputs.values as ControllerValues;
}
function ingressOf(run: ProgramRun): IIngress {
  return kubernetesObject(run, "Ingress", "bot3-engine").inputs as unknown as IIngress;
}

describe("IngressController", () => {
  for (const stack of ["local", "staging", "production"]) {
    describe(`on the ${stack} stack`, () => {
      let run: ProgramRun;
      before(async () => {
        run = await runStack(stack);
      });

      it("installs a pinned ingress-nginx chart atomically, with a timeout", () => {
        const release = releaseOf(run);
        assert.equal(release.inputs.chart, "ingress-nginx");
        assert.match(String(release.inputs.version), /^\d+\.\d+\.\d+$/);
        assert.equal(release.inputs.version, ingressNginxChart.version);
        assert.deepEqual(release.inputs.repositoryOpts, { repo: ingressNginxChart.repo });
        assert.equal(release.inputs.atomic, true);
        assert.ok(Number(release.inputs.timeout) >= 300);
        assert.match(String(release.provider), /pulumi:providers:kubernetes/);
      });

      it("runs the controller non-root, without privilege escalation, under RuntimeDefault", () => {
        const image = valuesOf(run).controller.image;
        assert.equal(image.runAsNonRoot, true);
        assert.ok(Number(image.runAsUser) > 0);
        assert.equal(image.allowPrivilegeEscalation, false);
        assert.deepEqual(image.seccompProfile, { type: "RuntimeDefault" });
      });

      it("bounds the controller and its admission jobs with requests and limits", () => {
        const { controller } = valuesOf(run);
        assert.deepEqual(Object.keys(controller.resources.requests ?? {}).sort(), [
          "cpu",
          "memory",
        ]);
        assert.deepEqual(Object.keys(controller.resources.limits ?? {}).sort(), ["cpu", "memory"]);
        for (const job of ["createSecretJob", "patchWebhookJob"]) {
          const context = controller.admissionWebhooks[job]?.securityContext;
          assert.equal(context?.runAsNonRoot, true, job);
          assert.equal(context?.readOnlyRootFilesystem, true, job);
          assert.deepEqual(context?.capabilities, { drop: ["ALL"] }, job);
        }
      });

      it("exposes metrics and refuses snippet annotations", () => {
        const values = valuesOf(run);
        assert.equal(values.controller.metrics.enabled, true);
        assert.equal(values.controller.allowSnippetAnnotations, false);
        assert.equal(values.defaultBackend.enabled, false);
      });

      it("publishes through an AWS NLB exactly when the settings ask for one", () => {
        const service = valuesOf(run).controller.service;
        const wanted = parseSettings(run.config.values).ingress.loadBalancer;
        if (wanted === "nlb") {
          assert.equal(service.type, "LoadBalancer");
          assert.equal(
            service.annotations?.["service.beta.kubernetes.io/aws-load-balancer-type"],
            "nlb",
          );
        } else {
          assert.equal(service.type, "NodePort");
          assert.equal(service.annotations, undefined);
        }
      });

      it("runs in a namespace that Pod Security Admission holds to restricted", () => {
        const labels = kubernetesObject(run, "Namespace", "ingress-nginx").inputs.metadata as {
          labels: Record<string, string>;
        };
        for (const mode of ["enforce", "audit", "warn"]) {
          assert.equal(labels.labels[`pod-security.kubernetes.io/${mode}`], "restricted");
        }
      });
    });
  }
});

describe("EngineIngress", () => {
  for (const stack of ["local", "staging", "production"]) {
    describe(`on the ${stack} stack`, () => {
      let run: ProgramRun;
      before(async () => {
        run = await runStack(stack);
      });

      it("is an Ingress that the Kubernetes schema accepts", async () => {
        const ingress = kubernetesObject(run, "Ingress", "bot3-engine");
        assert.deepEqual(await schemaProblems(ingress.inputs), []);
      });

      it("serves the settings' host over TLS through the nginx class", () => {
        const host = parseSettings(run.config.values).ingress.host;
        const spec = ingressOf(run).spec;
        assert.equal(spec?.ingressClassName, valuesOf(run).controller.ingressClassResource.name);
        assert.deepEqual(spec?.tls, [{ hosts: [host], secretName: "bot3-engine-tls" }]);
        assert.equal(spec?.rules?.[0].host, host);
        const backend = spec?.rules?.[0].http?.paths[0].backend.service;
        assert.deepEqual(backend, { name: "bot3-engine", port: { name: "http" } });
      });

      it("asks cert-manager for a certificate from the settings' issuer", () => {
        const issuer = parseSettings(run.config.values).tls.issuer;
        const annotations = ingressOf(run).metadata?.annotations ?? {};
        assert.equal(annotations["cert-manager.io/cluster-issuer"], issuer);
      });

      it("waits for the controller's admission webhook and for the issuer", () => {
        const ingress = kubernetesObject(run, "Ingress", "bot3-engine");
        const controller = releaseOf(run);
        const issuer = kubernetesObject(
          run,
          "ClusterIssuer",
          parseSettings(run.config.values).tls.issuer,
        );
        assert.ok(ingress.dependencies.includes(controller.urn));
        assert.ok(ingress.dependencies.includes(issuer.urn));
      });

      it("exports the engine's HTTPS address", () => {
        const host = parseSettings(run.config.values).ingress.host;
        assert.equal(run.outputs.ingressUrl, `https://${host}`);
      });
    });
  }
});
