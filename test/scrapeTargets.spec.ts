import { expect } from "chai";
import { resourcesOfType, runStack, type ProgramRun } from "./harness";

// The ServiceMonitors are written by the monitoring stack, the Services they must find by the
// engine and the data stores: this spec reads both sides from what each stack declares.

interface MonitorSpec {
  selector: { matchLabels?: Record<string, string>; matchExpressions?: Expression[] };
  namespaceSelector?: { matchNames?: string[] };
  endpoints: { port: string }[];
}
interface Expression {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}
interface ServiceObject {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: { ports: { name?: string }[] };
}

function selects(selector: MonitorSpec["selector"], labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpression = (selector.matchExpressions ?? []).every((e) => {
    const value = labels[e.key];
    switch (e.operator) {
      case "In":
        return value !== undefined && (e.values ?? []).includes(value);
      case "NotIn":
        return value === undefined || !(e.values ?? []).includes(value);
      case "Exists":
        return value !== undefined;
      case "DoesNotExist":
        return value === undefined;
    }
  });
  return byLabel && byExpression;
}

function monitors(run: ProgramRun) {
  return resourcesOfType(run, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor").map((r) => ({
    name: (r.inputs.metadata as { name: string }).name,
    namespace: (r.inputs.metadata as { namespace: string }).namespace,
    spec: r.inputs.spec as MonitorSpec,
  }));
}

function services(run: ProgramRun): ServiceObject[] {
  return resourcesOfType(run, "kubernetes:core/v1:Service").map(
    (r) => r.inputs as unknown as ServiceObject,
  );
}

function targetsOf(run: ProgramRun, monitorName: string): string[] {
  const monitor = monitors(run).find((m) => m.name === monitorName);
  expect(monitor, monitorName).to.not.equal(undefined);
  const namespaces = monitor!.spec.namespaceSelector?.matchNames ?? [monitor!.namespace];
  const ports = monitor!.spec.endpoints.map((e) => e.port);
  return services(run)
    .filter((s) => namespaces.includes(s.metadata.namespace))
    .filter((s) => selects(monitor!.spec.selector, s.metadata.labels ?? {}))
    .filter((s) => s.spec.ports.some((p) => p.name !== undefined && ports.includes(p.name)))
    .map((s) => s.metadata.name)
    .sort();
}

describe("Scrape targets", () => {
  for (const stack of ["local", "staging", "production"]) {
    it(`${stack}: the engine's ServiceMonitor finds the engine's Service by label and port`, async () => {
      expect(targetsOf(await runStack(stack), "bot3-engine")).to.deep.equal(["bot3-engine"]);
    });
  }

  it("staging: the exporters' ServiceMonitor finds the PostgreSQL and Redis exporters only", async () => {
    const targets = targetsOf(await runStack("staging"), "bot3-data-store-exporters");
    expect(targets).to.have.length(2);
    expect(targets.join(" "))
      .to.match(/postgres/)
      .and.to.match(/redis/);
  });

  it("production, with managed stores, has no exporter ServiceMonitor", async () => {
    expect(monitors(await runStack("production")).map((m) => m.name)).to.deep.equal([
      "bot3-engine",
    ]);
  });
});
