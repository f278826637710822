// How the VPC's address range is divided between zones. The layout is computed from the VPC
// CIDR and the zone count, so changing either never needs a hand-edited table of subnets.
//
// The lower half of the VPC holds one private subnet per zone (nodes and pods: the VPC CNI gives
// every pod a VPC address, so these need the room). The upper half starts with one public
// subnet per zone, a quarter the size of a private one (NAT gateways and load balancers only).
// What is left of the upper half stays free for later use, such as database subnets.

/** Smallest subnet AWS accepts. */
const smallestSubnetPrefix = 28;
/** Largest VPC AWS accepts. */
const largestVpcPrefix = 16;

export interface ZoneSubnets {
  privateCidr: string;
  publicCidr: string;
}

/** One entry per zone, in zone order. */
export function subnetLayout(vpcCidr: string, zones: number): ZoneSubnets[] {
  const problem = subnetLayoutProblem(vpcCidr, zones);
  if (problem !== undefined) throw new Error(problem);
  const { base, prefix } = parseCidr(vpcCidr);
  const privatePrefix = prefix + 1 + zoneBits(zones);
  const publicPrefix = privatePrefix + 2;
  const upperHalf = base + blockSize(prefix + 1);
  return Array.from({ length: zones }, (_, zone) => ({
    privateCidr: formatCidr(base + zone * blockSize(privatePrefix), privatePrefix),
    publicCidr: formatCidr(upperHalf + zone * blockSize(publicPrefix), publicPrefix),
  }));
}

/** Why a VPC CIDR cannot hold subnets for this many zones, or undefined when it can. */
export function subnetLayoutProblem(vpcCidr: string, zones: number): string | undefined {
  const { prefix } = parseCidr(vpcCidr);
  if (prefix < largestVpcPrefix) {
    return (
      `bot3:network.vpcCidr ${vpcCidr} is larger than AWS allows for a VPC; ` +
      `use a /${largestVpcPrefix} or smaller range such as 10.0.0.0/16`
    );
  }
  const publicPrefix = prefix + 1 + zoneBits(zones) + 2;
  if (publicPrefix > smallestSubnetPrefix) {
    const largestPrefix = smallestSubnetPrefix - 3 - zoneBits(zones);
    return (
      `bot3:network.vpcCidr ${vpcCidr} is too small for ${zones} zones ` +
      `(bot3:network.availabilityZones): the public subnets would be /${publicPrefix}, below ` +
      `AWS's /${smallestSubnetPrefix} minimum; use a /${largestPrefix} or larger range, or fewer zones`
    );
  }
  return undefined;
}

/** First and last address of a CIDR, as unsigned 32-bit numbers. */
export function cidrRange(cidr: string): { first: number; last: number } {
  const { base, prefix } = parseCidr(cidr);
  return { first: base, last: base + blockSize(prefix) - 1 };
}

function zoneBits(zones: number): number {
  return Math.ceil(Math.log2(zones));
}

function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

function parseCidr(cidr: string): { base: number; prefix: number } {
  const [address, prefix] = cidr.split("/");
  const base = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
  return { base, prefix: Number(prefix) };
}

function formatCidr(address: number, prefix: number): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256);
  return `${octets.join(".")}/${prefix}`;
}
