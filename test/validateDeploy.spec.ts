import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { generate } from "selfsigned";
import {
  checkCertificate,
  checkEngineHealth,
  checkGrafana,
  defaultValidationOptions,
  validateDeployment,
  type ValidationOptions,
} from "../tools/deployCheck/checks";
import { deployTargets, type DeployTargets } from "../tools/deployCheck/outputs";
import { checkPrometheusTargets, checkRecentBackup } from "../tools/deployCheck/prometheus";
import { parseArguments, report } from "../tools/validate-deploy";

// Every check runs against small fake servers on 127.0.0.1: HTTPS with certificates made here
// (a private CA standing in for the Let's Encrypt staging CA) and a plain HTTP Prometheus API.

type Route = (request: http.IncomingMessage, response: http.ServerResponse) => void;

interface FakeServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

const day = 86_400_000;

interface CommandRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs node with the arguments, feeding `input` on stdin; killed after 30 seconds. */
function runCommand(args: string[], input: string): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: "pipe", timeout: 30_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function listen(server: http.Server, protocol: string, route: Route): Promise<FakeServer> {
  const requests: string[] = [];
  server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => {
    requests.push(request.url ?? "");
    route(request, response);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${protocol}//127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

const json =
  (body: unknown, status = 200): Route =>
  (_request, response) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  };

const prometheusApi =
  (targets: unknown[], backupAgeSeconds: number | undefined): Route =>
  (request, response) => {
    const url = new URL(request.url ?? "/", "http://prometheus");
    if (url.pathname === "/api/v1/targets") {
      json({ status: "success", data: { activeTargets: targets } })(request, response);
    } else if (url.pathname === "/api/v1/query") {
      const result =
        backupAgeSeconds === undefined
          ? []
          : [{ metric: {}, value: [0, String(backupAgeSeconds)] }];
      json({ status: "success", data: { resultType: "vector", result } })(request, response);
    } else {
      json({ status: "error", error: `no route ${url.pathname}` }, 404)(request, response);
    }
  };

const target = (job: string, health = "up", lastError = "") => ({
  labels: { job, instance: `${job}-0:9090` },
  health,
  lastError,
});

describe("validate-deploy", function () {
  let ca: { cert: string; key: string };
  let trusted: { cert: string; key: string };
  let foreign: { cert: string; key: string };
  let expired: { cert: string; key: string };
  let expiringSoon: { cert: string; key: string };
  let wrongHost: { cert: string; key: string };
  let scratch: string;
  const servers: FakeServer[] = [];

  before(async function () {
    const leaf = async (
      signer: { cert: string; key: string } | undefined,
      names: { type: 2 | 7; value?: string; ip?: string }[],
      notBeforeDate: Date,
      notAfterDate: Date,
    ) => {
      const pems = await generate([{ name: "commonName", value: "bot3 test" }], {
        keyType: "ec",
        algorithm: "sha256",
        notBeforeDate,
        notAfterDate,
        ca: signer,
        extensions: [
          { name: "basicConstraints", cA: false },
          { name: "keyUsage", digitalSignature: true },
          { name: "extKeyUsage", serverAuth: true },
          { name: "subjectAltName", altNames: names },
        ],
      });
      return { cert: pems.cert, key: pems.private };
    };
    const now = Date.now();
    const caPems = await generate([{ name: "commonName", value: "(TEST) Bot3 Staging Root" }], {
      keyType: "ec",
      algorithm: "sha256",
      notBeforeDate: new Date(now - day),
      notAfterDate: new Date(now + 365 * day),
      extensions: [
        { name: "basicConstraints", cA: true, critical: true },
        { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
      ],
    });
    ca = { cert: caPems.cert, key: caPems.private };
    const loopback = [{ type: 7 as const, ip: "127.0.0.1" }];
    const past = new Date(now - day);
    trusted = await leaf(ca, loopback, past, new Date(now + 90 * day));
    foreign = await leaf(undefined, loopback, past, new Date(now + 90 * day));
    expired = await leaf(ca, loopback, new Date(now - 30 * day), new Date(now - day));
    expiringSoon = await leaf(ca, loopback, past, new Date(now + 5 * day));
    wrongHost = await leaf(
      ca,
      [{ type: 2, value: "bot3.example.com" }],
      past,
      new Date(now + 90 * day),
    );
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bot3-validate-deploy-"));
  });

  after(async function () {
    await Promise.all(servers.map((s) => s.close()));
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  async function httpsServer(pems: { cert: string; key: string }, route: Route) {
    const server = await listen(https.createServer(pems), "https:", route);
    servers.push(server);
    return server;
  }

  async function httpServer(route: Route) {
    const server = await listen(http.createServer(), "http:", route);
    servers.push(server);
    return server;
  }

  function options(overrides: Partial<ValidationOptions> = {}): ValidationOptions {
    return {
      ...defaultValidationOptions,
      prometheusUrl: undefined,
      extraCaCertificates: [ca.cert],
      timeoutMs: 2_000,
      attempts: 3,
      retryDelayMs: 10,
      ...overrides,
    };
  }

  const targetsFor = (engine: FakeServer, grafana: FakeServer = engine): DeployTargets =>
    deployTargets({ ingressUrl: engine.url, grafanaUrl: grafana.url, namespace: "bot3" });

  const healthy: Route = (request, response) => {
    if (request.url === "/healthz") json({ status: "ok" })(request, response);
    else if (request.url === "/api/health")
      json({ database: "ok", version: "12.0.0" })(request, response);
    else json({ error: "not found" }, 404)(request, response);
  };

  describe("a healthy deployment", function () {
    it("passes every check, trusting the staging CA given with --ca-file", async function () {
      const engine = await httpsServer(trusted, healthy);
      const prometheus = await httpServer(
        prometheusApi([target("bot3-engine"), target("kube-state-metrics")], 2 * 3600),
      );
      const results = await validateDeployment(
        targetsFor(engine),
        options({ prometheusUrl: new URL(prometheus.url) }),
      );
      assert.deepEqual(
        results.map((r) => [r.check, r.status]),
        [
          ["ingress TLS", "pass"],
          ["engine health", "pass"],
          ["grafana", "pass"],
          ["prometheus targets", "pass"],
          ["recent backup", "pass"],
        ],
        report(results),
      );
      assert.ok(engine.requests.includes("/healthz"));
      assert.ok(engine.requests.includes("/api/health"));
      const query = decodeURIComponent(prometheus.requests.find((r) => r.includes("query="))!);
      assert.match(
        query,
        /time\(\) - max\(kube_cronjob_status_last_successful_time\{namespace="bot3",cronjob="bot3-postgres-backup"\}\)/,
      );
      assert.match(report(results), /validate-deploy: 0 of 5 checks failed \(5 passed/);
    });

    it("reports the Prometheus checks as skipped, not passed, without Prometheus", async function () {
      const engine = await httpsServer(trusted, healthy);
      const results = await validateDeployment(targetsFor(engine), options());
      assert.deepEqual(
        results.filter((r) => r.status === "skip").map((r) => r.check),
        ["prometheus targets", "recent backup"],
      );
    });
  });

  describe("ingress TLS", function () {
    it("fails a certificate from an unknown CA, and says how to trust the staging CA", async function () {
      const engine = await httpsServer(foreign, healthy);
      const result = await checkCertificate(targetsFor(engine), options());
      assert.equal(result.status, "fail");
      assert.match(result.detail, /is not trusted \(.+\); for a staging stack, .*--ca-file <pem>/);
    });

    it("fails the staging CA's certificate when that CA is not given", async function () {
      const engine = await httpsServer(trusted, healthy);
      const result = await checkCertificate(
        targetsFor(engine),
        options({ extraCaCertificates: [] }),
      );
      assert.equal(result.status, "fail");
      assert.match(result.detail, /not trusted/);
    });

    it("fails an expired certificate and points at the runbook", async function () {
      const engine = await httpsServer(expired, healthy);
      const result = await checkCertificate(targetsFor(engine), options());
      assert.equal(result.status, "fail");
      assert.match(
        result.detail,
        /certificate of 127\.0\.0\.1 expired on .*Bot3CertificateExpiringSoon/,
      );
    });

    it("fails a certificate for another host", async function () {
      const engine = await httpsServer(wrongHost, healthy);
      const result = await checkCertificate(targetsFor(engine), options());
      assert.equal(result.status, "fail");
      assert.match(result.detail, /does not cover 127\.0\.0\.1 \(DNS:bot3\.example\.com\)/);
    });

    it("warns about a certificate that expires within 14 days", async function () {
      const engine = await httpsServer(expiringSoon, healthy);
      const result = await checkCertificate(targetsFor(engine), options());
      assert.equal(result.status, "warn", result.detail);
      assert.match(result.detail, /valid until .* \((4|5) days\)/);
    });

    it("fails when nothing listens on the ingress port", async function () {
      const engine = await httpsServer(trusted, healthy);
      await engine.close();
      const result = await checkCertificate(targetsFor(engine), options());
      assert.equal(result.status, "fail");
      assert.match(result.detail, /TLS connection to 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    });
  });

  describe("engine health", function () {
    it("retries a failing endpoint a bounded number of times, then fails", async function () {
      const engine = await httpsServer(trusted, json({ status: "starting" }, 503));
      const result = await checkEngineHealth(targetsFor(engine), options({ attempts: 3 }));
      assert.equal(result.status, "fail");
      assert.match(
        result.detail,
        /failed after 3 attempt\(s\): answered 503.*Bot3EngineUnavailable/,
      );
      assert.equal(engine.requests.length, 3);
    });

    it("passes when the endpoint recovers within the attempts", async function () {
      let calls = 0;
      const engine = await httpsServer(trusted, (request, response) =>
        json({}, ++calls < 2 ? 502 : 200)(request, response),
      );
      const result = await checkEngineHealth(targetsFor(engine), options());
      assert.equal(result.status, "pass", result.detail);
      assert.match(result.detail, /answered 200 \(attempt 2\)/);
    });

    it("gives up on an endpoint that never answers, within its time-outs", async function () {
      const engine = await httpsServer(trusted, () => {
        // Never answers.
      });
      const started = Date.now();
      const result = await checkEngineHealth(
        targetsFor(engine),
        options({ timeoutMs: 200, attempts: 2 }),
      );
      assert.equal(result.status, "fail");
      assert.match(result.detail, /after 2 attempt\(s\): no complete answer within 200 ms/);
      assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
    });

    it("does not retry a client error, and fails on it", async function () {
      const engine = await httpsServer(trusted, json({ error: "not found" }, 404));
      const result = await checkEngineHealth(targetsFor(engine), options());
      assert.equal(result.status, "fail");
      assert.match(result.detail, /\/healthz answered 404/);
      assert.equal(engine.requests.length, 1);
    });

    it("asks the path given with --health-path", async function () {
      const engine = await httpsServer(trusted, healthy);
      await checkEngineHealth(targetsFor(engine), options({ healthPath: "/readyz", attempts: 1 }));
      assert.deepEqual(engine.requests, ["/readyz"]);
    });
  });

  describe("grafana", function () {
    it("fails when Grafana reports its database is not ok", async function () {
      const engine = await httpsServer(trusted, healthy);
      const grafana = await httpsServer(trusted, json({ database: "failing" }, 503));
      const result = await checkGrafana(targetsFor(engine, grafana), options({ attempts: 1 }));
      assert.equal(result.status, "fail");
      assert.match(result.detail, /api\/health failed after 1 attempt\(s\): answered 503/);
    });

    it("fails an answer that is not Grafana's health document", async function () {
      const engine = await httpsServer(trusted, healthy);
      const grafana = await httpsServer(trusted, (_request, response) => response.end("<html>"));
      const result = await checkGrafana(targetsFor(engine, grafana), options());
      assert.equal(result.status, "fail");
      assert.match(result.detail, /answered 200 with database undefined/);
    });
  });

  describe("prometheus targets", function () {
    it("fails and names each target that is down, with its last error", async function () {
      const prometheus = await httpServer(
        prometheusApi(
          [target("bot3-engine"), target("postgres-exporter", "down", "connection refused")],
          60,
        ),
      );
      const result = await checkPrometheusTargets(new URL(prometheus.url), options());
      assert.equal(result.status, "fail");
      assert.equal(
        result.detail,
        "1 of 2 targets are not up: postgres-exporter postgres-exporter-0:9090 " +
          "(down: connection refused)",
      );
    });

    it("fails when the engine is not scraped at all", async function () {
      const prometheus = await httpServer(prometheusApi([target("kube-state-metrics")], 60));
      const result = await checkPrometheusTargets(new URL(prometheus.url), options());
      assert.equal(result.status, "fail");
      assert.match(result.detail, /no target of job bot3-engine among 1.*Bot3EngineScrapeFailing/);
    });

    it("fails with the API's own error message", async function () {
      const prometheus = await httpServer(json({ status: "error", error: "bad query" }, 400));
      const result = await checkPrometheusTargets(new URL(prometheus.url), options());
      assert.equal(result.status, "fail");
      assert.match(result.detail, /Prometheus API \/api\/v1\/targets answered 400: bad query/);
    });

    it("asks whether the port-forward runs when Prometheus cannot be reached", async function () {
      const prometheus = await httpServer(healthy);
      await prometheus.close();
      const result = await checkPrometheusTargets(new URL(prometheus.url), options());
      assert.equal(result.status, "fail");
      assert.match(result.detail, /ECONNREFUSED.*is the port-forward to Prometheus running\?/);
    });
  });

  describe("recent backup", function () {
    it("fails when the last successful backup is older than the limit", async function () {
      const prometheus = await httpServer(prometheusApi([], 30 * 3600));
      const result = await checkRecentBackup(new URL(prometheus.url), "bot3", options());
      assert.equal(result.status, "fail");
      assert.match(result.detail, /was 30\.0 h ago, more than 26 h; .*Bot3BackupTooOld/);
    });

    it("fails when no successful backup is recorded", async function () {
      const prometheus = await httpServer(prometheusApi([], undefined));
      const result = await checkRecentBackup(new URL(prometheus.url), "bot3", options());
      assert.equal(result.status, "fail");
      assert.match(result.detail, /no successful run of CronJob bot3\/bot3-postgres-backup/);
    });

    it("passes a backup within the limit set with --backup-max-age", async function () {
      const prometheus = await httpServer(prometheusApi([], 30 * 3600));
      const result = await checkRecentBackup(
        new URL(prometheus.url),
        "bot3",
        options({ backupMaxAgeHours: 36 }),
      );
      assert.equal(result.status, "pass", result.detail);
    });
  });

  describe("stack outputs", function () {
    it("name every missing or malformed output at once", function () {
      assert.throws(
        () => deployTargets({ ingressUrl: "http://bot3.example.com", namespace: "Bot3" }),
        (error: Error) => {
          assert.equal(
            error.message,
            [
              'stack output ingressUrl is "http://bot3.example.com"; it must start with https://.',
              "stack output grafanaUrl is missing; deploy a version that exports it.",
              'stack output namespace is "Bot3"; it must be a Kubernetes namespace.',
            ].join("\n"),
          );
          return true;
        },
      );
    });

    it("ignore secret outputs such as the kubeconfig", function () {
      const targets = deployTargets({
        kubeconfig: "[secret]",
        ingressUrl: "https://bot3.example.com",
        grafanaUrl: "https://grafana.bot3.example.com",
        namespace: "bot3",
      });
      assert.equal(targets.ingressUrl.hostname, "bot3.example.com");
    });
  });

  describe("command line", function () {
    it("needs exactly one source of outputs", function () {
      assert.throws(
        () => parseArguments(["--no-prometheus"]),
        /exactly one of --stack <name> and --outputs/,
      );
      assert.throws(
        () => parseArguments(["--stack", "staging", "--outputs", "-", "--no-prometheus"]),
        /exactly one of --stack/,
      );
    });

    it("needs Prometheus, or an explicit --no-prometheus, and says how to reach it", function () {
      assert.throws(
        () => parseArguments(["--stack", "staging"]),
        /--prometheus-url <url> and --no-prometheus; .*port-forward/,
      );
    });

    it("reads every --ca-file and refuses one without a certificate", function () {
      const files: Record<string, string> = {
        "a.pem": "-----BEGIN CERTIFICATE-----\nx",
        "b.txt": "no",
      };
      const read = ((file: string) => files[file]) as unknown as typeof fs.readFileSync;
      const parsed = parseArguments(
        ["--stack", "s", "--no-prometheus", "--ca-file", "a.pem"],
        read,
      );
      assert.deepEqual(parsed.options.extraCaCertificates, [files["a.pem"]]);
      assert.throws(
        () => parseArguments(["--stack", "s", "--no-prometheus", "--ca-file", "b.txt"], read),
        /--ca-file b\.txt holds no PEM certificate/,
      );
    });

    it("bounds the time-out and the attempts", function () {
      const base = ["--outputs", "-", "--prometheus-url", "http://127.0.0.1:9090"];
      const parsed = parseArguments([...base, "--timeout", "3", "--attempts", "2"]);
      assert.deepEqual([parsed.options.timeoutMs, parsed.options.attempts], [3000, 2]);
      assert.throws(
        () => parseArguments([...base, "--attempts", "50"]),
        /--attempts takes a number from 1 to 10/,
      );
      assert.throws(() => parseArguments([...base, "--timeout", "0"]), /--timeout takes a number/);
      assert.throws(
        () => parseArguments(["--outputs", "-", "--prometheus-url", "localhost:9090"]),
        /--prometheus-url takes an http\(s\) URL/,
      );
    });

    it("accepts every validate-deploy command that the runbook and workflows show", function () {
      const sources = ["docs/runbook.md", ".github/workflows/deploy-production.yml"].map((file) =>
        fs.readFileSync(path.join(__dirname, "..", file), "utf8").replace(/\\\n\s*/g, ""),
      );
      const commands = sources.flatMap((text) =>
        [...text.matchAll(/npm run (?:--silent )?validate-deploy -- ([^\n#`]*)/g)].map((m) =>
          m[1].trim().split(/\s+/),
        ),
      );
      assert.ok(commands.length >= 4, `found only ${commands.length} commands`);
      const pem = (() => "-----BEGIN CERTIFICATE-----\n") as unknown as typeof fs.readFileSync;
      for (const words of commands) {
        assert.doesNotThrow(() => parseArguments(words, pem), words.join(" "));
      }
    });

    it("runs end to end on outputs piped in, exiting 1 on a failed check", async function () {
      const engine = await httpsServer(trusted, json({}, 503));
      const caFile = path.join(scratch, "ca.pem");
      fs.writeFileSync(caFile, ca.cert);
      const outputs = { ingressUrl: engine.url, grafanaUrl: engine.url, namespace: "bot3" };
      const script = path.join(__dirname, "..", "tools", "validate-deploy.ts");
      // Asynchronously: the fake servers live in this process and must keep answering.
      const run = await runCommand(
        [
          require.resolve("ts-node/dist/bin.js"),
          "--transpile-only",
          script,
          "--outputs",
          "-",
          "--no-prometheus",
          "--ca-file",
          caFile,
          "--attempts",
          "1",
          "--timeout",
          "2",
        ],
        JSON.stringify(outputs),
      );
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stdout, /^PASS {2}ingress TLS/m);
      assert.match(run.stdout, /^FAIL {2}engine health .*answered 503/m);
      assert.match(run.stdout, /^SKIP {2}recent backup/m);
      assert.match(run.stdout, /validate-deploy: 2 of 5 checks failed/);
    });
  });
});
