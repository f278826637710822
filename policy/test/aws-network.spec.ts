import { strict as assert } from "node:assert";
import { messagesOf } from "./policy-harness";
import { resource } from "./workload-builders";

const policy = "security-groups-no-open-ingress";
const group = (ingress: Record<string, unknown>[]) =>
  resource("aws:ec2/securityGroup:SecurityGroup", "web", { ingress });
const rule = (props: Record<string, unknown>) =>
  resource("aws:ec2/securityGroupRule:SecurityGroupRule", "ssh", { type: "ingress", ...props });
const vpcRule = (props: Record<string, unknown>) =>
  resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "db", props);

describe("security-groups-no-open-ingress", () => {
  it("accepts HTTPS and HTTP from anywhere and any port from a private range", () => {
    const resources = [
      group([
        { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
        { protocol: "tcp", fromPort: 80, toPort: 80, ipv6CidrBlocks: ["::/0"] },
        { protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["10.0.0.0/16"] },
      ]),
      rule({ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }),
      rule({ type: "egress", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }),
      vpcRule({ ipProtocol: "tcp", fromPort: 5432, toPort: 5432, cidrIpv4: "10.0.0.0/16" }),
    ];
    assert.deepEqual(messagesOf(policy, resources), []);
  });

  it("flags SSH open to the internet in an inline ingress block", () => {
    const open = group([{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }]);
    assert.deepEqual(messagesOf(policy, [open]), [
      'Security group "web" opens tcp ports 22-22 to 0.0.0.0/0 in ingress[0]. Restrict the ' +
        "source to " +
        "known CIDRs or security groups; only TCP 80 and 443 may be open to the internet.",
    ]);
  });

  it("flags a SecurityGroupRule range that includes 443 but also other ports", () => {
    const open = rule({ protocol: "tcp", fromPort: 80, toPort: 443, ipv6CidrBlocks: ["::/0"] });
    assert.match(
      messagesOf(policy, [open])[0],
      /Security group rule "ssh" opens tcp ports 80-443 to ::\/0/,
    );
  });

  it("flags a SecurityGroupIngressRule for all protocols from anywhere", () => {
    const open = vpcRule({ ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" });
    assert.match(messagesOf(policy, [open])[0], /opens all protocols and ports to 0\.0\.0\.0\/0/);
  });
});
