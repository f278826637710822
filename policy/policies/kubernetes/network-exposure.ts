/**
 * How workloads are reached from outside the cluster: node-level and cloud load-balancer
 * Services only where the stack allows them, and TLS on every Ingress host.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { DeferredUnknowns } from "../preview-unknowns";
import { ExemptionConfig, exemptResourcesSchema } from "./pod-policy";
import { isRecord } from "./pod-template";

interface ServiceExposureConfig extends ExemptionConfig {
  allowLoadBalancer?: boolean;
  allowNodePort?: boolean;
}

export const serviceExposurePolicy: ResourceValidationPolicy = {
  name: "services-not-exposed",
  description: "Services are LoadBalancer or NodePort only where the stack's config allows it.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: {
    properties: {
      exemptResources: exemptResourcesSchema,
      allowLoadBalancer: {
        type: "boolean",
        default: false,
        description: "Allow Services of type LoadBalancer (e.g. behind an internal NLB).",
      },
      allowNodePort: {
        type: "boolean",
        default: false,
        description: "Allow Services of type NodePort.",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== "kubernetes:core/v1:Service") {
      return;
    }
    const config = args.getConfig<ServiceExposureConfig>();
    if ((config.exemptResources ?? []).includes(args.name)) {
      return;
    }
    const spec: unknown = args.props.spec;
    const type = isRecord(spec) ? spec.type : undefined;
    const allowed =
      (type === "LoadBalancer" && config.allowLoadBalancer === true) ||
      (type === "NodePort" && config.allowNodePort === true);
    if ((type === "LoadBalancer" || type === "NodePort") && !allowed) {
      const option = type === "LoadBalancer" ? "allowLoadBalancer" : "allowNodePort";
      reportViolation(
        `Service "${args.name}" sets spec.type to "${type}", which this stack does not allow. ` +
          `Use ClusterIP behind the Ingress, or set ${option} (or exemptResources) in the ` +
          `services-not-exposed policy config.`,
      );
    }
  },
};

/** Whether a TLS host entry covers a rule host; a wildcard covers exactly one label. */
export function tlsHostCovers(tlsHost: string, host: string): boolean {
  if (tlsHost === host) {
    return true;
  }
  if (tlsHost.startsWith("*.")) {
    const suffix = tlsHost.slice(1);
    return host.endsWith(suffix) && !host.slice(0, -suffix.length).includes(".");
  }
  return false;
}

export const ingressTlsPolicy: ResourceValidationPolicy = {
  name: "ingress-tls",
  description: "Every Ingress serves all of its hosts over TLS.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: { properties: { exemptResources: exemptResourcesSchema } },
  validateResource: (args, reportViolation) => {
    if (args.type !== "kubernetes:networking.k8s.io/v1:Ingress") {
      return;
    }
    const { exemptResources = [] } = args.getConfig<ExemptionConfig>();
    if (exemptResources.includes(args.name)) {
      return;
    }
    const unknowns = new DeferredUnknowns();
    const subject = `Ingress "${args.name}"`;
    const spec: unknown = args.props.spec;
    const specRecord = isRecord(spec) ? spec : {};
    // Read inside each part, so an unknown spec.tls leaves that part undecided, never passed.
    const tlsHosts = (): string[] => {
      const tls: unknown = specRecord.tls;
      return (Array.isArray(tls) ? tls : []).flatMap((entry: unknown) =>
        isRecord(entry) && Array.isArray(entry.hosts)
          ? entry.hosts.filter((host): host is string => typeof host === "string")
          : [],
      );
    };
    unknowns.attempt(() => {
      const rules: unknown = specRecord.rules;
      if (!Array.isArray(rules) || rules.length === 0) {
        reportViolation(
          `${subject} has no spec.rules, so its default backend answers every host and TLS ` +
            "cannot cover it. Add a rule per host and list every host in spec.tls[].hosts.",
        );
        return;
      }
      rules.forEach((rule: unknown, index) =>
        unknowns.attempt(() => {
          const host = isRecord(rule) ? rule.host : undefined;
          if (typeof host !== "string" || host === "") {
            reportViolation(
              `${subject} does not set spec.rules[${index}].host, so the rule answers every ` +
                "host and TLS cannot cover it. Set the host and list it in spec.tls[].hosts.",
            );
          } else if (!tlsHosts().some((tlsHost) => tlsHostCovers(tlsHost, host))) {
            reportViolation(
              `${subject} serves spec.rules[${index}].host "${host}" without TLS. ` +
                `Add "${host}" to spec.tls[].hosts with a certificate secret.`,
            );
          }
        }),
      );
    });
    unknowns.settle();
  },
};

export const networkExposurePolicies: ResourceValidationPolicy[] = [
  serviceExposurePolicy,
  ingressTlsPolicy,
];
