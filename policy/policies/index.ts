/**
 * Every policy of the Bot3 pack, importable without starting the analyzer (constructing the
 * PolicyPack in ../index.ts starts a gRPC server, so tests and the render tool import this).
 */
import type { Policies, ResourceValidationPolicy } from "@pulumi/policy";
import { awsPolicies } from "./aws";
import { containerHardeningPolicies } from "./kubernetes/container-hardening";
import { networkExposurePolicies } from "./kubernetes/network-exposure";
import { baselineControls } from "./kubernetes/pod-security-baseline";
import { PodSecurityControl } from "./kubernetes/pod-security-control";
import { restrictedControls } from "./kubernetes/pod-security-restricted";
import { stackWorkloadPolicies } from "./kubernetes/stack-workloads";
import { workloadHygienePolicies } from "./kubernetes/workload-hygiene";

/** The Pod Security Standards controls, baseline B1-B12 then restricted R1-R7. */
export const podSecurityControls: readonly PodSecurityControl[] = [
  ...baselineControls,
  ...restrictedControls,
];

/** One policy per Pod Security Standards control. */
export const podSecurityPolicies: ResourceValidationPolicy[] = podSecurityControls.map(
  (control) => control.policy,
);

export const policies: Policies = [
  ...containerHardeningPolicies,
  ...podSecurityPolicies,
  ...workloadHygienePolicies,
  ...networkExposurePolicies,
  ...stackWorkloadPolicies,
  ...awsPolicies,
];
