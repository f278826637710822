import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { podSecurityControls } from "../policies";
import { controlsOfProfile, PodSecurityLevel } from "../policies/kubernetes/pod-security-control";
import { evaluatePolicies, OfflineResource } from "../policies/offline";
import { podKinds, Props, wrapPod } from "./workload-builders";

// The corpus sits beside the repository (`../shared` from its root), in CI as in a worktree.
const repositoryRoot = path.resolve(__dirname, "..", "..");
const corpusRoot = path.resolve(repositoryRoot, "..", "shared", "fixtures", "pod-security");
const policyVersion = "v1.35";

interface CorpusPod {
  level: PodSecurityLevel;
  verdict: "pass" | "fail";
  file: string;
  /** pod-security-admission check ID named by a fail file, lower-cased. */
  checkId?: string;
  metadata: Props;
  spec: Props;
}

function readCorpus(level: PodSecurityLevel): CorpusPod[] {
  return (["pass", "fail"] as const).flatMap((verdict) => {
    const directory = path.join(corpusRoot, level, policyVersion, verdict);
    return fs
      .readdirSync(directory)
      .filter((file) => file.endsWith(".yaml"))
      .sort()
      .map((file) => {
        const pod = parse(fs.readFileSync(path.join(directory, file), "utf8")) as Props;
        return {
          level,
          verdict,
          file,
          checkId: verdict === "fail" ? file.replace(/\d+\.yaml$/, "") : undefined,
          metadata: (pod.metadata ?? {}) as Props,
          spec: (pod.spec ?? {}) as Props,
        };
      });
  });
}

describe("Pod Security Standards corpus (pod-security-admission v0.36.2, policy v1.35)", () => {
  const levels: PodSecurityLevel[] = ["baseline", "restricted"];
  let agreeing = 0;
  let total = 0;
  const disagreements: string[] = [];

  for (const level of levels) {
    it(`agrees with every ${level} pod, wrapped in each of the 9 pod-carrying kinds`, () => {
      const profile = controlsOfProfile(podSecurityControls, level);
      const policyNameOf = new Map(podSecurityControls.map((c) => [c.checkId.toLowerCase(), c]));
      const pods = readCorpus(level);
      assert.ok(pods.length > 10, `expected the ${level} corpus under ${corpusRoot}`);
      const cases: { pod: CorpusPod; resource: OfflineResource }[] = [];
      pods.forEach((pod, index) => {
        for (const kind of podKinds) {
          const name = `${pod.verdict}-${index}-${kind}`;
          cases.push({ pod, resource: wrapPod(kind, name, pod.metadata, pod.spec) });
        }
      });
      const violations = evaluatePolicies(
        cases.map((c) => c.resource),
        { policies: profile.map((control) => control.policy) },
      );
      for (const { pod, resource } of cases) {
        const flagged = new Set(
          violations.filter((v) => v.urn === resource.urn).map((v) => v.policyName),
        );
        let expected: string[] = [];
        if (pod.verdict === "fail") {
          const control = policyNameOf.get(pod.checkId ?? "");
          assert.ok(control, `${pod.file} names no known control`);
          // In the restricted profile an overridden baseline control is judged by its override.
          const judge =
            level === "restricted" && control.overriddenBy
              ? podSecurityControls.find((c) => c.checkId === control.overriddenBy)
              : control;
          expected = [judge?.policy.name ?? ""];
        }
        // A fail pod may break more than the control it is named after (a Windows HostProcess
        // pod also needs hostNetwork), so it must be flagged by that control, among others.
        const agrees =
          pod.verdict === "pass" ? flagged.size === 0 : expected.every((n) => flagged.has(n));
        total += 1;
        if (agrees) {
          agreeing += 1;
        } else {
          disagreements.push(
            `${level}/${pod.verdict}/${pod.file} as ${resource.type}: expected ` +
              `[${expected.join(", ")}], flagged [${[...flagged].join(", ")}]`,
          );
        }
      }
      assert.deepEqual(disagreements, []);
    });
  }

  it("leaves every restricted pass pod alone with all 19 controls on, as shipped", () => {
    const pods = readCorpus("restricted").filter((pod) => pod.verdict === "pass");
    const resources = pods.flatMap((pod, index) =>
      podKinds.map((kind) => wrapPod(kind, `pass-${index}-${kind}`, pod.metadata, pod.spec)),
    );
    const policies = podSecurityControls.map((control) => control.policy);
    assert.deepEqual(evaluatePolicies(resources, { policies }), []);
  });

  after(() => {
    console.log(`  pod-security corpus agreement: ${agreeing}/${total} (pod, kind) cases`);
    assert.equal(agreeing, total);
  });
});
