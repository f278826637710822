// What an EC2 instance type implies for a node group: its CPU architecture, the EKS AMI
// type that matches it, and whether its CPU credits make it a poor fit for latency work.

export type Architecture = "amd64" | "arm64";

/**
 * Graviton families carry a `g` right after the generation digit (c7g, m6gd, t4g, im4gn,
 * is4gen); `a1` is the first-generation exception. GPU families such as g4dn do not match.
 */
export function architectureOf(instanceType: string): Architecture {
  const family = instanceType.split(".")[0];
  return family === "a1" || /^[a-z]+\d+g/.test(family) ? "arm64" : "amd64";
}

/** The EKS managed node group AMI type (Amazon Linux 2023) for an architecture. */
export function amiTypeFor(architecture: Architecture): string {
  return architecture === "arm64" ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD";
}

/** Burstable (CPU-credit) families throttle when credits run out. */
export function isBurstable(instanceType: string): boolean {
  return /^t\d+[a-z]*$/.test(instanceType.split(".")[0]);
}
