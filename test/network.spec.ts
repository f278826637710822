import { expect } from "chai";
import { availabilityZoneAt } from "../components/network";
import { cidrRange, subnetLayout, subnetLayoutProblem } from "../settings/subnetLayout";
import { resource, resourcesOfType, runStack, settingsErrorFor, type ProgramRun } from "./harness";

const subnetType = "aws:ec2/subnet:Subnet";
const natType = "aws:ec2/natGateway:NatGateway";
const routeTableType = "aws:ec2/routeTable:RouteTable";

/** AWS types that have no tags argument. */
const untaggableTypes = [
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
];

function subnets(run: ProgramRun, kind: "public" | "private") {
  return resourcesOfType(run, subnetType).filter((s) => s.name.includes(`-${kind}-`));
}

function overlaps(a: string, b: string): boolean {
  const x = cidrRange(a);
  const y = cidrRange(b);
  return x.first <= y.last && y.first <= x.last;
}

describe("subnetLayout", () => {
  const cases: [string, number][] = [
    ["10.0.0.0/16", 2],
    ["10.0.0.0/16", 3],
    ["10.20.0.0/16", 4],
    ["172.16.0.0/20", 5],
    ["10.0.0.0/22", 6],
    ["192.168.0.0/23", 3],
  ];
  for (const [vpcCidr, zones] of cases) {
    it(`gives ${zones} zones of ${vpcCidr} subnets that fit in the VPC and do not overlap`, () => {
      const layout = subnetLayout(vpcCidr, zones);
      const vpc = cidrRange(vpcCidr);
      const all = layout.flatMap((z) => [z.privateCidr, z.publicCidr]);
      expect(layout).to.have.length(zones);
      for (const cidr of all) {
        const range = cidrRange(cidr);
        expect(range.first, cidr).to.be.at.least(vpc.first);
        expect(range.last, cidr).to.be.at.most(vpc.last);
        expect(Number(cidr.split("/")[1]), cidr).to.be.at.most(28);
      }
      for (let i = 0; i < all.length; i++) {
        for (let j = i + 1; j < all.length; j++) {
          expect(overlaps(all[i], all[j]), `${all[i]} and ${all[j]}`).to.equal(false);
        }
      }
    });
  }

  it("gives private subnets four times the addresses of public ones", () => {
    expect(subnetLayout("10.0.0.0/16", 3)).to.deep.equal([
      { privateCidr: "10.0.0.0/19", publicCidr: "10.0.128.0/21" },
      { privateCidr: "10.0.32.0/19", publicCidr: "10.0.136.0/21" },
      { privateCidr: "10.0.64.0/19", publicCidr: "10.0.144.0/21" },
    ]);
  });

  it("refuses a VPC too small for the zones, naming both settings and the fix", () => {
    expect(subnetLayoutProblem("10.0.0.0/24", 3)).to.equal(
      "bot3:network.vpcCidr 10.0.0.0/24 is too small for 3 zones (bot3:network.availabilityZones): " +
        "the public subnets would be /29, below AWS's /28 minimum; use a /23 or larger range, " +
        "or fewer zones",
    );
    expect(() => subnetLayout("10.0.0.0/24", 3)).to.throw("too small for 3 zones");
  });

  it("refuses a VPC larger than AWS allows", () => {
    expect(subnetLayoutProblem("10.0.0.0/8", 3)).to.match(/larger than AWS allows for a VPC/);
  });
});

