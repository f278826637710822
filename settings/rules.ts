import { imagePin } from "./imageReference";
import { isOpenToTheWorld, parseCpuMillis, parseMemoryBytes } from "./formats";
import { architectureOf, isBurstable } from "./instanceTypes";
import type * as schema from "./schema";
import { subnetLayoutProblem } from "./subnetLayout";

/** Settings after each field has been validated on its own. */
export interface FieldValidSettings {
  environment: schema.Environment;
  dataProtection: boolean;
  ingress: schema.IngressSettings;
  cluster: schema.ClusterSettings;
  network: schema.NetworkSettings;
  nodeGroups: schema.NodeGroupsSettings;
  engine: schema.EngineSettings;
  image: schema.ImageSettings;
  database: schema.DatabaseSettings;
  cache: schema.CacheSettings;
  backup: schema.BackupSettings;
  tls: schema.TlsSettings;
  monitoring: schema.MonitoringSettings;
  exchangeCredentials: Record<string, unknown>;
  alertWebhookUrls: Record<string, unknown>;
}

/** Rules that relate two or more settings; each problem names every key involved. */
export function crossFieldProblems(s: FieldValidSettings): string[] {
  const problems: string[] = [];
  const production = s.environment === "production";
  const { engine } = s;

  problems.push(...productionProblems(s), ...capacityProblems(s), ...ingressProblems(s));

  if (engine.minReplicas > engine.maxReplicas) {
    problems.push(
      `bot3:engine.minReplicas (${engine.minReplicas}) is above bot3:engine.maxReplicas ` +
        `(${engine.maxReplicas}); set minReplicas at or below maxReplicas`,
    );
  }
  if (engine.httpPort === engine.metricsPort) {
    problems.push("bot3:engine.httpPort and bot3:engine.metricsPort must be different ports");
  }
  if (engine.preStopSleepSeconds >= engine.terminationGracePeriodSeconds) {
    problems.push(
      `bot3:engine.preStopSleepSeconds (${engine.preStopSleepSeconds}) must be below ` +
        `bot3:engine.terminationGracePeriodSeconds (${engine.terminationGracePeriodSeconds}), ` +
        "or the engine is killed before it can close its open orders; lower the pause or raise " +
        "the grace period",
    );
  }
  // An unpinned reference is refused by the field's own check; this rule adds the stricter
  // standard for shared stacks.
  if (s.image.ref !== undefined) {
    if (imagePin(s.image.ref) === "tag" && s.environment !== "local") {
      problems.push(
        `bot3:image.ref = ${JSON.stringify(s.image.ref)} is pinned by a tag, which can be ` +
          `moved; bot3:environment ${s.environment} runs images by digest: ` +
          "set repo@sha256:<digest>",
      );
    }
  }
  for (const resource of ["cpu", "memory"] as const) {
    const parse = resource === "cpu" ? parseCpuMillis : parseMemoryBytes;
    const request = parse(engine.requests[resource]) ?? 0;
    const limit = parse(engine.limits[resource]) ?? 0;
    if (limit < request) {
      problems.push(
        `bot3:engine.limits.${resource} (${engine.limits[resource]}) is below ` +
          `bot3:engine.requests.${resource} (${engine.requests[resource]}); raise the limit`,
      );
    }
  }
  if (engine.guaranteedQos && (parseCpuMillis(engine.limits.cpu) ?? 0) % 1000 !== 0) {
    problems.push(
      `bot3:engine.guaranteedQos needs whole CPUs, but bot3:engine.limits.cpu is ` +
        `${engine.limits.cpu}; set it to 1, 2, ...`,
    );
  }

  for (const name of Object.keys(s.exchangeCredentials)) {
    if (!engine.exchanges.includes(name)) {
      problems.push(
        `bot3:exchangeCredentials.${name} is not an exchange in bot3:engine.exchanges ` +
          `(${JSON.stringify(engine.exchanges)}); add it there or remove the credential`,
      );
    }
  }
  for (const name of engine.exchanges) {
    if (!(name in s.exchangeCredentials)) {
      problems.push(
        `bot3:engine.exchanges lists ${name}, but bot3:exchangeCredentials.${name} is not set; ` +
          `run pulumi config set --secret --path bot3:exchangeCredentials.${name}.apiKey <key> ` +
          `(and .apiSecret)`,
      );
    }
  }
  for (const name of Object.keys(s.alertWebhookUrls)) {
    if (!s.monitoring.receivers.includes(name)) {
      problems.push(
        `bot3:alertWebhookUrls.${name} is not a receiver in bot3:monitoring.receivers; ` +
          `add it there or remove the URL`,
      );
    }
  }
  for (const name of s.monitoring.receivers) {
    if (!(name in s.alertWebhookUrls)) {
      problems.push(
        `bot3:monitoring.receivers lists ${name}, but bot3:alertWebhookUrls.${name} is not set; ` +
          `run pulumi config set --secret --path bot3:alertWebhookUrls.${name} <url>`,
      );
    }
  }

  if (s.tls.issuer === "self-signed" && production) {
    problems.push(
      'bot3:tls.issuer = "self-signed" is not allowed when bot3:environment is production; ' +
        'use "letsencrypt-production"',
    );
  }
  if (s.tls.issuer !== "self-signed" && s.tls.acmeEmail === "") {
    problems.push(
      `bot3:tls.issuer = "${s.tls.issuer}" needs bot3:tls.acmeEmail, the contact address ` +
        "that Let's Encrypt registers",
    );
  }

  if (s.cluster.kind === "existing") {
    if (production) {
      problems.push(
        'bot3:cluster.kind = "existing" is not allowed when bot3:environment is production; ' +
          'use "eks"',
      );
    }
    for (const store of ["database", "cache"] as const) {
      if (s[store].mode === "managed") {
        problems.push(
          `bot3:${store}.mode = "managed" needs AWS, but bot3:cluster.kind is "existing"; ` +
            `use "in-cluster"`,
        );
      }
    }
  }
  // Splitting the world into halves (0.0.0.0/1, 128.0.0.0/1) is as open as 0.0.0.0/0.
  const tooBroad = s.cluster.publicAccessCidrs.filter(
    (cidr) => isOpenToTheWorld(cidr) || Number(cidr.split("/")[1]) < 8,
  );
  if (production && tooBroad.length > 0) {
    problems.push(
      `bot3:cluster.publicAccessCidrs contains ${tooBroad.join(", ")}, which opens the ` +
        "production API endpoint to the world (or a large part of it); list your office or " +
        "VPN CIDRs, or none to keep it private",
    );
  }
  if (s.database.maxAllocatedStorageGb < s.database.allocatedStorageGb) {
    problems.push(
      "bot3:database.maxAllocatedStorageGb is below bot3:database.allocatedStorageGb; " +
        "set it equal (no autoscaling) or higher",
    );
  }
  if (production && s.cache.mode === "managed" && s.cache.nodes < 2) {
    problems.push(
      "bot3:cache.nodes must be at least 2 in production so Redis can fail over; " +
        `it is ${s.cache.nodes}`,
    );
  }

  problems.push(...dataStoreProblems(s));

  for (const [group, settings] of Object.entries(s.nodeGroups)) {
    const key = `bot3:nodeGroups.${group}`;
    if (settings.minSize > settings.desiredSize || settings.desiredSize > settings.maxSize) {
      problems.push(
        `${key} sizes must satisfy minSize <= desiredSize <= maxSize; they are ` +
          `${settings.minSize}, ${settings.desiredSize}, ${settings.maxSize}`,
      );
    }
    const architectures = new Set(settings.instanceTypes.map(architectureOf));
    if (architectures.size > 1) {
      problems.push(
        `${key}.instanceTypes ${JSON.stringify(settings.instanceTypes)} mixes arm64 and amd64 ` +
          "instance families; one node group runs one AMI, so keep to one architecture",
      );
    }
  }
  const engineGroup = s.nodeGroups.engine;
  if (production && engineGroup.enabled) {
    const burstable = engineGroup.instanceTypes.filter(isBurstable);
    if (burstable.length > 0) {
      problems.push(
        `bot3:nodeGroups.engine.instanceTypes has burstable types ${JSON.stringify(burstable)}, ` +
          "which throttle under sustained load; use a fixed-performance family such as c7i",
      );
    }
  }
  problems.push(...clusterProblems(s));
  return problems;
}

