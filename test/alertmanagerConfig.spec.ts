import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  alertmanagerConfigFile,
  alertmanagerConfiguration,
  discardReceiver,
  type WebhookReceiver,
} from "../components/monitoring/alertmanagerConfig";

const oncall = { name: "oncall", url: "https://hooks.example.invalid/oncall" };
const chat = { name: "chat", url: "https://hooks.example.invalid/chat" };

interface AmtoolRun {
  status: number | null;
  output: string;
}

/** Runs amtool; a missing amtool fails the test instead of skipping it. */
function amtool(...args: string[]): AmtoolRun {
  const run = spawnSync("amtool", args, { encoding: "utf8" });
  if (run.error) {
    throw new Error(
      `amtool could not be run (${run.error.message}). Install it from Debian's ` +
        "prometheus-alertmanager package: apt-get install -y --no-install-recommends " +
        "prometheus-alertmanager",
    );
  }
  return { status: run.status, output: run.stdout + run.stderr };
}

function configFile(receivers: WebhookReceiver[], text = alertmanagerConfigFile(receivers)) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bot3-am-")), "alertmanager.yaml");
  fs.writeFileSync(file, text);
  return file;
}

/** The receivers an alert with these labels is sent to, as amtool resolves the routing tree. */
function receiversFor(file: string, ...labels: string[]): string[] {
  const run = amtool("config", "routes", "test", `--config.file=${file}`, ...labels);
  expect(run.status, run.output).to.equal(0);
  return run.output.split("\n")[0].trim().split(",");
}

describe("AlertmanagerConfig", () => {
  for (const receivers of [[], [oncall], [oncall, chat]]) {
    it(`passes amtool check-config with ${receivers.length} receiver(s)`, () => {
      const run = amtool("check-config", configFile(receivers));
      expect(run.status, run.output).to.equal(0);
      expect(run.output).to.include("SUCCESS");
    });
  }

  it("fails amtool check-config for a route to an unknown receiver, so the check can fail", () => {
    const broken = alertmanagerConfiguration([oncall]);
    broken.route.receiver = "nobody";
    const run = amtool("check-config", configFile([], JSON.stringify(broken)));
    expect(run.status).to.not.equal(0);
  });

  it("sends critical and warning alerts to every receiver", () => {
    const file = configFile([oncall, chat]);
    expect(
      receiversFor(file, "severity=critical", "alertname=Bot3EngineUnavailable"),
    ).to.deep.equal(["oncall", "chat"]);
    expect(receiversFor(file, "severity=warning", "alertname=Bot3VolumeFillingUp")).to.deep.equal([
      "oncall",
      "chat",
    ]);
  });

  it("discards alerts of any other severity, such as the chart's Watchdog", () => {
    const file = configFile([oncall]);
    expect(receiversFor(file, "severity=none", "alertname=Watchdog")).to.deep.equal([
      discardReceiver,
    ]);
    expect(receiversFor(file, "severity=info")).to.deep.equal([discardReceiver]);
  });

  it("discards every alert when no receiver is configured", () => {
    expect(receiversFor(configFile([]), "severity=critical")).to.deep.equal([discardReceiver]);
  });

  it("lets a critical alert silence the warning of the same name and namespace", () => {
    const [rule] = alertmanagerConfiguration([oncall]).inhibit_rules;
    expect(rule).to.deep.equal({
      source_matchers: ['severity="critical"'],
      target_matchers: ['severity="warning"'],
      equal: ["namespace", "alertname"],
    });
  });

  it("puts each webhook URL in its receiver and reports resolved alerts", () => {
    const receivers = alertmanagerConfiguration([oncall, chat]).receivers;
    expect(receivers.find((r) => r.name === "chat")?.webhook_configs).to.deep.equal([
      { url: chat.url, send_resolved: true },
    ]);
  });

  it("refuses a receiver named like the built-in discard receiver, naming the setting", () => {
    expect(() => alertmanagerConfiguration([{ name: discardReceiver, url: oncall.url }])).to.throw(
      /bot3:monitoring\.receivers may not contain "discard"/,
    );
  });
});
