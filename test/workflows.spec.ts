import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { knownStacks, repositoryRoot } from "../tools/offline/stackConfig";
import { workflowProblems } from "./workflowParser";
import {
  awsAccessProblems,
  concurrencyProblems,
  permissionProblems,
  policyPackProblems,
  productionGateProblems,
  pulumiCommands,
  readWorkflow,
  unpinnedActions,
  type Workflow,
} from "./workflowRules";

const workflowDir = path.join(repositoryRoot, ".github", "workflows");
const workflowFiles = fs.readdirSync(workflowDir).filter((f) => /\.ya?ml$/.test(f));
const workflows = workflowFiles.map((file) =>
  readWorkflow(file, fs.readFileSync(path.join(workflowDir, file), "utf8")),
);

function workflowNamed(file: string): Workflow {
  const found = workflows.find((w) => w.file === file);
  assert.ok(found, `.github/workflows/${file} is missing; there are: ${workflowFiles.join(", ")}`);
  return found;
}

const allSteps = (workflow: Workflow, job: string) => workflow.jobs[job]?.steps ?? [];
const runs = (workflow: Workflow, job: string) =>
  allSteps(workflow, job)
    .map((s) => s.run ?? "")
    .join("\n");

describe("GitHub workflows", function () {
  it("are three: pull request, deploy staging, deploy production", function () {
    assert.deepEqual(workflowFiles.sort(), [
      "deploy-production.yml",
      "deploy-staging.yml",
      "pull-request.yml",
    ]);
  });

  for (const workflow of workflows) {
    describe(workflow.file, function () {
      it("is valid for GitHub's own workflow parser", async function () {
        assert.deepEqual(await workflowProblems(workflow.file, workflow.text), []);
      });

      it("pins every action to a full commit SHA with its release in a comment", function () {
        assert.deepEqual(unpinnedActions(workflow), []);
      });

      it("reaches AWS only by OIDC role assumption, never with stored keys", function () {
        assert.deepEqual(awsAccessProblems(workflow), []);
      });

      it("grants each job only the permissions it uses", function () {
        assert.deepEqual(permissionProblems(workflow), []);
      });

      it("runs every preview and up through the policy pack of the same stack", function () {
        assert.deepEqual(policyPackProblems(workflow), []);
      });

      it("never runs two deploys of one stack at once", function () {
        assert.deepEqual(concurrencyProblems(workflow), []);
      });

      it("deploys production only by hand, behind the production environment", function () {
        assert.deepEqual(productionGateProblems(workflow), []);
      });
    });
  }

  describe("on a pull request", function () {
    const workflow = workflowNamed("pull-request.yml");

    it("runs on pull requests to main", function () {
      assert.deepEqual(workflow.on, { pull_request: { branches: ["main"] } });
    });

    it("installs, runs npm test and renders every stack into an artifact", function () {
      const script = runs(workflow, "test");
      assert.match(script, /^npm ci\b/m);
      assert.match(script, /^npm test$/m);
      assert.match(script, /for file in Pulumi\.\*\.yaml/);
      assert.match(script, /npm run --silent render -- --stack "\$stack" --out "dist\/render/);
      // The loop covers whatever stacks exist; these are the ones the artifact will hold.
      assert.deepEqual(knownStacks(), ["local", "production", "staging"]);
      const upload = allSteps(workflow, "test").find((s) =>
        s.uses?.startsWith("actions/upload-artifact@"),
      );
      assert.equal(upload?.with?.path, "dist/render/");
      assert.equal(upload?.with?.["if-no-files-found"], "error");
    });

    it("previews staging with the policy pack after the tests pass", function () {
      const previews = pulumiCommands(workflow).filter((c) => c.verb === "preview");
      assert.deepEqual(
        previews.map((c) => [c.job, c.stack]),
        [["preview-staging", "staging"]],
      );
      assert.deepEqual(
        pulumiCommands(workflow).filter((c) => c.verb === "up"),
        [],
      );
      assert.deepEqual(workflow.jobs["preview-staging"].needs, "test");
    });

    it("comments the preview on the pull request, also when the preview fails", function () {
      const comment = allSteps(workflow, "preview-staging").find((s) =>
        /gh pr comment/.test(s.run ?? ""),
      );
      assert.ok(comment, "no step posts the preview with gh pr comment");
      assert.match(comment.if ?? "", /always\(\)/);
      assert.match(comment.run ?? "", /--body-file/);
    });
  });

  describe("on a push to main", function () {
    const workflow = workflowNamed("deploy-staging.yml");

    it("deploys staging, and nothing else", function () {
      assert.deepEqual(workflow.on, { push: { branches: ["main"] } });
      assert.deepEqual(
        pulumiCommands(workflow).map((c) => [c.verb, c.stack]),
        [["up", "staging"]],
      );
    });
  });

  describe("for production", function () {
    const workflow = workflowNamed("deploy-production.yml");

    it("previews with a read-only role, then deploys after approval", function () {
      assert.deepEqual(
        pulumiCommands(workflow).map((c) => [c.job, c.verb, c.stack]),
        [
          ["preview", "preview", "production"],
          ["up", "up", "production"],
        ],
      );
      assert.equal(workflow.jobs.preview.environment, undefined);
      assert.deepEqual(workflow.jobs.up.environment, { name: "production" });
      const roles = ["preview", "up"].map(
        (job) =>
          allSteps(workflow, job).find((s) => s.with?.["role-to-assume"] !== undefined)?.with?.[
            "role-to-assume"
          ],
      );
      assert.deepEqual(roles, [
        "${{ vars.AWS_PRODUCTION_PREVIEW_ROLE_ARN }}",
        "${{ vars.AWS_PRODUCTION_DEPLOY_ROLE_ARN }}",
      ]);
    });

    it("deploys only commits of main, checked before any credentials are used", function () {
      const script = runs(workflow, "preview");
      assert.match(script, /git merge-base --is-ancestor "\$sha" origin\/main/);
      assert.match(script, /\^\[0-9a-f\]\{40\}\$/);
      // The dispatch input reaches the shell through the environment, never as an expression.
      assert.doesNotMatch(script, /\$\{\{\s*inputs\./);
    });

    it("validates the deployment after pulumi up", function () {
      assert.match(runs(workflow, "up"), /npm run --silent validate-deploy -- --outputs -/);
    });
  });

  it("share one concurrency group per stack across workflows", function () {
    const groups = workflows.flatMap((w) =>
      pulumiCommands(w)
        .filter((c) => c.verb === "up")
        .map((c) => [c.stack, (w.jobs[c.job].concurrency ?? w.concurrency)?.group]),
    );
    assert.deepEqual(groups.sort(), [
      ["production", "pulumi-production"],
      ["staging", "pulumi-staging"],
    ]);
  });

  it("have shell steps that pass shellcheck, as bash with pipefail runs them", function () {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bot3-workflow-steps-"));
    try {
      const files: string[] = [];
      for (const workflow of workflows) {
        for (const [job, definition] of Object.entries(workflow.jobs)) {
          (definition.steps ?? []).forEach((step, index) => {
            if (step.run === undefined) return;
            const file = path.join(scratch, `${workflow.file}.${job}.${index + 1}.sh`);
            fs.writeFileSync(file, `#!/usr/bin/env bash\nset -eo pipefail\n${step.run}`);
            files.push(file);
          });
        }
      }
      const result = spawnSync("shellcheck", ["--format=gcc", ...files], {
        encoding: "utf8",
        timeout: 20_000,
      });
      assert.ok(
        !result.error,
        `shellcheck could not run (${result.error?.message}); install it: ` +
          "apt-get install -y --no-install-recommends shellcheck",
      );
      assert.equal(result.stdout.replaceAll(`${scratch}/`, ""), "");
      assert.equal(result.status, 0, result.stderr);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  it("put no expression inside a shell script, where it could inject commands", function () {
    for (const workflow of workflows) {
      for (const job of Object.keys(workflow.jobs)) {
        assert.doesNotMatch(runs(workflow, job), /\$\{\{/, `${workflow.file} job ${job}`);
      }
    }
  });
});

describe("Workflow checks, against broken workflows", function () {
  const base = {
    file: "broken.yml",
    on: { push: null },
    permissions: {},
  };
  const deployJob = (run: string, extra: Record<string, unknown> = {}) => ({
    permissions: { contents: "read" },
    concurrency: { group: "pulumi-staging", "cancel-in-progress": false },
    steps: [{ run }],
    ...extra,
  });
  const withPolicy = (stack: string) =>
    `--policy-pack policy --policy-pack-config policy/config.${stack}.json`;
  const workflowOf = (jobs: Workflow["jobs"], overrides: Partial<Workflow> = {}): Workflow => ({
    ...base,
    text: "",
    jobs,
    ...overrides,
  });

  it("the parser reports an unknown key with its line", async function () {
    const text = "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n";
    const problems = await workflowProblems("broken.yml", text);
    assert.ok(
      problems.some((p) => /broken\.yml \(Line: 5, Col: 5\): Unexpected value 'stepz'/.test(p)),
      problems.join("\n"),
    );
  });

  it("the parser reports a broken expression and an unknown permission level", async function () {
    const text = [
      "on: push",
      "jobs:",
      "  a:",
      "    runs-on: ubuntu-24.04",
      "    permissions:",
      "      id-token: admin",
      "    steps:",
      "      - run: echo ${{ github.ref == }}",
    ].join("\n");
    const problems = (await workflowProblems("broken.yml", text)).join("\n");
    assert.match(problems, /Unexpected value 'admin'/);
    assert.match(problems, /Unexpected end of expression/);
  });

  it("the parser reports a job graph with no starting job", async function () {
    const text =
      "on: push\njobs:\n  a:\n    runs-on: x\n    needs: a\n    steps:\n      - run: x\n";
    const problems = (await workflowProblems("broken.yml", text)).join("\n");
    assert.match(problems, /at least one job with no dependencies/);
  });

  it("flags an action pinned to a tag, a short SHA, or without its release comment", function () {
    const text = [
      "      - uses: actions/checkout@v4",
      "      - uses: actions/checkout@11bd719",
      "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
      "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
    ].join("\n");
    const problems = unpinnedActions(workflowOf({}, { text }));
    assert.equal(problems.length, 3, problems.join("\n"));
    assert.match(problems[0], /broken\.yml:1: actions\/checkout@v4 is not pinned/);
    assert.match(problems[1], /broken\.yml:2: actions\/checkout@11bd719 is not pinned/);
    assert.match(problems[2], /broken\.yml:3: .* needs its release in a comment/);
  });

  it("flags stored AWS keys and a role assumption without an OIDC token", function () {
    const jobs = {
      deploy: {
        permissions: { contents: "read" },
        steps: [
          {
            uses: "aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502",
            with: { "aws-access-key-id": "${{ secrets.AWS_ACCESS_KEY_ID }}" },
          },
        ],
      },
    };
    const text = "aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}";
    const problems = awsAccessProblems(workflowOf(jobs, { text })).join("\n");
    assert.match(problems, /mentions aws-access-key-id; assume a role through OIDC/);
    assert.match(problems, /mentions AWS_ACCESS_KEY_ID/);
    assert.match(problems, /job deploy: configure-aws-credentials needs role-to-assume/);
    assert.match(problems, /job deploy: .*needs "permissions: id-token: write"/);
  });

  it("flags workflow-wide permissions and grants a job does not use", function () {
    const jobs = {
      test: { permissions: { contents: "write", "id-token": "write", "pull-requests": "write" } },
      lint: { permissions: "write-all" },
    };
    const problems = permissionProblems(workflowOf(jobs, { permissions: "write-all" })).join("\n");
    assert.match(problems, /set "permissions: \{\}" at the top/);
    assert.match(problems, /job test: has id-token: write but assumes no role/);
    assert.match(problems, /job test: has pull-requests: write but posts no comment/);
    assert.match(problems, /job test: must not write to the repository/);
    assert.match(problems, /job lint: list its permissions \(a mapping, not write-all\)/);
  });

  it("flags a preview or up without the policy pack, or with another stack's config", function () {
    const jobs = {
      a: deployJob("pulumi preview --stack staging"),
      b: deployJob(`pulumi up --stack staging --yes \\\n  ${withPolicy("production")}`),
      c: deployJob(`pulumi up --stack staging ${withPolicy("staging")}`),
      d: deployJob(`pulumi up --yes ${withPolicy("staging")}`),
    };
    const problems = policyPackProblems(workflowOf(jobs));
    assert.deepEqual(problems, [
      `broken.yml job a: pulumi preview of staging must run with "${withPolicy("staging")}".`,
      `broken.yml job b: pulumi up of staging must run with "${withPolicy("staging")}".`,
      "broken.yml job c: pulumi up needs --yes: there is nobody to answer the prompt.",
      "broken.yml job d: pulumi up must name its stack with --stack.",
    ]);
  });

  it("flags a deploy without its stack's concurrency group, or one that cancels", function () {
    const up = `pulumi up --stack staging --yes ${withPolicy("staging")}`;
    const jobs = {
      none: deployJob(up, { concurrency: undefined }),
      other: deployJob(up, { concurrency: { group: "deploys" } }),
      cancels: deployJob(up, {
        concurrency: { group: "pulumi-staging", "cancel-in-progress": true },
      }),
      fine: deployJob(up),
    };
    const problems = concurrencyProblems(workflowOf(jobs));
    assert.deepEqual(problems, [
      'broken.yml job none: deploys staging; set "concurrency: group: pulumi-staging".',
      'broken.yml job other: deploys staging; set "concurrency: group: pulumi-staging".',
      "broken.yml job cancels: a running deploy must not be cancelled; cancel-in-progress: false.",
    ]);
  });

  it("flags a production deploy outside the production environment or on push", function () {
    const up = `pulumi up --stack production --yes ${withPolicy("production")}`;
    const jobs = {
      ungated: deployJob(up),
      gated: deployJob(up, { environment: "production" }),
    };
    const problems = productionGateProblems(workflowOf(jobs));
    assert.deepEqual(problems, [
      'broken.yml job ungated: deploys production; set "environment: production" so that a ' +
        "required reviewer approves it.",
      "broken.yml: deploys production on push; only workflow_dispatch may.",
    ]);
  });
});