/** Rules of the EKS cluster and its network; they do not apply to an existing cluster. */
function clusterProblems(s: FieldValidSettings): string[] {
  if (s.cluster.kind !== "eks") return [];
  const problems: string[] = [];
  const layoutProblem = subnetLayoutProblem(s.network.vpcCidr, s.network.availabilityZones);
  if (layoutProblem !== undefined) problems.push(layoutProblem);

  const kubeProxy = s.cluster.addonVersions.kubeProxy;
  if (!kubeProxy.startsWith(`v${s.cluster.kubernetesVersion}.`)) {
    problems.push(
      `bot3:cluster.addonVersions.kubeProxy (${kubeProxy}) does not match ` +
        `bot3:cluster.kubernetesVersion (${s.cluster.kubernetesVersion}); kube-proxy must run ` +
        "the control plane's minor version, so pin a matching build and check the other add-ons",
    );
  }
  if (s.nodeGroups.engine.placementGroup && !s.nodeGroups.engine.enabled) {
    problems.push(
      "bot3:nodeGroups.engine.placementGroup is true but bot3:nodeGroups.engine.enabled is " +
        "false; enable the engine group or turn the placement group off",
    );
  }
  return problems;
}

/** ElastiCache caps a replication group id at 40 characters; the program adds "-redis". */
const maxReplicationGroupIdLength = 40;

