import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

// Runs scripts/backup-postgres.sh and scripts/restore-postgres.sh against a real PostgreSQL
// server that this spec starts in a temporary directory, listening only on a Unix socket.
// S3 is replaced by a fake `aws` first on PATH that keeps objects in a directory.

const scriptsDir = path.resolve(__dirname, "..", "scripts");
const backupScript = path.join(scriptsDir, "backup-postgres.sh");
const restoreScript = path.join(scriptsDir, "restore-postgres.sh");
const superuser = "bot3_admin";
const password = "Never-Print-This-9f3c";
const sourceDb = "bot3_engine";
const dumpNamePattern = /^bot3_engine-\d{8}T\d{6}Z\.dump$/;

interface ScriptRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, input?: string): ScriptRun {
  const result = spawnSync(command, args, { env, input, encoding: "utf8", timeout: 20_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root) ? fs.readdirSync(root) : [];
  const newest = versions
    .filter((version) => fs.existsSync(path.join(root, version, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) {
    throw new Error(
      "No PostgreSQL server under /usr/lib/postgresql/<version>/bin; install it with " +
        "apt-get install -y --no-install-recommends postgresql",
    );
  }
  return path.join(root, newest, "bin");
}

/** A throwaway PostgreSQL cluster owned by the `postgres` OS user when the tests run as root. */
class ScratchPostgres {
  readonly socketDir: string;
  private readonly dataDir: string;
  private readonly runAsPostgres: string[];

  constructor(
    root: string,
    private readonly binDir: string,
  ) {
    const serverDir = path.join(root, "server");
    this.socketDir = serverDir;
    this.dataDir = path.join(serverDir, "data");
    fs.mkdirSync(serverDir);
    // initdb and pg_ctl refuse to run as root, so as root the server runs as `postgres`.
    const runuser = ["/usr/sbin/runuser", "/sbin/runuser"].find((file) => fs.existsSync(file));
    this.runAsPostgres =
      process.getuid?.() === 0 ? [runuser ?? "runuser", "-u", "postgres", "--"] : [];
    if (this.runAsPostgres.length > 0) {
      fs.chmodSync(root, 0o711);
      const ids = run("id", ["-u", "postgres"], process.env).stdout.trim();
      const gid = run("id", ["-g", "postgres"], process.env).stdout.trim();
      fs.chownSync(serverDir, Number(ids), Number(gid));
    }
  }

  start(): void {
    const passwordFile = path.join(this.socketDir, "initial-password");
    fs.writeFileSync(passwordFile, password, { mode: 0o644 });
    this.asServerUser("initdb", [
      ...["-D", this.dataDir, "-U", superuser, `--pwfile=${passwordFile}`],
      ...["--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync"],
    ]);
    fs.appendFileSync(
      path.join(this.dataDir, "postgresql.conf"),
      `listen_addresses = ''\nunix_socket_directories = '${this.socketDir}'\nfsync = off\n`,
    );
    const logFile = path.join(this.socketDir, "server.log");
    this.asServerUser("pg_ctl", ["-D", this.dataDir, "-l", logFile, "-w", "start"]);
  }

  stop(): void {
    if (fs.existsSync(path.join(this.dataDir, "postmaster.pid"))) {
      this.asServerUser("pg_ctl", ["-D", this.dataDir, "-m", "immediate", "-w", "stop"]);
    }
  }

  private asServerUser(program: string, args: string[]): void {
    const [command, ...prefix] = [...this.runAsPostgres, path.join(this.binDir, program)];
    const result = run(command, [...prefix, ...args], { PATH: process.env.PATH, LANG: "C" });
    if (result.status !== 0) {
      throw new Error(`${program} failed (${result.status}): ${result.stderr}${result.stdout}`);
    }
  }
}

const fakeAws = `#!/usr/bin/env bash
# Offline stand-in for the aws CLI: bucket objects are files under $FAKE_S3_ROOT.
set -euo pipefail
(IFS=$'\\t'; printf '%s\\n' "$*") >>"$FAKE_AWS_CALLS"
if [[ "\${FAKE_AWS_FAIL:-}" == "$1 $2" ]]; then echo "fake aws: $1 $2 failed" >&2; exit 1; fi
file_of() { printf '%s/%s' "$FAKE_S3_ROOT" "\${1#s3://}"; }
case "$1 $2" in
  "s3 cp")
    if [[ "$3" == s3://* ]]; then cp "$(file_of "$3")" "$4"; exit 0; fi
    if [[ -n "\${FAKE_AWS_DROP_UPLOADS:-}" ]]; then exit 0; fi
    mkdir -p "$(dirname "$(file_of "$4")")" && cp "$3" "$(file_of "$4")" ;;
  "s3 ls")
    if [[ "$3" == */ ]]; then dir="$(file_of "$3")"; start=""
    else dir="$(dirname "$(file_of "$3")")"; start="$(basename "$3")"; fi
    status=1
    for object in "$dir/$start"*; do
      [[ -f "$object" ]] || continue
      status=0
      printf '2026-12-04 15:40:05 %10d %s\\n' "$(stat -c %s "$object")" "$(basename "$object")"
    done
    exit "$status" ;;
  *) echo "fake aws: unexpected command $*" >&2; exit 2 ;;
esac
`;

// Orders, fills and positions with the values a dump most easily mangles: NULL next to '' and
// a literal \N, unicode, tabs and newlines, 38-digit numerics, floats, microsecond timestamps.
const fixtureSql = String.raw`
CREATE TYPE order_side AS ENUM ('buy', 'sell');
CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  client_order_id text NOT NULL UNIQUE,
  symbol text NOT NULL,
  side order_side NOT NULL,
  quantity numeric(38, 18) NOT NULL,
  limit_price numeric(38, 18),
  note text,
  placed_at timestamptz NOT NULL,
  cancelled_at timestamptz
);
CREATE TABLE fills (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES orders (id),
  quantity numeric(38, 18) NOT NULL,
  price numeric(38, 18) NOT NULL,
  fee numeric(20, 10),
  slippage_bps double precision,
  filled_at timestamptz NOT NULL
);
CREATE TABLE positions (
  symbol text PRIMARY KEY,
  quantity numeric(38, 18) NOT NULL,
  average_price numeric(38, 18),
  metadata jsonb,
  updated_at timestamptz NOT NULL
);
INSERT INTO orders (client_order_id, symbol, side, quantity, limit_price, note, placed_at,
  cancelled_at)
SELECT 'co-' || g, (ARRAY['BTC-USD', 'ETH-USD', 'SOL-USD'])[1 + g % 3],
  (CASE WHEN g % 2 = 0 THEN 'buy' ELSE 'sell' END)::order_side,
  round(g::numeric / 7, 18),
  CASE WHEN g = 1 THEN 12345678901234567890.123456789012345678
    WHEN g % 3 <> 0 THEN 1000 + g * 0.123456789012345678 END,
  CASE WHEN g = 10 THEN '' WHEN g = 20 THEN '\N'
    WHEN g % 7 = 0 THEN 'Ордер №' || g || ' 🚀 "quoted" back\slash' || E'\ttab\nnewline'
    WHEN g % 5 = 0 THEN NULL ELSE 'plain ' || g END,
  timestamptz '2026-03-01 09:30:00.123456+05:30' + g * interval '1 minute 0.000007 seconds',
  CASE WHEN g % 4 = 0 THEN timestamptz '2026-03-02 00:00:00Z' + g * interval '1 second' END
FROM generate_series(1, 200) AS g;
INSERT INTO fills (order_id, quantity, price, fee, slippage_bps, filled_at)
SELECT 1 + g % 200, round(g::numeric / 13, 18), 100 + g * 0.01,
  CASE WHEN g % 10 <> 0 THEN g * 0.0000000001 END, g / 3.0,
  timestamptz '2026-03-01 10:00:00Z' + g * interval '1.000001 seconds'
FROM generate_series(1, 300) AS g;
INSERT INTO positions VALUES
  ('BTC-USD', 0.000000000000000001, 64000.5, '{"venue": "binance", "tags": ["core"]}',
    '2026-03-01 12:00:00+00'),
  ('ETH-USD', -12.5, NULL, '{"note": "короткая позиция ✓", "limits": {"max": 1e3}}',
    '2026-03-01 12:00:00.000001+00'),
  ('SOL-USD', 0, 0, NULL, '2026-03-01 12:00:00-08'),
  ('XRP-USD', 99999999999999999999.999999999999999999, 0.5, '{}', '1999-12-31 23:59:59.999999Z');
`;

// One line per table: row count and md5 of every row in key order, plus sequences and columns.
const fingerprintSql = `
SELECT 'orders', count(*), md5(string_agg(t::text, E'\\n' ORDER BY id)) FROM orders t
UNION ALL SELECT 'fills', count(*), md5(string_agg(t::text, E'\\n' ORDER BY id)) FROM fills t
UNION ALL SELECT 'positions', count(*), md5(string_agg(t::text, E'\\n' ORDER BY symbol))
  FROM positions t
UNION ALL SELECT 'sequences', count(*),
  md5(string_agg(sequencename || '=' || last_value, ',' ORDER BY sequencename)) FROM pg_sequences
UNION ALL SELECT 'columns', count(*), md5(string_agg(
  concat_ws(':', table_name, column_name, data_type, numeric_precision, numeric_scale,
    is_nullable, column_default), ',' ORDER BY table_name, ordinal_position))
  FROM information_schema.columns WHERE table_schema = 'public';`;

describe("PostgreSQL backup and restore scripts", function () {
  this.timeout(30_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "bot3-backup-"));
  // Dumps restored by the restore tests; other backups get a fresh directory each, because two
  // backups of one database within the same second would share a name.
  const backupDir = path.join(root, "backups");
  const freshDir = (): string => fs.mkdtempSync(path.join(root, "dumps-"));
  const bucketDir = path.join(root, "bucket");
  const awsCalls = path.join(root, "aws-calls.tsv");
  const stubBin = path.join(root, "bin");
  let server: ScratchPostgres | undefined;
  let clientEnv: NodeJS.ProcessEnv = {};

  function psql(db: string, sql: string): string {
    const result = run("psql", ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", db], clientEnv, sql);
    assert.equal(result.status, 0, `psql on ${db} failed: ${result.stderr}`);
    return result.stdout;
  }
  const backup = (env: NodeJS.ProcessEnv = {}): ScriptRun =>
    run(backupScript, [], { ...clientEnv, BACKUP_DESTINATION: freshDir(), ...env });
  const restore = (args: string[], env: NodeJS.ProcessEnv = {}): ScriptRun =>
    run(restoreScript, args, { ...clientEnv, ...env });
  const recordedAwsCalls = (): string[][] =>
    fs.existsSync(awsCalls)
      ? fs
          .readFileSync(awsCalls, "utf8")
          .trim()
          .split("\n")
          .map((line) => line.split("\t"))
      : [];
  const databaseExists = (db: string): boolean =>
    psql("postgres", `SELECT count(*) FROM pg_database WHERE datname = '${db}'`).trim() === "1";

  before(function () {
    const binDir = postgresBinDir();
    for (const dir of [backupDir, bucketDir, stubBin]) fs.mkdirSync(dir);
    fs.writeFileSync(path.join(stubBin, "aws"), fakeAws, { mode: 0o755 });
    server = new ScratchPostgres(root, binDir);
    clientEnv = {
      PATH: `${stubBin}:${binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      HOME: root,
      TMPDIR: root,
      PGHOST: server.socketDir,
      PGPORT: "5432",
      PGUSER: superuser,
      PGPASSWORD: password,
      PGDATABASE: sourceDb,
      PGCLIENTENCODING: "UTF8",
      FAKE_S3_ROOT: bucketDir,
      FAKE_AWS_CALLS: awsCalls,
    };
    server.start();
    psql("postgres", `CREATE DATABASE ${sourceDb}`);
    psql(sourceDb, fixtureSql);
  });

  after(function () {
    try {
      server?.stop();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  beforeEach(function () {
    fs.rmSync(awsCalls, { force: true });
  });

  describe("backup-postgres.sh", function () {
    it("stores a custom-format dump named with a UTC timestamp in a directory", function () {
      const dir = freshDir();
      const result = backup({ BACKUP_DESTINATION: dir });
      assert.equal(result.status, 0, result.stderr);
      const stored = result.stdout.trim();
      assert.equal(path.dirname(stored), dir);
      assert.match(path.basename(stored), dumpNamePattern);
      assert.equal(fs.readFileSync(stored).subarray(0, 5).toString(), "PGDMP");
      assert.deepEqual(fs.readdirSync(dir), [path.basename(stored)], "no partial file");
      assert.ok(!(result.stdout + result.stderr).includes(password), "password printed");
    });

    it("fails naming BACKUP_DESTINATION when it is not set", function () {
      const result = backup({ BACKUP_DESTINATION: "" });
      assert.equal(result.status, 1);
      assert.match(result.stderr, /BACKUP_DESTINATION is not set; set it to s3:\/\/bucket/);
    });

    it("fails naming PGDATABASE when it is not set", function () {
      const result = backup({ PGDATABASE: undefined });
      assert.equal(result.status, 1);
      assert.match(result.stderr, /PGDATABASE is not set; set it to the name of the database/);
    });

    it("rejects a destination that is neither s3:// nor an absolute path", function () {
      const result = backup({ BACKUP_DESTINATION: "backups" });
      assert.equal(result.status, 1);
      assert.match(result.stderr, /BACKUP_DESTINATION=backups is neither s3:\/\//);
    });

    it("fails clearly and leaves no file when the server is unreachable", async function () {
      const closedPort = await unusedLoopbackPort();
      const emptyDir = freshDir();
      const result = backup({
        BACKUP_DESTINATION: emptyDir,
        PGHOST: "127.0.0.1",
        PGPORT: String(closedPort),
      });
      assert.equal(result.status, 1);
      assert.match(result.stderr, new RegExp(`pg_dump of database bot3_engine on 127.0.0.1:`));
      assert.match(result.stderr, /Connection refused/);
      assert.deepEqual(fs.readdirSync(emptyDir), []);
      assert.ok(!result.stderr.includes(password), "password printed");
    });

    it("fails without printing the password when the server rejects it", function () {
      const wrong = "Wrong-Password-7d1e";
      const result = backup({ PGPASSWORD: wrong });
      assert.equal(result.status, 1);
      assert.match(result.stderr, /password authentication failed for user "bot3_admin"/);
      assert.ok(!(result.stdout + result.stderr).includes(wrong), "password printed");
    });

    it("connects with a mounted password file instead of PGPASSWORD", function () {
      const passFile = path.join(root, "pgpass");
      fs.writeFileSync(passFile, `*:*:*:${superuser}:${password}\n`, { mode: 0o600 });
      const result = backup({ PGPASSWORD: undefined, PGPASSFILE: passFile });
      assert.equal(result.status, 0, result.stderr);
      assert.ok(!(result.stdout + result.stderr).includes(password), "password printed");
    });

    it("fails naming PGPASSFILE when the file is not there", function () {
      const result = backup({ PGPASSWORD: undefined, PGPASSFILE: "/nonexistent/pgpass" });
      assert.equal(result.status, 1);
      assert.match(result.stderr, /PGPASSFILE=\/nonexistent\/pgpass is not a readable file/);
    });

    it("uploads to S3 with SSE-KMS and checks the stored size", function () {
      const workDir = fs.mkdtempSync(path.join(root, "work-"));
      const result = backup({
        BACKUP_DESTINATION: "s3://bot3-backups/postgres/",
        BACKUP_WORK_DIR: workDir,
      });
      assert.equal(result.status, 0, result.stderr);
      const uri = result.stdout.trim();
      const name = uri.replace("s3://bot3-backups/postgres/", "");
      assert.match(name, dumpNamePattern);
      const [upload, listing, ...rest] = recordedAwsCalls();
      assert.deepEqual(rest, []);
      assert.deepEqual(upload.slice(0, 2), ["s3", "cp"]);
      assert.equal(path.basename(upload[2]), name);
      assert.deepEqual(upload.slice(3), [uri, "--sse", "aws:kms", "--only-show-errors"]);
      assert.deepEqual(listing, ["s3", "ls", uri]);
      assert.ok(fs.statSync(path.join(bucketDir, "bot3-backups", "postgres", name)).size > 0);
      assert.deepEqual(fs.readdirSync(workDir), [], "scratch dump removed");
    });

    it("passes BACKUP_KMS_KEY_ID to aws as --sse-kms-key-id", function () {
      const keyArn = "arn:aws:kms:eu-west-1:111122223333:key/backup";
      const result = backup({ BACKUP_DESTINATION: "s3://bot3-backups", BACKUP_KMS_KEY_ID: keyArn });
      assert.equal(result.status, 0, result.stderr);
      const upload = recordedAwsCalls()[0];
      assert.deepEqual(upload.slice(4, 8), ["--sse", "aws:kms", "--sse-kms-key-id", keyArn]);
    });

    it("fails naming the URI when the S3 upload fails", function () {
      const result = backup({ BACKUP_DESTINATION: "s3://bot3-backups/pg", FAKE_AWS_FAIL: "s3 cp" });
      assert.equal(result.status, 1);
      assert.match(result.stderr, /upload to s3:\/\/bot3-backups\/pg\/bot3_engine-\S+ failed/);
    });

    it("fails when the uploaded object cannot be found afterwards", function () {
      const result = backup({ BACKUP_DESTINATION: "s3://lost/pg", FAKE_AWS_DROP_UPLOADS: "1" });
      assert.equal(result.status, 1);
      assert.match(result.stderr, /cannot list s3:\/\/lost\/pg\/bot3_engine-\S+ after the upload/);
    });
  });

  describe("restore-postgres.sh", function () {
    let sourceFingerprint = "";
    before(function () {
      sourceFingerprint = psql(sourceDb, fingerprintSql);
    });

    it("prints its usage with --help", function () {
      const result = restore(["--help"]);
      assert.equal(result.status, 0);
      assert.match(result.stdout, /^Usage: restore-postgres.sh \[--force\]/);
      assert.match(result.stdout, /"latest" for the newest dump/);
    });

    it("restores the latest dump of the prefix into a new database, row for row", function () {
      // Decoys: an older dump of this prefix and a newer one of another prefix, both of an
      // almost empty database, so picking either one fails the comparison.
      psql("postgres", "CREATE DATABASE bot3_decoy");
      psql("bot3_decoy", "CREATE TABLE decoy (id int)");
      const decoy = backup({ PGDATABASE: "bot3_decoy", BACKUP_DESTINATION: backupDir });
      const decoyFile = decoy.stdout.trim();
      fs.copyFileSync(decoyFile, path.join(backupDir, "other-29991231T235959Z.dump"));
      fs.renameSync(decoyFile, path.join(backupDir, "bot3_engine-20000101T000000Z.dump"));
      assert.equal(backup({ BACKUP_DESTINATION: backupDir }).status, 0);

      const result = restore(["--from", backupDir, "--prefix", sourceDb, "latest", "restored"]);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(psql("restored", fingerprintSql), sourceFingerprint);
      assert.match(sourceFingerprint, /^orders\|200\|.*\nfills\|300\|.*\npositions\|4\|/);
      assert.match(result.stdout, /public\.fills\t300\npublic\.orders\t200\npublic\.positions\t4/);
      const note = psql("restored", "SELECT note FROM orders WHERE client_order_id = 'co-7'");
      assert.equal(note, 'Ордер №7 🚀 "quoted" back\\slash\ttab\nnewline\n');
    });

    it("lists the dumps of a directory oldest first", function () {
      const result = restore(["--list", "--from", backupDir]);
      assert.equal(result.status, 0, result.stderr);
      const names = result.stdout.trim().split("\n");
      assert.equal(names[0], "bot3_engine-20000101T000000Z.dump");
      assert.equal(names[names.length - 1], "other-29991231T235959Z.dump");
    });

    it("refuses a target that already has tables and leaves it unchanged", function () {
      psql("postgres", "CREATE DATABASE occupied");
      psql("occupied", "CREATE TABLE orders (id int); INSERT INTO orders VALUES (42)");
      const result = restore(["--from", backupDir, "--prefix", sourceDb, "latest", "occupied"]);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /occupied already has 1 tables; .* or pass --force/);
      assert.equal(psql("occupied", "SELECT id FROM orders"), "42\n");
    });

    it("replaces the dump's objects in an occupied target with --force", function () {
      const args = ["--force", "--from", backupDir, "--prefix", sourceDb, "latest", "occupied"];
      const result = restore(args);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(psql("occupied", fingerprintSql), sourceFingerprint);
    });

    it("restores the latest dump from S3 through aws s3 cp", function () {
      fs.rmSync(bucketDir, { recursive: true, force: true });
      const uri = backup({ BACKUP_DESTINATION: "s3://bot3-backups/pg" }).stdout.trim();
      fs.rmSync(awsCalls);
      const result = restore(["--from", "s3://bot3-backups/pg", "latest", "from_s3"]);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(psql("from_s3", fingerprintSql), sourceFingerprint);
      const [listing, download] = recordedAwsCalls();
      assert.deepEqual(listing, ["s3", "ls", "s3://bot3-backups/pg/"]);
      assert.deepEqual([download[2], download[4]], [uri, "--only-show-errors"]);
    });

    it("rejects a file that is not a dump before creating the target", function () {
      const junk = path.join(root, "junk.dump");
      fs.writeFileSync(junk, "not a dump");
      const result = restore([junk, "never_created"]);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /junk\.dump is not a pg_dump custom-format archive/);
      assert.equal(databaseExists("never_created"), false);
    });
  });
});

async function unusedLoopbackPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP port");
  return address.port;
}
