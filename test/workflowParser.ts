import { register } from "node:module";

// GitHub's own workflow parser (@actions/workflow-parser) is ESM whose build imports its schema
// JSON without an import attribute, which Node refuses (actions/languageservices#387). This
// load hook serves the package's JSON files as JSON modules, and nothing else.
const jsonSchemaHook = `
import { readFile } from "node:fs/promises";
export async function load(url, context, nextLoad) {
  if (url.endsWith(".json") && url.includes("/@actions/workflow-parser/")) {
    return { format: "json", source: await readFile(new URL(url), "utf8"), shortCircuit: true };
  }
  return nextLoad(url, context);
}`;

let hookRegistered = false;

/**
 * Problems GitHub would report for a workflow file: schema errors (unknown keys, bad values,
 * invalid expressions) from parsing, then semantic ones (job graph, cron) from conversion.
 * Each problem names the file, line and column.
 */
export async function workflowProblems(fileName: string, content: string): Promise<string[]> {
  if (!hookRegistered) {
    register("data:text/javascript," + encodeURIComponent(jsonSchemaHook));
    hookRegistered = true;
  }
  const parser = await import("@actions/workflow-parser");
  const parsed = parser.parseWorkflow(
    { name: fileName, content },
    new parser.NoOperationTraceWriter(),
  );
  if (parsed.value !== undefined) {
    await parser.convertWorkflowTemplate(parsed.context, parsed.value);
  }
  return parsed.context.errors.getErrors().map((error) => error.message);
}
