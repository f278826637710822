import { strict as assert } from "node:assert";
import { kubernetesObject, runStack, type ProgramRun } from "./harness";

// A StatefulSet's volumeClaimTemplates are immutable. The program declares each replica's
// claim itself and has Pulumi ignore later template changes, so a new size in settings becomes
// an expansion of the claim, never an update the API server rejects.

type ClaimSpec = { resources: { requests: { storage: string } } };

const stores = [
  { statefulSet: "bot3-postgres", setting: "bot3:database", defaultSize: "20Gi" },
  { statefulSet: "bot3-redis", setting: "bot3:cache", defaultSize: "5Gi" },
];

describe("Data store volumes", () => {
  for (const store of stores) {
    describe(store.statefulSet, () => {
      let local: ProgramRun;
      let grown: ProgramRun;
      before(async () => {
        local = await runStack("local");
        grown = await runStack("local", {
          overrides: { [store.setting]: JSON.stringify({ storageSize: "80Gi" }) },
        });
      });

      it("declares replica 0's claim under the name the StatefulSet controller uses", () => {
        const claim = kubernetesObject(
          local,
          "PersistentVolumeClaim",
          `data-${store.statefulSet}-0`,
        );
        const size = (claim.inputs.spec as ClaimSpec).resources.requests.storage;
        assert.equal(size, store.defaultSize);
        const statefulSet = kubernetesObject(local, "StatefulSet", store.statefulSet);
        assert.ok(statefulSet.dependencies.includes(claim.urn), "the claim exists before the pod");
      });

      it("never sends a changed volumeClaimTemplates to the API server", () => {
        const statefulSet = kubernetesObject(grown, "StatefulSet", store.statefulSet);
        assert.deepEqual(statefulSet.ignoreChanges, ["spec.volumeClaimTemplates"]);
        assert.deepEqual(statefulSet.replaceOnChanges, []);
      });

      it("grows the claim in place when the size setting changes", () => {
        const claim = kubernetesObject(
          grown,
          "PersistentVolumeClaim",
          `data-${store.statefulSet}-0`,
        );
        assert.equal((claim.inputs.spec as ClaimSpec).resources.requests.storage, "80Gi");
        assert.equal(claim.deleteBeforeReplace, false);
      });

      it("keeps claims out of the controller's hands when the StatefulSet goes away", () => {
        const spec = kubernetesObject(local, "StatefulSet", store.statefulSet).inputs.spec as {
          persistentVolumeClaimRetentionPolicy: Record<string, string>;
        };
        assert.deepEqual(spec.persistentVolumeClaimRetentionPolicy, {
          whenDeleted: "Retain",
          whenScaled: "Retain",
        });
      });
    });
  }

  it("lets a stack without data protection delete its volumes on teardown", async () => {
    const local = await runStack("local");
    const claim = kubernetesObject(local, "PersistentVolumeClaim", "data-bot3-postgres-0");
    assert.deepEqual([claim.protect, claim.retainOnDelete], [false, false]);
  });

  it("protects and retains volumes and passwords when data protection is on", async () => {
    const run = await runStack("local", { overrides: { "bot3:dataProtection": "true" } });
    for (const name of ["data-bot3-postgres-0", "data-bot3-redis-0", "bot3-postgres-backups"]) {
      const claim = kubernetesObject(run, "PersistentVolumeClaim", name);
      assert.deepEqual([claim.protect, claim.retainOnDelete], [true, true], name);
    }
    const passwords = run.resources.filter(
      (r) => r.type.endsWith("RandomPassword") && r.name.startsWith("bot3-data"),
    );
    assert.ok(passwords.length >= 2 && passwords.every((p) => p.protect));
  });
});
