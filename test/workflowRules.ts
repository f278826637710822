import { parse } from "yaml";

// Repository rules for the GitHub workflows, beyond what GitHub's parser checks. Each rule
// returns one sentence per problem, naming the workflow, the job and the fix.

/** The parts of a workflow file the rules read; everything comes straight from YAML. */
export interface Workflow {
  file: string;
  text: string;
  on: Record<string, unknown>;
  permissions?: unknown;
  concurrency?: Concurrency;
  jobs: Record<string, Job>;
}

export interface Job {
  needs?: string | string[];
  permissions?: unknown;
  concurrency?: Concurrency;
  environment?: string | { name?: string };
  steps?: Step[];
}

interface Concurrency {
  group?: string;
  "cancel-in-progress"?: boolean | string;
}

interface Step {
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}

/** One `pulumi preview` or `pulumi up` in a job's shell steps. */
export interface PulumiCommand {
  job: string;
  verb: "preview" | "up";
  stack: string | undefined;
  words: string[];
}

export function readWorkflow(file: string, text: string): Workflow {
  const document = parse(text) as Record<string, unknown>;
  const on = document.on;
  const triggers =
    typeof on === "string"
      ? { [on]: null }
      : Array.isArray(on)
        ? Object.fromEntries(on.map((t) => [String(t), null]))
        : ((on ?? {}) as Record<string, unknown>);
  return {
    file,
    text,
    on: triggers,
    permissions: document.permissions,
    concurrency: concurrencyOf(document.concurrency),
    jobs: (document.jobs ?? {}) as Record<string, Job>,
  };
}

function concurrencyOf(value: unknown): Concurrency | undefined {
  if (typeof value === "string") return { group: value };
  return value as Concurrency | undefined;
}

const shaPinned = /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/;

