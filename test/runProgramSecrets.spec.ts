import { strict as assert } from "node:assert";
import * as path from "path";
import { resource, runStack } from "./harness";

describe("runProgram", () => {
  it("records secret inputs as secrets, masked in maskedInputs", async () => {
    const run = await runStack("local", {
      program: path.join(__dirname, "programs", "oneSecret.ts"),
      overrides: {},
    });
    const secret = resource(run, "kubernetes:core/v1:Secret", "one-secret");
    assert.equal(secret.maskedInputs.stringData, "[secret]");
    assert.deepEqual(secret.inputs.stringData, { token: "t0ken-value" });
    assert.deepEqual(secret.secretValues, ["t0ken-value"]);
  });
});
