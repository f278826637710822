/**
 * Security group ingress never opens ports other than HTTP and HTTPS to the whole internet,
 * whichever of the three @pulumi/aws 7.x resources declares the rule.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isRecord } from "../kubernetes/pod-template";
import { resourcePolicy } from "../resource-policy";

const worldCidrs = ["0.0.0.0/0", "::/0"];
const webPorts = [80, 443];

/** Whether an ingress rule reaches only ports 80 or 443; "-1"/"all" means every port. */
export function onlyWebPorts(protocol: unknown, fromPort: unknown, toPort: unknown): boolean {
  if (protocol === "-1" || protocol === "all" || protocol === -1) {
    return false;
  }
  return (
    typeof fromPort === "number" &&
    fromPort === toPort &&
    webPorts.includes(fromPort) &&
    (String(protocol).toLowerCase() === "tcp" || protocol === "6")
  );
}

function describePorts(protocol: unknown, fromPort: unknown, toPort: unknown): string {
  if (protocol === "-1" || protocol === "all" || protocol === -1) {
    return "all protocols and ports";
  }
  return `${String(protocol)} ports ${String(fromPort)}-${String(toPort)}`;
}

const fix =
  "Restrict the source to known CIDRs or security groups; only TCP 80 and 443 may be open to " +
  "the internet.";

export const securityGroupIngressPolicy: ResourceValidationPolicy = resourcePolicy({
  name: "security-groups-no-open-ingress",
  description: "Security groups open only TCP 80 and 443 to 0.0.0.0/0 or ::/0.",
  enforcementLevel: "mandatory",
  severity: "critical",
  types: [
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/securityGroupRule:SecurityGroupRule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  ],
  check: ({ name, type, props, report, attempt }) => {
    if (type === "aws:ec2/securityGroup:SecurityGroup") {
      attempt(() => {
        const ingress: unknown = props.ingress;
        (Array.isArray(ingress) ? ingress : []).forEach((rule: unknown, index) =>
          attempt(() => {
            const entry = isRecord(rule) ? rule : {};
            const cidrs = [entry.cidrBlocks, entry.ipv6CidrBlocks].flatMap((list) =>
              Array.isArray(list) ? (list as unknown[]) : [],
            );
            const open = cidrs.filter((cidr) => worldCidrs.includes(cidr as string));
            if (open.length > 0 && !onlyWebPorts(entry.protocol, entry.fromPort, entry.toPort)) {
              const ports = describePorts(entry.protocol, entry.fromPort, entry.toPort);
              report(
                `Security group "${name}" opens ${ports} to ${open.join(", ")} in ` +
                  `ingress[${index}]. ${fix}`,
              );
            }
          }),
        );
      });
      return;
    }
    attempt(() => {
      if (type === "aws:ec2/securityGroupRule:SecurityGroupRule" && props.type !== "ingress") {
        return;
      }
      const cidrs =
        type === "aws:ec2/securityGroupRule:SecurityGroupRule"
          ? [props.cidrBlocks, props.ipv6CidrBlocks].flatMap((list) =>
              Array.isArray(list) ? (list as unknown[]) : [],
            )
          : [props.cidrIpv4, props.cidrIpv6];
      const open = cidrs.filter((cidr) => worldCidrs.includes(cidr as string));
      const protocol =
        type === "aws:ec2/securityGroupRule:SecurityGroupRule" ? props.protocol : props.ipProtocol;
      if (open.length > 0 && !onlyWebPorts(protocol, props.fromPort, props.toPort)) {
        const ports = describePorts(protocol, props.fromPort, props.toPort);
        report(`Security group rule "${name}" opens ${ports} to ${open.join(", ")}. ${fix}`);
      }
    });
  },
});
