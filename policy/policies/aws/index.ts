import type { Policies } from "@pulumi/policy";
import { dataServicePolicies } from "./data-services";
import { s3BucketPolicy } from "./s3-buckets";
import { securityGroupIngressPolicy } from "./security-groups";

export const awsPolicies: Policies = [
  ...dataServicePolicies,
  s3BucketPolicy,
  securityGroupIngressPolicy,
];
