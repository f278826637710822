// PromQL inspection shared by the alert rule and dashboard specs, on the same Lezer grammar
// that Prometheus' own web UI uses.
import { createRequire } from "module";
import type * as LezerPromql from "@prometheus-io/lezer-promql" with {
  "resolution-mode": "require",
};

// The package is an ES module with a CommonJS build; requiring that build keeps this file
// CommonJS like the rest of the project.
const { parser } = createRequire(__filename)("@prometheus-io/lezer-promql") as typeof LezerPromql;

/** One `metric{label op "value", ...}` selector of an expression. */
export interface VectorSelector {
  metric: string;
  /** Matchers as written, e.g. `namespace="bot3"`, keyed by label name. */
  matchers: Map<string, string>;
}

/** Where the parser found an error, as `at <offset>: <surrounding text>`; empty if none. */
export function promqlSyntaxErrors(expr: string): string[] {
  const errors: string[] = [];
  if (expr.trim() === "") return ["the expression is empty"];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) {
        errors.push(`at ${node.from}: "${expr.slice(Math.max(0, node.from - 15), node.to + 15)}"`);
      }
    },
  });
  return errors;
}

/** Every vector selector of an expression, including those inside range selectors. */
export function vectorSelectors(expr: string): VectorSelector[] {
  const selectors: VectorSelector[] = [];
  const text = (from: number, to: number): string => expr.slice(from, to);
  parser.parse(expr).iterate({
    enter(node) {
      if (node.name !== "VectorSelector") return;
      const identifier = node.node.getChild("Identifier");
      const matchers = new Map<string, string>();
      const matcherList = node.node.getChild("LabelMatchers");
      for (const matcher of matcherList?.getChildren("UnquotedLabelMatcher") ?? []) {
        const label = matcher.getChild("LabelName");
        if (label) matchers.set(text(label.from, label.to), text(matcher.from, matcher.to));
      }
      selectors.push({
        metric: identifier ? text(identifier.from, identifier.to) : "",
        matchers,
      });
    },
  });
  return selectors;
}
