import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DockerfileParser, From, Instruction } from "dockerfile-ast";
import { validate, ValidationCode, ValidationSeverity, ValidatorSettings } from "dockerfile-utils";

// docker/engine/Dockerfile is checked twice without a Docker engine: by dockerfile-utils, the
// validator behind editor Docker support, which reports what the Docker builder would reject
// (bad flags, references, stage names, JSON quoting), and by the image rules of issue #4 below.

const engineDir = path.resolve(__dirname, "..", "docker", "engine");
const dockerfile = fs.readFileSync(path.join(engineDir, "Dockerfile"), "utf8");
const dockerignore = fs.readFileSync(path.join(engineDir, ".dockerignore"), "utf8");

// Every optional check raised to an error: the spec fails on any finding, warnings included.
const strictLint: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

const lintFindings = (content: string): string[] =>
  validate(content, strictLint).map(
    (finding) =>
      `line ${finding.range.start.line + 1}: ` +
      `${typeof finding.message === "string" ? finding.message : finding.message.value}`,
  );

interface Stage {
  from: From;
  instructions: Instruction[];
}

function stagesOf(content: string): Stage[] {
  const parsed = DockerfileParser.parse(content);
  const froms = parsed.getFROMs();
  return froms.map((from, index) => {
    const start = from.getRange().start.line;
    const end = froms[index + 1]?.getRange().start.line ?? Number.MAX_SAFE_INTEGER;
    const instructions = parsed.getInstructions().filter((instruction) => {
      const line = instruction.getRange().start.line;
      return line >= start && line < end;
    });
    return { from, instructions };
  });
}

const argumentsOf = (instruction: Instruction): string => instruction.getArgumentsContent() ?? "";
const withKeyword = (stage: Stage, keyword: string): Instruction[] =>
  stage.instructions.filter((instruction) => instruction.getKeyword() === keyword);
const cargoBuilds = (stage: Stage): string[] =>
  withKeyword(stage, "RUN").flatMap((run) => argumentsOf(run).match(/cargo build[^&|;]*/g) ?? []);

/** The image rules of issue #4; returns one sentence per rule that the Dockerfile breaks. */
function imageRuleViolations(content: string): string[] {
  const violations: string[] = [];
  const stages = stagesOf(content);
  const builder = stages[0];
  const final = stages[stages.length - 1];

  const builderImage = builder.from.getImage() ?? "";
  if (!/^rust:\d+\.\d+\.\d+-slim-bookworm$/.test(builderImage)) {
    violations.push(`builder image ${builderImage} must be rust:<x.y.z>-slim-bookworm`);
  }
  const distroless = stages.filter((stage) =>
    (stage.from.getImage() ?? "").startsWith("gcr.io/distroless/"),
  );
  if (distroless.length !== 1 || distroless[0] !== final || stages.length < 2) {
    violations.push("exactly one stage, the final one, must be FROM gcr.io/distroless/...");
  }

  const users = withKeyword(final, "USER").map(argumentsOf);
  const user = users[users.length - 1] ?? "(none)";
  const ids = /^(\d+):(\d+)$/.exec(user);
  if (ids === null || Number(ids[1]) === 0 || Number(ids[2]) === 0) {
    violations.push(`final stage USER ${user} must be a numeric non-root uid:gid`);
  }

  for (const build of cargoBuilds(builder)) {
    if (!/--locked\b/.test(build) || !/--release\b/.test(build)) {
      violations.push(`"${build.trim()}" must use --locked --release`);
    }
  }
  const lines = builder.instructions.map((instruction) => instruction.toString());
  const manifestCopy = lines.findIndex((line) => /^COPY Cargo\.toml Cargo\.lock /.test(line));
  const firstBuild = lines.findIndex((line) => line.includes("cargo build"));
  const sourceCopy = lines.findIndex((line) => /^COPY (\. |src )/.test(line));
  if (!(manifestCopy >= 0 && manifestCopy < firstBuild && firstBuild < sourceCopy)) {
    violations.push("Cargo.toml and Cargo.lock must be built alone before the source is copied");
  }

  const argIndex = lines.findIndex((line) => /^ARG BINARY_NAME\b/.test(line));
  const buildsBinary = lines.findIndex((line) => line.includes('--bin "${BINARY_NAME}"'));
  if (argIndex < 0 || buildsBinary < argIndex) {
    violations.push('the builder must declare ARG BINARY_NAME and build --bin "${BINARY_NAME}"');
  }

  const ports = withKeyword(final, "EXPOSE").flatMap((expose) => argumentsOf(expose).split(/\s+/));
  for (const port of ["8080", "9090"]) {
    if (!ports.includes(port)) violations.push(`final stage must EXPOSE ${port}`);
  }

  const entrypoints = withKeyword(final, "ENTRYPOINT").map(argumentsOf);
  const entrypoint = entrypoints[entrypoints.length - 1] ?? "";
  const copiedFiles = withKeyword(final, "COPY").map((copy) => copy.getArguments().pop());
  const command = entrypoint.startsWith("[") ? (JSON.parse(entrypoint) as unknown) : undefined;
  const program = Array.isArray(command) ? (command[0] as unknown) : undefined;
  if (typeof program !== "string" || program.includes("$")) {
    violations.push(`ENTRYPOINT ${entrypoint} must be exec form naming a fixed path`);
  } else if (!copiedFiles.some((file) => file?.getValue() === program)) {
    violations.push(`ENTRYPOINT ${program} is not a file the final stage copies in`);
  }
  return violations;
}

