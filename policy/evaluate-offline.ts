// Runs the pack outside the Pulumi CLI, in the pack's own package so it loads its own
// @pulumi/policy and @pulumi/pulumi exactly as the analyzer would. Reads
// `{ resources, config }` as JSON on stdin and writes the violations as JSON on stdout.
//
//   node -r ts-node/register/transpile-only evaluate-offline.ts < request.json
import * as fs from "fs";
import { evaluatePolicies, type EvaluationOptions, type OfflineResource } from "./policies/offline";

const request = JSON.parse(fs.readFileSync(0, "utf8")) as {
  resources: OfflineResource[];
  config?: EvaluationOptions["config"];
};
process.stdout.write(
  JSON.stringify(evaluatePolicies(request.resources, { config: request.config })),
);
