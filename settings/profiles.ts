import type { Environment } from "./schema";

/**
 * Defaults that depend on what kind of stack this is. They sit between the shared schema
 * defaults and the stack file: a stack file can still override every one of them.
 */
export type ProfileDefaults = Record<string, Record<string, unknown>>;

export const profileDefaults: Record<Environment, ProfileDefaults> = {
  local: {
    cluster: { kind: "existing" },
    nodeGroups: {},
    database: { mode: "in-cluster" },
    cache: { mode: "in-cluster" },
    ingress: { host: "bot3.localtest.me", loadBalancer: "none" },
    tls: { issuer: "self-signed" },
    engine: { minReplicas: 1, maxReplicas: 3, zoneSpread: "preferred" },
    backup: { destination: "volume" },
  },
  staging: {
    network: { natGateways: "single" },
    database: { mode: "in-cluster" },
    cache: { mode: "in-cluster" },
    tls: { issuer: "letsencrypt-staging" },
  },
  production: {
    network: { natGateways: "perZone" },
    database: { mode: "managed", multiAz: true, backupRetentionDays: 30 },
    cache: { mode: "managed", version: "7.1", nodes: 2, snapshotRetentionDays: 7 },
    tls: { issuer: "letsencrypt-production" },
    backup: { retentionDays: 30 },
  },
};
