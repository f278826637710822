import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { NetworkSettings } from "../settings";
import { subnetLayout } from "../settings/subnetLayout";

export interface NetworkArgs {
  /**
   * `vpcCidr` and `availabilityZones` decide the subnet layout (see settings/subnetLayout.ts);
   * `natGateways` is "single" (one shared gateway, cheaper, egress fails with its zone) or
   * "perZone"; `flowLogRetentionDays` is the retention of the flow-log group.
   */
  network: NetworkSettings;
  /**
   * Name of the EKS cluster that will use the subnets; it goes into the
   * `kubernetes.io/cluster/<name>` tag that the AWS load balancer controller looks for.
   */
  clusterName: string;
  /** Tags for every resource (project, environment, managed-by). */
  tags: Record<string, string>;
}

/**
 * A VPC across N availability zones: a public and a private subnet per zone, an internet
 * gateway, NAT gateways for the private subnets' egress, and flow logs of all traffic.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly vpcCidr: string;
  /** One per zone, in zone order. */
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly publicSubnetIds: pulumi.Output<string>[];
  /** Zone of each private subnet, in the same order. */
  readonly zoneNames: pulumi.Output<string>[];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:network:Network", name, {}, opts);
    const { network, tags } = args;
    const childOpts = { parent: this };
    const tagged = (role: string, extra: Record<string, string> = {}) => ({
      ...tags,
      Name: `${name}-${role}`,
      ...extra,
    });
    const layout = subnetLayout(network.vpcCidr, network.availabilityZones);
    this.vpcCidr = network.vpcCidr;

    const zones = aws.getAvailabilityZonesOutput({ state: "available" }, childOpts);
    this.zoneNames = layout.map((_, index) =>
      zones.names.apply((names) => availabilityZoneAt(names, index, network.availabilityZones)),
    );

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: network.vpcCidr,
        // Both are needed for the EKS private endpoint and for node registration by DNS name.
        enableDnsSupport: true,
        enableDnsHostnames: true,
        tags: tagged("vpc"),
      },
      childOpts,
    );
    this.vpcId = vpc.id;

    // Takes over the VPC's default group and leaves it without rules, so nothing that falls
    // back to it by accident gets any traffic.
    new aws.ec2.DefaultSecurityGroup(
      `${name}-default-sg`,
      { vpcId: vpc.id, tags: tagged("default-sg-unused") },
      childOpts,
    );

    const internetGateway = new aws.ec2.InternetGateway(
      `${name}-igw`,
      { vpcId: vpc.id, tags: tagged("igw") },
      childOpts,
    );
    const clusterTag = { [`kubernetes.io/cluster/${args.clusterName}`]: "shared" };

    const publicSubnets = layout.map(
      (subnet, index) =>
        new aws.ec2.Subnet(
          `${name}-public-${index}`,
          {
            vpcId: vpc.id,
            cidrBlock: subnet.publicCidr,
            availabilityZone: this.zoneNames[index],
            // Only NAT gateways and load balancers live here; both bring their own addresses.
            mapPublicIpOnLaunch: false,
            tags: tagged(`public-${index}`, { ...clusterTag, "kubernetes.io/role/elb": "1" }),
          },
          childOpts,
        ),
    );
    this.publicSubnetIds = publicSubnets.map((s) => s.id);

    const privateSubnets = layout.map(
      (subnet, index) =>
        new aws.ec2.Subnet(
          `${name}-private-${index}`,
          {
            vpcId: vpc.id,
            cidrBlock: subnet.privateCidr,
            availabilityZone: this.zoneNames[index],
            mapPublicIpOnLaunch: false,
            tags: tagged(`private-${index}`, {
              ...clusterTag,
              "kubernetes.io/role/internal-elb": "1",
            }),
          },
          childOpts,
        ),
    );
    this.privateSubnetIds = privateSubnets.map((s) => s.id);

    const publicRoutes = new aws.ec2.RouteTable(
      `${name}-public-rt`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: internetGateway.id }],
        tags: tagged("public-rt"),
      },
      childOpts,
    );
    publicSubnets.forEach(
      (subnet, index) =>
        new aws.ec2.RouteTableAssociation(
          `${name}-public-${index}`,
          { subnetId: subnet.id, routeTableId: publicRoutes.id },
          childOpts,
        ),
    );

    const natCount = network.natGateways === "perZone" ? layout.length : 1;
    const natGateways = publicSubnets.slice(0, natCount).map((subnet, index) => {
      const address = new aws.ec2.Eip(
        `${name}-nat-${index}`,
        { domain: "vpc", tags: tagged(`nat-${index}`) },
        childOpts,
      );
      return new aws.ec2.NatGateway(
        `${name}-nat-${index}`,
        { allocationId: address.id, subnetId: subnet.id, tags: tagged(`nat-${index}`) },
        // A NAT gateway created before the VPC has an internet gateway cannot reach out.
        { ...childOpts, dependsOn: [internetGateway] },
      );
    });

    privateSubnets.forEach((subnet, index) => {
      const natGateway = natGateways[Math.min(index, natGateways.length - 1)];
      const routes = new aws.ec2.RouteTable(
        `${name}-private-rt-${index}`,
        {
          vpcId: vpc.id,
          routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: natGateway.id }],
          tags: tagged(`private-rt-${index}`),
        },
        childOpts,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-private-${index}`,
        { subnetId: subnet.id, routeTableId: routes.id },
        childOpts,
      );
    });

    this.createFlowLogs(name, vpc, `/aws/vpc/${args.clusterName}/flow-logs`, network, tagged);
    this.registerOutputs({
      vpcId: this.vpcId,
      privateSubnetIds: this.privateSubnetIds,
      publicSubnetIds: this.publicSubnetIds,
    });
  }

  private createFlowLogs(
    name: string,
    vpc: aws.ec2.Vpc,
    logGroupName: string,
    network: NetworkSettings,
    tagged: (role: string) => Record<string, string>,
  ): void {
    const childOpts = { parent: this };
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      {
        name: logGroupName,
        retentionInDays: network.flowLogRetentionDays,
        tags: tagged("flow-logs"),
      },
      childOpts,
    );
    const role = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "vpc-flow-logs.amazonaws.com" },
              Action: "sts:AssumeRole",
            },
          ],
        }),
        tags: tagged("flow-logs"),
      },
      childOpts,
    );
    new aws.iam.RolePolicy(
      `${name}-flow-logs`,
      {
        role: role.id,
        policy: logGroup.arn.apply((arn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                Resource: [arn, `${arn}:*`],
              },
            ],
          }),
        ),
      },
      childOpts,
    );
    new aws.ec2.FlowLog(
      `${name}-flow-log`,
      {
        vpcId: vpc.id,
        trafficType: "ALL",
        logDestinationType: "cloud-watch-logs",
        logDestination: logGroup.arn,
        iamRoleArn: role.arn,
        maxAggregationInterval: 60,
        tags: tagged("flow-log"),
      },
      childOpts,
    );
  }
}

/** The zone for a subnet index; fails at deploy time when the region has too few zones. */
export function availabilityZoneAt(names: string[], index: number, wanted: number): string {
  if (names.length < wanted) {
    throw new Error(
      `bot3:network.availabilityZones is ${wanted}, but the region has only ${names.length} ` +
        `available zones (${names.join(", ")}); lower the setting to ${names.length} or less`,
    );
  }
  return names[index];
}
