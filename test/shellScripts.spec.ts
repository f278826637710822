import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// Every shell script in the repository must pass shellcheck (Debian package `shellcheck`).
// A missing shellcheck fails the spec: a lint that silently skips looks exactly like a pass.

const repoRoot = path.resolve(__dirname, "..");
const skippedDirs = new Set(["node_modules", ".git", "dist"]);
const installHint = "apt-get install -y --no-install-recommends shellcheck";

interface ShellcheckFinding {
  file: string;
  line: number;
  column: number;
  level: string;
  code: number;
  message: string;
}

function requireShellcheck(searchPath: string): string {
  for (const dir of searchPath.split(path.delimiter).filter((entry) => entry !== "")) {
    const candidate = path.join(dir, "shellcheck");
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not in this PATH entry; keep looking.
    }
  }
  throw new Error(`shellcheck is not installed (not found on PATH); install it: ${installHint}`);
}

/** Files named *.sh, and files without that suffix whose shebang names sh or bash. */
function shellScriptsUnder(root: string): string[] {
  const scripts: string[] = [];
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    const file = path.join(root, entry.name);
    if (entry.isDirectory() && !skippedDirs.has(entry.name)) {
      scripts.push(...shellScriptsUnder(file));
    } else if (entry.isFile() && (entry.name.endsWith(".sh") || hasShellShebang(file))) {
      scripts.push(file);
    }
  }
  return scripts.sort();
}

function hasShellShebang(file: string): boolean {
  const firstLine = fs.readFileSync(file).subarray(0, 100).toString("latin1").split("\n")[0];
  return /^#!\s*\/\S*\/(env\s+)?(ba)?sh\b/.test(firstLine);
}

function shellcheckFindings(shellcheck: string, files: string[]): ShellcheckFinding[] {
  const result = spawnSync(shellcheck, ["--format=json1", "--external-sources", ...files], {
    encoding: "utf8",
    timeout: 20_000,
  });
  if (result.error) throw result.error;
  // Exit status 1 means findings; anything else means shellcheck itself failed.
  if (result.status !== 0 && result.status !== 1) {
    throw new Error(`shellcheck exited with ${result.status}: ${result.stderr}`);
  }
  const report = JSON.parse(result.stdout) as { comments: ShellcheckFinding[] };
  return report.comments;
}

const describeFinding = (finding: ShellcheckFinding): string =>
  `${path.relative(repoRoot, finding.file)}:${finding.line}:${finding.column} ` +
  `${finding.level} SC${finding.code}: ${finding.message}`;

describe("Shell scripts", function () {
  it("finds the repository's scripts, including the backup and restore scripts", function () {
    const scripts = shellScriptsUnder(repoRoot).map((file) => path.relative(repoRoot, file));
    assert.ok(scripts.includes(path.join("scripts", "backup-postgres.sh")), scripts.join(", "));
    assert.ok(scripts.includes(path.join("scripts", "restore-postgres.sh")), scripts.join(", "));
  });

  it("pass shellcheck, every one of them", function () {
    const shellcheck = requireShellcheck(process.env.PATH ?? "");
    const findings = shellcheckFindings(shellcheck, shellScriptsUnder(repoRoot));
    assert.deepEqual(findings.map(describeFinding), []);
  });

  describe("the checks themselves", function () {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bot3-shellcheck-"));
    after(function () {
      fs.rmSync(scratch, { recursive: true, force: true });
    });

    it("report an unquoted expansion in a broken script", function () {
      const broken = path.join(scratch, "broken.sh");
      fs.writeFileSync(broken, "#!/usr/bin/env bash\nrm -rf $1/cache\n");
      const shellcheck = requireShellcheck(process.env.PATH ?? "");
      const codes = shellcheckFindings(shellcheck, [broken]).map((finding) => finding.code);
      assert.ok(codes.includes(2086), `expected SC2086 (unquoted $1), got ${codes.join(", ")}`);
    });

    it("find scripts by shebang and skip node_modules", function () {
      fs.mkdirSync(path.join(scratch, "node_modules", "pkg"), { recursive: true });
      fs.writeFileSync(path.join(scratch, "node_modules", "pkg", "install.sh"), "#!/bin/sh\n");
      fs.writeFileSync(path.join(scratch, "run"), "#!/usr/bin/env bash\necho ok\n");
      fs.writeFileSync(path.join(scratch, "notes.txt"), "#!not a shell\n");
      const found = shellScriptsUnder(scratch).map((file) => path.relative(scratch, file));
      assert.ok(found.includes("run"), found.join(", "));
      assert.ok(!found.some((file) => file.startsWith("node_modules")), found.join(", "));
      assert.ok(!found.includes("notes.txt"), found.join(", "));
    });

    it("fail with the install command when shellcheck is missing", function () {
      assert.throws(
        () => requireShellcheck(scratch),
        /shellcheck is not installed .*apt-get install -y --no-install-recommends shellcheck/,
      );
    });
  });
});
