import { strict as assert } from "assert";
import { acmeDirectories, certManagerChart, clusterIssuerSpec } from "../components/certificates";
import { parseSettings } from "../settings";
import { schemaProblems } from "../tools/offline/kubernetesSchema";
import { kubernetesObject, resource, runStack, settingsErrorFor, type ProgramRun } from "./harness";

interface ComponentValues {
  securityContext: Record<string, unknown>;
  containerSecurityContext: Record<string, unknown>;
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
}
type CertManagerValues = ComponentValues & {
  crds: { enabled: boolean; keep: boolean };
  webhook: ComponentValues;
  cainjector: ComponentValues;
  startupapicheck: ComponentValues;
};

function releaseOf(run: ProgramRun) {
  return resource(run, "kubernetes:helm.sh/v3:Release", "bot3-tls-release");
}
function valuesOf(run: ProgramRun): CertManagerValues {
  return releaseOf(run).inputs.values as CertManagerValues;
}
function issuerOf(run: ProgramRun) {
  return kubernetesObject(run, "ClusterIssuer", parseSettings(run.config.values).tls.issuer);
}

describe("Certificates", () => {
  for (const stack of ["local", "staging", "production"]) {
    describe(`on the ${stack} stack`, () => {
      let run: ProgramRun;
      before(async () => {
        run = await runStack(stack);
      });

      it("installs a pinned cert-manager chart with its CRDs, atomically, with a timeout", () => {
        const release = releaseOf(run);
        assert.equal(release.inputs.chart, "cert-manager");
        assert.equal(release.inputs.version, certManagerChart.version);
        assert.match(String(release.inputs.version), /^v\d+\.\d+\.\d+$/);
        assert.deepEqual(release.inputs.repositoryOpts, { repo: certManagerChart.repo });
        assert.equal(release.inputs.atomic, true);
        assert.ok(Number(release.inputs.timeout) >= 300);
        assert.equal(valuesOf(run).crds.enabled, true);
        assert.match(String(release.provider), /pulumi:providers:kubernetes/);
      });

      it("keeps the CRDs on uninstall only where data protection is on", () => {
        const { dataProtection } = parseSettings(run.config.values);
        assert.equal(valuesOf(run).crds.keep, dataProtection);
      });

      it("hardens and bounds every cert-manager component", () => {
        const values = valuesOf(run);
        const components = {
          controller: values,
          webhook: values.webhook,
          cainjector: values.cainjector,
          startupapicheck: values.startupapicheck,
        };
        for (const [name, component] of Object.entries(components)) {
          assert.equal(component.securityContext.runAsNonRoot, true, name);
          assert.deepEqual(component.securityContext.seccompProfile, { type: "RuntimeDefault" });
          assert.equal(component.containerSecurityContext.allowPrivilegeEscalation, false, name);
          assert.equal(component.containerSecurityContext.readOnlyRootFilesystem, true, name);
          assert.deepEqual(component.containerSecurityContext.capabilities, { drop: ["ALL"] });
          assert.ok(component.resources.requests?.cpu && component.resources.limits?.memory, name);
        }
      });

      it("creates the settings' ClusterIssuer after the release installs its CRDs", async () => {
        const issuer = issuerOf(run);
        assert.ok(issuer.dependencies.includes(releaseOf(run).urn));
        assert.equal(issuer.inputs.apiVersion, "cert-manager.io/v1");
        assert.deepEqual(await schemaProblems(issuer.inputs), []);
      });

      it("issues from the ACME directory the settings name, or self-signs on local", () => {
        const tls = parseSettings(run.config.values).tls;
        const spec = issuerOf(run).inputs.spec as {
          selfSigned?: object;
          acme?: { server: string; email: string; solvers: unknown[] };
        };
        if (tls.issuer === "self-signed") {
          assert.deepEqual(spec, { selfSigned: {} });
          return;
        }
        assert.equal(spec.acme?.server, acmeDirectories[tls.issuer]);
        assert.equal(spec.acme?.email, tls.acmeEmail);
        assert.deepEqual(spec.acme?.solvers, [
          { http01: { ingress: { ingressClassName: "nginx" } } },
        ]);
      });
    });
  }

  it("uses Let's Encrypt's production directory only for the production issuer", () => {
    assert.match(acmeDirectories["letsencrypt-staging"], /acme-staging-v02/);
    assert.doesNotMatch(acmeDirectories["letsencrypt-production"], /staging/);
  });

  it("refuses an ACME issuer without a contact address", () => {
    assert.throws(
      () => clusterIssuerSpec({ issuer: "letsencrypt-staging", acmeEmail: "" }, "nginx"),
      /bot3:tls\.issuer = "letsencrypt-staging" needs bot3:tls\.acmeEmail/,
    );
  });

  describe("bad settings", () => {
    it("rejects an ACME issuer without an e-mail address", async () => {
      const error = await settingsErrorFor("staging", { "bot3:tls": { acmeEmail: "" } });
      assert.match(
        error.message,
        /bot3:tls\.issuer = "letsencrypt-staging" needs bot3:tls\.acmeEmail/,
      );
    });

    it("rejects a self-signed issuer in production", async () => {
      const error = await settingsErrorFor("production", { "bot3:tls": { issuer: "self-signed" } });
      assert.match(
        error.message,
        /"self-signed" is not allowed when bot3:environment is production/,
      );
    });

    it("rejects an e-mail address that is not one", async () => {
      const error = await settingsErrorFor("staging", { "bot3:tls": { acmeEmail: "platform" } });
      assert.match(error.message, /bot3:tls\.acmeEmail = "platform": must be an e-mail address/);
    });
  });
});
