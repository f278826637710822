import { strict as assert } from "node:assert";
import { parseImageReference } from "../policies/kubernetes/workload-hygiene";
import { messagesOf } from "./policy-harness";
import {
  compliantPodSpec,
  deployment,
  mainContainer,
  Props,
  resource,
  wrapPod,
} from "./workload-builders";

const withImage = (image: string) => deployment("engine", (s) => (mainContainer(s).image = image));

describe("images-pinned", () => {
  const policy = "images-pinned";

  it("accepts a tagged image and a digest", () => {
    assert.deepEqual(messagesOf(policy, [deployment(), withImage("nginx:1.27.1")]), []);
  });

  it("flags an untagged image", () => {
    assert.deepEqual(messagesOf(policy, [withImage("nginx")]), [
      'Deployment "engine" sets spec.template.spec.containers[0].image to "nginx". ' +
        "Use an explicit version tag or an `@sha256:` digest instead of latest.",
    ]);
  });

  it("flags the latest tag, also behind a registry port", () => {
    assert.equal(messagesOf(policy, [withImage("registry:5000/team/app:latest")]).length, 1);
    assert.equal(messagesOf(policy, [withImage("registry:5000/team/app")]).length, 1);
  });

  it("flags a tag without digest when the stack requires digests", () => {
    const config = { "images-pinned": { requireDigest: true } };
    const [message] = messagesOf(policy, [withImage("nginx:1.27.1")], config);
    assert.match(message, /this stack requires digests/);
    assert.deepEqual(messagesOf(policy, [deployment()], config), []);
  });

  it("parses registry ports, tags and digests apart", () => {
    assert.deepEqual(parseImageReference("localhost:5000/app"), {
      tag: undefined,
      digest: undefined,
    });
    assert.deepEqual(parseImageReference("app:1@sha256:ab"), { tag: "1", digest: "sha256:ab" });
  });
});

describe("workloads-not-in-default-namespace", () => {
  const policy = "workloads-not-in-default-namespace";

  it("accepts a workload in its own namespace", () => {
    assert.deepEqual(messagesOf(policy, [deployment()]), []);
  });

  it("flags the default namespace", () => {
    const workload = wrapPod("Deployment", "engine", {}, compliantPodSpec(), "default");
    assert.deepEqual(messagesOf(policy, [workload]), [
      'Deployment "engine" sets metadata.namespace to "default". Set it to a dedicated ' +
        "namespace for the workload.",
    ]);
  });

  it("flags a workload without namespace unless its provider sets one", () => {
    const workload = wrapPod("Job", "migrate", {}, compliantPodSpec());
    delete (workload.props.metadata as Props).namespace;
    assert.match(messagesOf(policy, [workload])[0], /does not set metadata\.namespace/);
    const provider = resource("pulumi:providers:kubernetes", "cluster", { namespace: "trading" });
    workload.provider = `${provider.urn}::1234`;
    assert.deepEqual(messagesOf(policy, [provider, workload]), []);
  });
});

describe("no-secret-literals-in-env", () => {
  const policy = "no-secret-literals-in-env";
  const withEnv = (env: Props[]) => deployment("engine", (s) => (mainContainer(s).env = env));

  it("accepts secret references and ordinary literals", () => {
    const env = [
      { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
      { name: "LOG_LEVEL", value: "info" },
    ];
    assert.deepEqual(messagesOf(policy, [withEnv(env)]), []);
  });

  for (const name of ["DB_PASSWORD", "JWT_SECRET", "GITHUB_TOKEN", "EXCHANGE_API_KEY"]) {
    it(`flags a literal value for ${name}`, () => {
      assert.deepEqual(messagesOf(policy, [withEnv([{ name, value: "hunter2" }])]), [
        `Deployment "engine" sets spec.template.spec.containers[0].env[0].value for ${name} in ` +
          `plain ` +
          "text. Store it in a Secret and reference it with " +
          "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef instead.",
      ]);
    });
  }
});

describe("workloads-have-probes", () => {
  const policy = "workloads-have-probes";

  it("accepts the compliant Deployment", () => {
    assert.deepEqual(messagesOf(policy, [deployment()]), []);
  });

  for (const probe of ["livenessProbe", "readinessProbe"]) {
    it(`flags a Deployment container without ${probe}`, () => {
      const workload = deployment("engine", (s) => delete mainContainer(s)[probe]);
      assert.deepEqual(messagesOf(policy, [workload]), [
        `Deployment "engine" does not set spec.template.spec.containers[0].${probe}. ` +
          `Add a ${probe} that checks the container's health endpoint.`,
      ]);
    });
  }

  it("leaves Jobs, CronJobs and run-to-completion Pods alone", () => {
    const spec = compliantPodSpec();
    delete mainContainer(spec).livenessProbe;
    const jobPod = { ...spec, restartPolicy: "Never" };
    const resources = [
      wrapPod("Job", "j", {}, spec),
      wrapPod("CronJob", "c", {}, spec),
      wrapPod("Pod", "p", {}, jobPod),
    ];
    assert.deepEqual(messagesOf(policy, resources), []);
    assert.equal(messagesOf(policy, [wrapPod("StatefulSet", "s", {}, spec)]).length, 1);
  });
});