/** Rules of the data stores and their backups that involve more than one setting. */
function dataStoreProblems(s: FieldValidSettings): string[] {
  const problems: string[] = [];
  if (s.environment === "local" && s.cluster.kind !== "existing") {
    for (const store of ["database", "cache"] as const) {
      if (s[store].mode === "managed") {
        problems.push(
          `bot3:${store}.mode = "managed" is not allowed when bot3:environment is local; ` +
            'use "in-cluster"',
        );
      }
    }
  }
  const { version } = s.cache;
  if (s.cache.mode === "managed" && !/^\d+\.\d+$/.test(version)) {
    problems.push(
      `bot3:cache.version = "${version}": ElastiCache takes a major.minor Redis OSS version ` +
        'when bot3:cache.mode is "managed"; set one it offers, such as "7.1"',
    );
  }
  if (s.cache.mode === "in-cluster" && !/^\d+\.\d+\.\d+$/.test(version)) {
    problems.push(
      `bot3:cache.version = "${version}" would let the in-cluster image drift between patch ` +
        'releases; set a full version such as "7.2.7" when bot3:cache.mode is "in-cluster"',
    );
  }
  const groupId = `${s.cluster.name}-redis`;
  if (s.cache.mode === "managed" && groupId.length > maxReplicationGroupIdLength) {
    problems.push(
      `bot3:cluster.name = "${s.cluster.name}" is too long for the ElastiCache replication ` +
        `group id "${groupId}" (at most ${maxReplicationGroupIdLength} characters); ` +
        `shorten bot3:cluster.name to ${maxReplicationGroupIdLength - "-redis".length} characters`,
    );
  }
  if (s.backup.enabled && s.backup.destination === "s3" && s.cluster.kind === "existing") {
    problems.push(
      'bot3:backup.destination = "s3" needs an IRSA role on EKS, but bot3:cluster.kind is ' +
        '"existing"; use "volume" or set bot3:backup.enabled to false',
    );
  }
  return problems;
}

/** What production must keep, whatever else its stack file says. */
function productionProblems(s: FieldValidSettings): string[] {
  if (s.environment !== "production") return [];
  const problems: string[] = [];
  if (!s.dataProtection) {
    problems.push(
      "bot3:dataProtection is false, but bot3:environment is production, where deleting or " +
        "replacing a database loses data; set it to true",
    );
  }
  // The same floor as policy/config.production.json, so the settings refuse it first.
  if (s.database.backupRetentionDays < productionBackupRetentionDays) {
    problems.push(
      `bot3:database.backupRetentionDays is ${s.database.backupRetentionDays}, below the ` +
        `${productionBackupRetentionDays} days production keeps; raise it (30 is the default)`,
    );
  }
  return problems;
}

export const productionBackupRetentionDays = 14;

/** The engine's namespace quota must hold the engine at its largest. */
function capacityProblems(s: FieldValidSettings): string[] {
  const { engine } = s;
  const problems: string[] = [];
  for (const resource of ["cpu", "memory"] as const) {
    const parse = resource === "cpu" ? parseCpuMillis : parseMemoryBytes;
    const needed = (parse(engine.limits[resource]) ?? 0) * engine.maxReplicas;
    const quota = parse(engine.quota[resource]) ?? 0;
    if (needed > quota) {
      problems.push(
        `bot3:engine.quota.${resource} (${engine.quota[resource]}) cannot hold ` +
          `bot3:engine.maxReplicas (${engine.maxReplicas}) pods of bot3:engine.limits.${resource} ` +
          `(${engine.limits[resource]}); raise the quota or lower the limit or the maximum`,
      );
    }
  }
  if (engine.maxReplicas > engine.quota.pods) {
    problems.push(
      `bot3:engine.quota.pods (${engine.quota.pods}) is below bot3:engine.maxReplicas ` +
        `(${engine.maxReplicas}); raise the quota`,
    );
  }
  return problems;
}

function ingressProblems(s: FieldValidSettings): string[] {
  const problems: string[] = [];
  if (s.ingress.grafanaHost === s.ingress.host) {
    problems.push(
      "bot3:ingress.grafanaHost equals bot3:ingress.host, so Grafana and the engine would " +
        "claim the same host; give Grafana its own name, or leave it empty for grafana.<host>",
    );
  }
  if (s.ingress.loadBalancer === "none" && s.environment !== "local") {
    problems.push(
      `bot3:ingress.loadBalancer = "none" leaves the ingress controller on a NodePort, which ` +
        `only a local stack allows; bot3:environment is ${s.environment}, so use "nlb"`,
    );
  }
  return problems;
}