/** Every `uses:` must name a full commit SHA and say which release it is in a comment. */
export function unpinnedActions(workflow: Workflow): string[] {
  const problems: string[] = [];
  workflow.text.split("\n").forEach((line, index) => {
    const match = /^\s*(?:-\s+)?uses:\s*(\S+)\s*(#.*)?$/.exec(line);
    if (!match) return;
    const [, reference, comment] = match;
    const where = `${workflow.file}:${index + 1}`;
    if (!shaPinned.test(reference)) {
      problems.push(`${where}: ${reference} is not pinned; use owner/repo@<40-hex commit SHA>.`);
    } else if (!/^#\s*v\d/.test(comment ?? "")) {
      problems.push(`${where}: ${reference} needs its release in a comment, like "# v4.2.2".`);
    }
  });
  return problems;
}

const storedKeyPatterns = [
  /aws-access-key-id/i,
  /aws-secret-access-key/i,
  /AWS_ACCESS_KEY_ID/,
  /AWS_SECRET_ACCESS_KEY/,
  /AWS_SESSION_TOKEN/,
];

/** AWS access only through configure-aws-credentials with role-to-assume and an OIDC token. */
export function awsAccessProblems(workflow: Workflow): string[] {
  const problems = storedKeyPatterns
    .filter((pattern) => pattern.test(workflow.text))
    .map(
      (pattern) =>
        `${workflow.file}: mentions ${pattern.source}; assume a role through OIDC instead ` +
        `of storing AWS keys.`,
    );
  for (const [name, job] of Object.entries(workflow.jobs)) {
    for (const step of job.steps ?? []) {
      if (!step.uses?.startsWith("aws-actions/configure-aws-credentials@")) continue;
      if (typeof step.with?.["role-to-assume"] !== "string") {
        problems.push(
          `${workflow.file} job ${name}: configure-aws-credentials needs role-to-assume.`,
        );
      }
      if (permissionsOf(job)["id-token"] !== "write") {
        problems.push(
          `${workflow.file} job ${name}: assuming a role by OIDC needs "permissions: id-token: write".`,
        );
      }
    }
  }
  return problems;
}

function permissionsOf(job: Job): Record<string, string> {
  return typeof job.permissions === "object" && job.permissions !== null
    ? (job.permissions as Record<string, string>)
    : {};
}

/**
 * Least privilege: nothing at the workflow level, and each job lists what it uses. id-token
 * only where a role is assumed, pull-requests: write only where a comment is posted, and
 * never a write to the repository's contents.
 */
export function permissionProblems(workflow: Workflow): string[] {
  const problems: string[] = [];
  const isEmpty = (value: unknown) =>
    typeof value === "object" && value !== null && Object.keys(value).length === 0;
  if (!isEmpty(workflow.permissions)) {
    problems.push(`${workflow.file}: set "permissions: {}" at the top; jobs grant their own.`);
  }
  for (const [name, job] of Object.entries(workflow.jobs)) {
    const where = `${workflow.file} job ${name}`;
    if (typeof job.permissions !== "object" || job.permissions === null) {
      problems.push(`${where}: list its permissions (a mapping, not ${String(job.permissions)}).`);
      continue;
    }
    const granted = permissionsOf(job);
    const steps = job.steps ?? [];
    const assumesRole = steps.some((s) =>
      s.uses?.startsWith("aws-actions/configure-aws-credentials@"),
    );
    const comments = steps.some((s) => /\bgh pr comment\b/.test(s.run ?? ""));
    if (granted["id-token"] === "write" && !assumesRole) {
      problems.push(`${where}: has id-token: write but assumes no role; remove it.`);
    }
    if (granted["pull-requests"] === "write" && !comments) {
      problems.push(`${where}: has pull-requests: write but posts no comment; remove it.`);
    }
    if (granted.contents === "write") {
      problems.push(`${where}: must not write to the repository; use contents: read.`);
    }
  }
  return problems;
}

/** Every `pulumi preview` and `pulumi up` in the workflow's shell steps. */
export function pulumiCommands(workflow: Workflow): PulumiCommand[] {
  const commands: PulumiCommand[] = [];
  for (const [job, definition] of Object.entries(workflow.jobs)) {
    for (const step of definition.steps ?? []) {
      const script = (step.run ?? "").replace(/\\\n/g, " ");
      for (const line of script.split("\n")) {
        const match = /^\s*pulumi\s+(preview|up)\b(.*)$/.exec(line);
        if (!match) continue;
        const words = match[2].split(/\s+/).filter((w) => w !== "");
        const stackAt = words.indexOf("--stack");
        const stack = stackAt >= 0 ? words[stackAt + 1] : undefined;
        commands.push({ job, verb: match[1] as "preview" | "up", stack, words });
      }
    }
  }
  return commands;
}

/** Each preview and up names its stack and runs the policy pack with that stack's config. */
export function policyPackProblems(workflow: Workflow): string[] {
  const problems: string[] = [];
  for (const command of pulumiCommands(workflow)) {
    const where = `${workflow.file} job ${command.job}: pulumi ${command.verb}`;
    if (command.stack === undefined) {
      problems.push(`${where} must name its stack with --stack.`);
      continue;
    }
    const text = command.words.join(" ");
    const expected = `--policy-pack policy --policy-pack-config policy/config.${command.stack}.json`;
    if (!text.includes(expected)) {
      problems.push(`${where} of ${command.stack} must run with "${expected}".`);
    }
    if (command.verb === "up" && !command.words.includes("--yes")) {
      problems.push(`${where} needs --yes: there is nobody to answer the prompt.`);
    }
  }
  return problems;
}

/** A job that deploys a stack holds that stack's concurrency group and is never cancelled. */
export function concurrencyProblems(workflow: Workflow): string[] {
  const problems: string[] = [];
  for (const command of pulumiCommands(workflow).filter((c) => c.verb === "up")) {
    const concurrency = workflow.jobs[command.job].concurrency ?? workflow.concurrency;
    const where = `${workflow.file} job ${command.job}`;
    const group = `pulumi-${command.stack ?? "<stack>"}`;
    if (concurrency?.group !== group) {
      problems.push(`${where}: deploys ${command.stack}; set "concurrency: group: ${group}".`);
    } else if (String(concurrency["cancel-in-progress"] ?? false) !== "false") {
      problems.push(`${where}: a running deploy must not be cancelled; cancel-in-progress: false.`);
    }
  }
  return problems;
}

const environmentName = (job: Job) =>
  typeof job.environment === "string" ? job.environment : job.environment?.name;

/** Production is deployed only by hand, by a job of the protected `production` environment. */
export function productionGateProblems(workflow: Workflow): string[] {
  const problems: string[] = [];
  const deploysProduction = pulumiCommands(workflow).filter(
    (c) => c.verb === "up" && c.stack === "production",
  );
  for (const command of deploysProduction) {
    if (environmentName(workflow.jobs[command.job]) !== "production") {
      problems.push(
        `${workflow.file} job ${command.job}: deploys production; set "environment: production" ` +
          `so that a required reviewer approves it.`,
      );
    }
  }
  const triggers = Object.keys(workflow.on);
  if (deploysProduction.length > 0 && triggers.join() !== "workflow_dispatch") {
    problems.push(
      `${workflow.file}: deploys production on ${triggers.join(", ")}; only workflow_dispatch may.`,
    );
  }
  return problems;
}
