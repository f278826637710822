// Grafana dashboard JSON, and the layout of panels on its grid.

/** Every panel and query reads from the data source the viewer picks in this variable. */
export const datasourceRef = { type: "prometheus", uid: "${datasource}" } as const;

export interface GrafanaTarget {
  refId: string;
  expr: string;
  legendFormat: string;
  datasource: typeof datasourceRef;
}

interface ThresholdStep {
  color: string;
  value: number | null;
}

export interface GrafanaPanel {
  id: number;
  type: "timeseries" | "stat" | "gauge";
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: typeof datasourceRef;
  targets: GrafanaTarget[];
  fieldConfig: {
    defaults: {
      unit: string;
      min?: number;
      max?: number;
      thresholds?: { mode: "absolute"; steps: ThresholdStep[] };
    };
    overrides: never[];
  };
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  tags: string[];
  timezone: "utc";
  schemaVersion: number;
  version: number;
  editable: boolean;
  refresh: string;
  time: { from: string; to: string };
  templating: {
    list: {
      name: "datasource";
      label: string;
      type: "datasource";
      query: "prometheus";
      current: Record<string, never>;
      hide: 0;
    }[];
  };
  panels: GrafanaPanel[];
}

/** A panel before layout: queries are `[PromQL, legend]` pairs. */
export interface PanelSpec {
  title: string;
  type?: GrafanaPanel["type"];
  unit: string;
  /** Columns of Grafana's 24-column grid. Default 12. */
  width?: number;
  queries: [string, string][];
  range?: { min: number; max: number };
  /** Values from which the panel turns orange, then red. */
  warnAt?: [number, number];
}

const panelHeight = 8;

/** A dashboard with the data source variable every panel uses. */
export function dashboard(uid: string, title: string, specs: PanelSpec[]): GrafanaDashboard {
  return {
    uid,
    title,
    tags: ["bot3"],
    timezone: "utc",
    schemaVersion: 39,
    version: 1,
    editable: false,
    refresh: "30s",
    time: { from: "now-6h", to: "now" },
    templating: {
      list: [
        {
          name: "datasource",
          label: "Data source",
          type: "datasource",
          query: "prometheus",
          current: {},
          hide: 0,
        },
      ],
    },
    panels: layOut(specs),
  };
}

/** Places panels left to right on Grafana's 24-column grid, starting a row when one is full. */
function layOut(specs: PanelSpec[]): GrafanaPanel[] {
  let x = 0;
  let y = 0;
  return specs.map((spec, index) => {
    const w = spec.width ?? 12;
    if (x + w > 24) {
      x = 0;
      y += panelHeight;
    }
    const gridPos = { x, y, w, h: panelHeight };
    x += w;
    return {
      id: index + 1,
      type: spec.type ?? "timeseries",
      title: spec.title,
      gridPos,
      datasource: datasourceRef,
      targets: spec.queries.map(([expr, legendFormat], query) => ({
        refId: String.fromCharCode(65 + query),
        expr,
        legendFormat,
        datasource: datasourceRef,
      })),
      fieldConfig: { defaults: fieldDefaults(spec), overrides: [] },
    };
  });
}

function fieldDefaults(spec: PanelSpec): GrafanaPanel["fieldConfig"]["defaults"] {
  const defaults: GrafanaPanel["fieldConfig"]["defaults"] = { unit: spec.unit, ...spec.range };
  if (spec.warnAt) {
    const [orange, red] = spec.warnAt;
    defaults.thresholds = {
      mode: "absolute",
      steps: [
        { color: "green", value: null },
        { color: "orange", value: orange },
        { color: "red", value: red },
      ],
    };
  }
  return defaults;
}