/** shellcheck findings ("SC2086 ...") for the shell-form RUN commands, run by /bin/sh. */
function runCommandFindings(content: string): string[] {
  const runs = DockerfileParser.parse(content)
    .getInstructions()
    .filter((instruction) => instruction.getKeyword() === "RUN")
    .map(argumentsOf)
    .filter((command) => !command.startsWith("["));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bot3-run-"));
  try {
    const script = path.join(scratch, "run-commands.sh");
    fs.writeFileSync(script, ["#!/bin/sh", ...runs, ""].join("\n"));
    const result = spawnSync("shellcheck", ["--format=gcc", script], { encoding: "utf8" });
    if (result.error) {
      throw new Error(
        `cannot run shellcheck (${result.error.message}); install it: ` +
          "apt-get install -y --no-install-recommends shellcheck",
      );
    }
    return result.stdout.split("\n").flatMap((line) => /\[(SC\d+)\]$/.exec(line)?.[1] ?? []);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Returns the Dockerfile with one exact line replaced; fails if the line is not there. */
function withLine(original: string, replace: string, by: string): string {
  assert.ok(original.includes(replace), `fixture line not found: ${replace}`);
  return original.replace(replace, by);
}

describe("Engine Dockerfile", function () {
  describe("lint (dockerfile-utils, every check as an error)", function () {
    it("finds nothing in docker/engine/Dockerfile", function () {
      assert.deepEqual(lintFindings(dockerfile), []);
    });

    const brokenDockerfiles: Array<[string, string, ValidationCode]> = [
      [
        "a stage name starting with a digit",
        "FROM rust:1.91 AS 1builder\n",
        ValidationCode.INVALID_BUILD_STAGE_NAME,
      ],
      [
        "a lowercase instruction",
        "FROM alpine:3.20\nuser 65532\n",
        ValidationCode.CASING_INSTRUCTION,
      ],
      [
        "a misspelt COPY flag",
        "FROM alpine:3.20\nCOPY --form=builder /a /b\n",
        ValidationCode.UNKNOWN_COPY_FLAG,
      ],
      [
        "a single-quoted exec form",
        "FROM alpine:3.20\nENTRYPOINT ['/engine']\n",
        ValidationCode.JSON_IN_SINGLE_QUOTES,
      ],
      [
        "a relative WORKDIR",
        "FROM alpine:3.20\nWORKDIR build\n",
        ValidationCode.WORKDIR_IS_NOT_ABSOLUTE,
      ],
      ["an invalid image tag", "FROM rust:1.91!\n", ValidationCode.INVALID_REFERENCE_FORMAT],
    ];
    for (const [problem, content, code] of brokenDockerfiles) {
      it(`reports ${problem}`, function () {
        const codes = validate(content, strictLint).map((finding) => finding.code);
        assert.deepEqual(codes, [code]);
      });
    }
  });

  describe("RUN commands (shellcheck, POSIX sh)", function () {
    it("pass shellcheck", function () {
      assert.deepEqual(runCommandFindings(dockerfile), []);
    });

    it("report an unquoted expansion", function () {
      const broken = "FROM alpine:3.20\nARG BINARY_NAME\nRUN cp target/release/$BINARY_NAME /\n";
      assert.deepEqual(runCommandFindings(broken), ["SC2086"]);
    });
  });

  describe("image rules", function () {
    it("holds for docker/engine/Dockerfile", function () {
      assert.deepEqual(imageRuleViolations(dockerfile), []);
    });

    const finalUser = "USER 65532:65532";
    const mutations: Array<[string, string, string, string]> = [
      [
        "an unpinned builder image",
        "FROM rust:1.91.1-slim-bookworm AS builder",
        "FROM rust:slim AS builder",
        "builder image rust:slim must be rust:<x.y.z>-slim-bookworm",
      ],
      [
        "a runtime that is not distroless",
        "FROM gcr.io/distroless/cc-debian12:nonroot",
        "FROM debian:bookworm-slim",
        "exactly one stage, the final one, must be FROM gcr.io/distroless/...",
      ],
      [
        "a root user",
        finalUser,
        "USER 0:0",
        "final stage USER 0:0 must be a numeric non-root uid:gid",
      ],
      [
        "a user name",
        finalUser,
        "USER nonroot",
        "final stage USER nonroot must be a numeric non-root uid:gid",
      ],
      [
        "a build without --locked",
        'cargo build --locked --release --bin "${BINARY_NAME}"',
        'cargo build --release --bin "${BINARY_NAME}"',
        '"cargo build --release --bin "${BINARY_NAME}"" must use --locked --release',
      ],
      [
        "the source copied before the dependency build",
        "COPY Cargo.toml Cargo.lock ./",
        "COPY . .",
        "Cargo.toml and Cargo.lock must be built alone before the source is copied",
      ],
      [
        "a missing BINARY_NAME argument",
        "ARG BINARY_NAME\n",
        "ARG BIN\n",
        'the builder must declare ARG BINARY_NAME and build --bin "${BINARY_NAME}"',
      ],
      ["a missing metrics port", "EXPOSE 8080 9090", "EXPOSE 8080", "final stage must EXPOSE 9090"],
      [
        "an exec-form ENTRYPOINT with a variable, which Docker would not expand",
        'ENTRYPOINT ["/usr/local/bin/engine"]',
        'ENTRYPOINT ["/usr/local/bin/${BINARY_NAME}"]',
        'ENTRYPOINT ["/usr/local/bin/${BINARY_NAME}"] must be exec form naming a fixed path',
      ],
      [
        "a shell-form ENTRYPOINT, which distroless cannot run",
        'ENTRYPOINT ["/usr/local/bin/engine"]',
        "ENTRYPOINT /usr/local/bin/engine",
        "ENTRYPOINT /usr/local/bin/engine must be exec form naming a fixed path",
      ],
      [
        "an ENTRYPOINT naming a file that was never copied",
        'ENTRYPOINT ["/usr/local/bin/engine"]',
        'ENTRYPOINT ["/engine"]',
        "ENTRYPOINT /engine is not a file the final stage copies in",
      ],
    ];
    for (const [problem, line, replacement, violation] of mutations) {
      it(`rejects ${problem}`, function () {
        assert.deepEqual(imageRuleViolations(withLine(dockerfile, line, replacement)), [violation]);
      });
    }
  });

  describe(".dockerignore", function () {
    const patterns = dockerignore
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"));

    it("keeps build output, git metadata and local secrets out of the context", function () {
      for (const pattern of ["target", "**/target", ".git", ".env", ".env.*"]) {
        assert.ok(patterns.includes(pattern), `missing pattern ${pattern}`);
      }
    });

    it("keeps the manifests and the source in the context", function () {
      const hidesInputs = patterns.filter((pattern) =>
        /^(\*|\*\*|Cargo\.(toml|lock)|src(\/.*)?|\.)$/.test(pattern),
      );
      assert.deepEqual(hidesInputs, []);
    });
  });
});
