// A test-only program: one Kubernetes Secret whose value is a secret.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

const provider = new k8s.Provider("one-secret-k8s", {});
new k8s.core.v1.Secret(
  "one-secret",
  { metadata: { name: "one-secret" }, stringData: { token: pulumi.secret("t0ken-value") } },
  { provider },
);