describe("Network", () => {
  let staging: ProgramRun;
  let production: ProgramRun;
  before(async () => {
    staging = await runStack("staging");
    production = await runStack("production");
  });

  it("creates a VPC on the range from settings, with DNS for the private endpoint", () => {
    const vpc = resource(staging, "aws:ec2/vpc:Vpc", "bot3-vpc");
    expect(vpc.inputs.cidrBlock).to.equal("10.20.0.0/16");
    expect(vpc.inputs.enableDnsHostnames).to.equal(true);
    expect(vpc.inputs.enableDnsSupport).to.equal(true);
  });

  it("puts a public and a private subnet in each of the zones the settings ask for", () => {
    for (const kind of ["public", "private"] as const) {
      const zones = subnets(staging, kind).map((s) => s.inputs.availabilityZone);
      expect(zones, kind).to.deep.equal(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    }
    expect(subnets(staging, "private").map((s) => s.inputs.cidrBlock)).to.deep.equal(
      subnetLayout("10.20.0.0/16", 3).map((z) => z.privateCidr),
    );
  });

  it("tags public subnets for internet-facing and private ones for internal load balancers", () => {
    for (const subnet of subnets(staging, "public")) {
      expect(subnet.inputs.tags).to.include({
        "kubernetes.io/role/elb": "1",
        "kubernetes.io/cluster/bot3-staging": "shared",
      });
      expect(subnet.inputs.mapPublicIpOnLaunch).to.equal(false);
    }
    for (const subnet of subnets(staging, "private")) {
      expect(subnet.inputs.tags).to.include({
        "kubernetes.io/role/internal-elb": "1",
        "kubernetes.io/cluster/bot3-staging": "shared",
      });
    }
  });

  it("shares one NAT gateway in staging and routes every private subnet through it", () => {
    const nats = resourcesOfType(staging, natType);
    expect(nats).to.have.length(1);
    const privateTables = resourcesOfType(staging, routeTableType).filter((t) =>
      t.name.includes("private"),
    );
    expect(privateTables).to.have.length(3);
    for (const table of privateTables) {
      expect(table.inputs.routes).to.deep.equal([
        { cidrBlock: "0.0.0.0/0", natGatewayId: `${nats[0].name}-id` },
      ]);
    }
  });

  it("gives production a NAT gateway per zone, each in its own zone's public subnet", () => {
    const nats = resourcesOfType(production, natType);
    expect(nats.map((n) => n.inputs.subnetId)).to.deep.equal(
      subnets(production, "public").map((s) => `${s.name}-id`),
    );
    const routes = resourcesOfType(production, routeTableType)
      .filter((t) => t.name.includes("private"))
      .map((t) => (t.inputs.routes as { natGatewayId: string }[])[0].natGatewayId);
    expect(routes).to.deep.equal(nats.map((n) => `${n.name}-id`));
  });

  it("sends the public subnets' default route to the internet gateway", () => {
    const table = resource(staging, routeTableType, "bot3-public-rt");
    expect(table.inputs.routes).to.deep.equal([
      { cidrBlock: "0.0.0.0/0", gatewayId: "bot3-igw-id" },
    ]);
  });

  it("logs all VPC traffic to a log group with the retention from settings", () => {
    const flowLog = resource(production, "aws:ec2/flowLog:FlowLog", "bot3-flow-log");
    const group = resource(production, "aws:cloudwatch/logGroup:LogGroup", "bot3-flow-logs");
    expect(flowLog.inputs.trafficType).to.equal("ALL");
    expect(flowLog.inputs.logDestinationType).to.equal("cloud-watch-logs");
    expect(flowLog.inputs.logDestination).to.contain("/aws/vpc/bot3-production/flow-logs");
    expect(group.inputs.retentionInDays).to.equal(90);
  });

  it("leaves the VPC's default security group without rules", () => {
    const group = resource(
      staging,
      "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
      "bot3-default-sg",
    );
    expect(group.inputs.ingress ?? []).to.deep.equal([]);
    expect(group.inputs.egress ?? []).to.deep.equal([]);
  });

  it("tags every taggable AWS resource of the network and cluster with the common tags", () => {
    for (const run of [staging, production]) {
      const taggable = run.resources.filter(
        (r) =>
          r.type.startsWith("aws:") &&
          !untaggableTypes.includes(r.type) &&
          /::bot3:(network|cluster):/.test(r.urn),
      );
      expect(taggable.length).to.be.greaterThan(30);
      for (const r of taggable) {
        expect(r.inputs.tags, `${r.type} ${r.name}`).to.include({
          project: "bot3",
          environment: run.stack,
          "managed-by": "pulumi",
        });
      }
    }
  });

  it("fails with the setting's name when the region has fewer zones than asked for", () => {
    // Checked in the component (the region's zones are only known at deploy time) and
    // called directly: a failed Output would leave the offline run waiting on it forever.
    expect(() => availabilityZoneAt(["eu-west-1a", "eu-west-1b"], 0, 3)).to.throw(
      "bot3:network.availabilityZones is 3, but the region has only 2 available zones " +
        "(eu-west-1a, eu-west-1b); lower the setting to 2 or less",
    );
    expect(availabilityZoneAt(["eu-west-1a", "eu-west-1b"], 1, 2)).to.equal("eu-west-1b");
  });

  it("refuses a VPC range too small for its zones before creating anything", async () => {
    const error = await settingsErrorFor("staging", {
      "bot3:network": { vpcCidr: "10.20.0.0/25" },
    });
    expect(error.name).to.equal("SettingsError");
    expect(error.message).to.contain("bot3:network.vpcCidr 10.20.0.0/25 is too small for 3 zones");
  });
});
