import { z } from "zod";
import { imageReferenceProblem } from "./imageReference";
import { isNumericCron } from "./cron";
import { isIPv4Cidr, isKubernetesQuantity, parseCpuMillis, parseMemoryBytes } from "./formats";

// One schema per structured setting (`pulumi config set --path bot3:<key>.<field>`). Every object
// is strict so a misspelt field is an error instead of a silently ignored value. Defaults here are
// the ones every stack shares; what differs between stacks is in `profiles.ts` and the stack files.

const cidr = z
  .string()
  .refine(isIPv4Cidr, { message: "must be an IPv4 CIDR block such as 10.0.0.0/16" });
const iamRoleArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, "must be an IAM role ARN");
const kmsKeyArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[\w/-]+$/, "must be a KMS key ARN");
const dnsName = z
  .string()
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/,
    "must be a lower-case DNS name such as bot3.example.com",
  );
const k8sName = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be a lower-case DNS label (a-z, 0-9, -)");
// `pulumi config set --path` stores a bare integer (`... limits.cpu 2`) as a number.
const quantityText = (value: unknown) => (typeof value === "number" ? String(value) : value);
const cpu = z.preprocess(
  quantityText,
  z.string().refine((v) => parseCpuMillis(v) !== undefined, {
    message: "must be a CPU quantity such as 500m or 2",
  }),
);
const memory = z.preprocess(
  quantityText,
  z.string().refine((v) => parseMemoryBytes(v) !== undefined, {
    message: "must be a memory quantity such as 512Mi or 2Gi",
  }),
);
const volumeSize = z.string().refine(isKubernetesQuantity, {
  message: "must be a storage quantity such as 20Gi",
});
const port = z.number().int().min(1024).max(65535);
/** Retention periods that CloudWatch Logs accepts. */
const logRetentionDays = z.union(
  [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653].map((d) =>
    z.literal(d),
  ) as [z.ZodLiteral<number>, z.ZodLiteral<number>, ...z.ZodLiteral<number>[]],
  {
    message: "must be a CloudWatch retention: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...",
  },
);
const cron = z.string().refine(isNumericCron, {
  message:
    "must be a five-field cron expression in numbers, such as '0 */6 * * *' (minute 0-59, " +
    "hour 0-23, day 1-31, month 1-12, weekday 0-6)",
});
/** Namespaces that belong to Kubernetes or to the charts this program installs. */
export const reservedNamespaces = [
  "default",
  "kube-system",
  "kube-public",
  "kube-node-lease",
  "monitoring",
  "monitoring-node-exporter",
  "ingress-nginx",
  "cert-manager",
];
const httpsUrl = z
  .url("must be an absolute URL")
  .refine((u) => u.startsWith("https://"), { message: "must be an https:// URL" });
const optionalImage = z.string().superRefine((ref, ctx) => {
  const problem = ref === "" ? undefined : imageReferenceProblem(ref);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d|w|y)$/, "must be a Prometheus duration such as 15s or 30d");

const addonVersion = z
  .string()
  .regex(
    /^v\d+\.\d+\.\d+(-[a-z]+)?-eksbuild\.\d+$/,
    "must be an EKS add-on version such as v1.19.5-eksbuild.1",
  );

export const environmentSchema = z.enum(["local", "staging", "production"]);

export const clusterSchema = z
  .object({
    /** `eks` builds the VPC and EKS cluster; `existing` uses a kubeconfig context (local stack). */
    kind: z.enum(["eks", "existing"]).default("eks"),
    /** Name of the EKS cluster and prefix of its AWS resources. */
    name: k8sName.default("bot3"),
    /** Kubernetes minor version of the EKS control plane, such as "1.33". */
    kubernetesVersion: z
      .string()
      .regex(/^1\.\d{2}$/, "must be a Kubernetes minor version such as 1.33")
      .default("1.33"),
    /** CIDRs allowed to reach the public API endpoint; empty turns the public endpoint off. */
    publicAccessCidrs: z.array(cidr).default([]),
    /** IAM roles that get cluster-admin through EKS access entries. */
    adminRoleArns: z.array(iamRoleArn).default([]),
    /** Retention of the control-plane log group. */
    logRetentionDays: logRetentionDays.default(90),
    /** kubeconfig context for `kind: existing`; empty means the current context. */
    kubeconfigContext: z.string().default(""),
    /** AWS profile that `aws eks get-token` uses in the generated kubeconfig. */
    awsProfile: z.string().default(""),
    /** Role that `aws eks get-token` assumes in the generated kubeconfig. */
    assumeRoleArn: iamRoleArn.optional(),
    /**
     * Pinned versions of the EKS managed add-ons. Each must be offered for kubernetesVersion
     * (`aws eks describe-addon-versions --kubernetes-version <v> --addon-name <name>`);
     * kube-proxy's minor version must equal kubernetesVersion.
     */
    addonVersions: z
      .object({
        vpcCni: addonVersion.default("v1.19.5-eksbuild.1"),
        coreDns: addonVersion.default("v1.12.1-eksbuild.2"),
        kubeProxy: addonVersion.default("v1.33.0-eksbuild.2"),
        ebsCsiDriver: addonVersion.default("v1.44.0-eksbuild.1"),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const networkSchema = z
  .object({
    /** The VPC's address range; subnets are carved from it. */
    vpcCidr: cidr.default("10.0.0.0/16"),
    /** Number of availability zones the VPC spans. */
    availabilityZones: z.number().int().min(2).max(6).default(3),
    /** One NAT gateway shared by every zone, or one per zone for zone-independent egress. */
    natGateways: z.enum(["single", "perZone"]).default("single"),
    /** Retention of the VPC flow log group. */
    flowLogRetentionDays: logRetentionDays.default(30),
  })
  .strict();

/** A managed node group's settings, with defaults that differ between the two groups. */
function nodeGroupSchema(defaults: { instanceTypes: string[]; size: [number, number, number] }) {
  const [minSize, desiredSize, maxSize] = defaults.size;
  return z.object({
    /** EC2 instance types; all must share one CPU architecture. */
    instanceTypes: z
      .array(
        z
          .string()
          .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "must be an EC2 instance type such as m7i.large"),
      )
      .min(1)
      .default(defaults.instanceTypes),
    minSize: z.number().int().min(0).max(100).default(minSize),
    maxSize: z.number().int().min(1).max(100).default(maxSize),
    desiredSize: z.number().int().min(0).max(100).default(desiredSize),
    /** Size of the encrypted gp3 root volume. */
    diskSizeGb: z.number().int().min(20).max(1000).default(50),
  });
}

export const nodeGroupsSchema = z
  .object({
    system: nodeGroupSchema({ instanceTypes: ["m7i.large"], size: [2, 2, 4] })
      .strict()
      .prefault({}),
    engine: nodeGroupSchema({ instanceTypes: ["c7i.xlarge"], size: [3, 3, 10] })
      .extend({
        /** Without an engine group the engine runs on the system nodes. */
        enabled: z.boolean().default(true),
        /** Pack the engine nodes into a cluster placement group in a single zone. */
        placementGroup: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const storageSchema = z
  .object({
    /** KMS key for EBS volumes; empty uses the account's default EBS key. */
    kmsKeyArn: kmsKeyArn.optional(),
    /** StorageClass for ordinary volumes on an existing cluster; empty means the cluster default. */
    defaultClass: z.string().default(""),
    /** StorageClass for database volumes on an existing cluster; empty means the cluster default. */
    retainClass: z.string().default(""),
  })
  .strict();

export const imageSchema = z
  .object({
    /** A prebuilt image (`repo:tag` or `repo@sha256:...`); when set nothing is built. */
    ref: z
      .string()
      .superRefine((ref, ctx) => {
        const problem = imageReferenceProblem(ref);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional(),
    /** Build context: a checkout of the engine's source. */
    context: z.string().default("../bot3-engine"),
    /** Name of the engine's binary, passed to the Dockerfile as BINARY_NAME. */
    binaryName: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, "must be a plain file name")
      .default("bot3-engine"),
    /** Image tag; empty uses the current git commit of the build context. */
    tag: z
      .string()
      .regex(
        /^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/,
        "must be a Docker tag (letters, digits, _ . -)",
      )
      .refine((tag) => tag !== "latest", { message: "must not be latest, which moves" })
      .default(""),
    /** ECR lifecycle: how many tagged images to keep. */
    keepTaggedImages: z.number().int().min(1).max(1000).default(30),
    /** ECR lifecycle: days after which untagged images expire. */
    untaggedExpiryDays: z.number().int().min(1).max(365).default(7),
  })
  .strict();

/** CPU and memory of a container, each field defaulted on its own. */
function resourceListSchema(defaults: { cpu: string; memory: string }) {
  return z
    .object({ cpu: cpu.default(defaults.cpu), memory: memory.default(defaults.memory) })
    .strict()
    .prefault({});
}

export const engineSchema = z
  .object({
    /** Namespace of the engine and its data stores. */
    namespace: k8sName
      .refine((n) => !reservedNamespaces.includes(n), {
        message: `must be a namespace of Bot3's own, not one of ${reservedNamespaces.join(", ")}`,
      })
      .default("bot3"),
    minReplicas: z.number().int().min(1).max(100).default(3),
    maxReplicas: z.number().int().min(1).max(100).default(10),
    /** Average CPU utilisation (percent of requests) the autoscaler aims for. */
    targetCpuUtilization: z.number().int().min(10).max(100).default(70),
    /** Average memory utilisation (percent of requests) the autoscaler aims for. */
    targetMemoryUtilization: z.number().int().min(10).max(100).default(80),
    /** Seconds the autoscaler waits before removing pods. */
    scaleDownStabilizationSeconds: z.number().int().min(0).max(3600).default(300),
    requests: resourceListSchema({ cpu: "500m", memory: "512Mi" }),
    limits: resourceListSchema({ cpu: "1", memory: "1Gi" }),
    /** Requests equal to limits in whole CPUs, for the Guaranteed QoS class. */
    guaranteedQos: z.boolean().default(false),
    /** Time the engine gets to finish open orders after SIGTERM. */
    terminationGracePeriodSeconds: z.number().int().min(10).max(600).default(60),
    /** Pause before SIGTERM so the load balancer stops sending new requests first. */
    preStopSleepSeconds: z.number().int().min(0).max(120).default(10),
    httpPort: port.default(8080),
    metricsPort: port.default(9090),
    /**
     * How strictly replicas spread across zones: `required` refuses to schedule a pod that would
     * unbalance the zones; `preferred` only tries, for clusters whose nodes carry no zone label.
     */
    zoneSpread: z.enum(["required", "preferred"]).default("required"),
    /** Exchanges the engine trades on; each needs `exchangeCredentials.<name>`. */
    exchanges: z.array(k8sName).default([]),
    /** IAM policy ARNs for the engine's IRSA role; empty gives the engine no AWS access. */
    awsPolicyArns: z
      .array(
        z
          .string()
          .regex(/^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/.+$/, "must be an IAM policy ARN"),
      )
      .default([]),
    /** Non-secret engine configuration, written to a ConfigMap. */
    config: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.-]+$/, "must be a plain key"),
        z.union([z.string(), z.number(), z.boolean()]),
      )
      .default({}),
    /** Namespace ResourceQuota. */
    quota: z
      .object({
        cpu: cpu.default("32"),
        memory: memory.default("64Gi"),
        pods: z.number().int().min(1).max(1000).default(60),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const databaseSchema = z
  .object({
    mode: z.enum(["managed", "in-cluster"]).default("in-cluster"),
    /** PostgreSQL version: RDS engine version, and the tag of the in-cluster image. */
    version: z
      .string()
      .regex(/^\d+\.\d+$/, "must be a PostgreSQL version such as 16.6")
      .default("16.6"),
    name: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a PostgreSQL identifier")
      .default("bot3"),
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a PostgreSQL identifier")
      .default("bot3"),
    instanceClass: z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be an RDS class such as db.t4g.medium")
      .default("db.t4g.medium"),
    allocatedStorageGb: z.number().int().min(20).max(65536).default(50),
    /** Upper bound for RDS storage autoscaling; equal to allocatedStorageGb turns it off. */
    maxAllocatedStorageGb: z.number().int().min(20).max(65536).default(200),
    multiAz: z.boolean().default(false),
    backupRetentionDays: z.number().int().min(7, "must be at least 7 days").max(35).default(7),
    /** Volume size of the in-cluster StatefulSet; it can grow but never shrink. */
    storageSize: volumeSize.default("20Gi"),
    /** Requests of the in-cluster PostgreSQL container (ignored when managed). */
    requests: resourceListSchema({ cpu: "250m", memory: "512Mi" }),
    /** Limits of the in-cluster PostgreSQL container (ignored when managed). */
    limits: resourceListSchema({ cpu: "1", memory: "1Gi" }),
    /** Days RDS keeps Performance Insights data: 7 is free, longer is billed. */
    performanceInsightsRetentionDays: z
      .union([z.literal(7), z.literal(731)], { message: "must be 7 (free tier) or 731" })
      .default(7),
  })
  .strict();

export const cacheSchema = z
  .object({
    mode: z.enum(["managed", "in-cluster"]).default("in-cluster"),
    /**
     * Redis version: the ElastiCache engine version when managed (major.minor, such as 7.1),
     * the tag of the official image when in-cluster (a full version, such as 7.2.7).
     */
    version: z
      .string()
      .regex(/^\d+\.\d+(\.\d+)?$/, "must be a Redis version such as 7.2.7")
      .default("7.2.7"),
    nodeType: z
      .string()
      .regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, "must be a node type such as cache.t4g.small")
      .default("cache.t4g.small"),
    /** Number of ElastiCache nodes (primary plus replicas); 2 or more enables failover. */
    nodes: z.number().int().min(1).max(6).default(1),
    snapshotRetentionDays: z.number().int().min(0).max(35).default(1),
    /** Volume size of the in-cluster StatefulSet; it can grow but never shrink. */
    storageSize: volumeSize.default("5Gi"),
    /** Requests of the in-cluster Redis container (ignored when managed). */
    requests: resourceListSchema({ cpu: "100m", memory: "256Mi" }),
    /** Limits of the in-cluster Redis container; Redis's maxmemory is 75% of the memory limit. */
    limits: resourceListSchema({ cpu: "500m", memory: "512Mi" }),
  })
  .strict();

export const ingressSchema = z
  .object({
    /** Public host name of the engine's API. */
    host: dnsName.default("bot3.example.com"),
    /** Host name of Grafana; empty means `grafana.<host>`. */
    grafanaHost: z.union([dnsName, z.literal("")]).default(""),
    /** Expose the ingress controller through an AWS Network Load Balancer. */
    loadBalancer: z.enum(["nlb", "none"]).default("nlb"),
  })
  .strict();

export const tlsSchema = z
  .object({
    issuer: z
      .enum(["letsencrypt-staging", "letsencrypt-production", "self-signed"])
      .default("letsencrypt-staging"),
    /** Contact address registered with Let's Encrypt; required for ACME issuers. */
    acmeEmail: z.union([z.email("must be an e-mail address"), z.literal("")]).default(""),
  })
  .strict();

export const monitoringSchema = z
  .object({
    enabled: z.boolean().default(true),
    scrapeInterval: duration.default("15s"),
    retention: duration.default("15d"),
    retentionSize: z
      .string()
      .regex(/^\d+(MB|GB|TB)$/, "must be a size such as 45GB")
      .default("45GB"),
    storageSize: volumeSize.default("50Gi"),
    /** Alertmanager receivers; each needs `alertWebhookUrls.<name>` as a secret. */
    receivers: z.array(k8sName).default([]),
    /** Base URL of docs/runbook.md that alerts link to. */
    runbookUrl: httpsUrl.default("https://github.com/bot3/platform/blob/main/docs/runbook.md"),
  })
  .strict();

export const backupSchema = z
  .object({
    enabled: z.boolean().default(true),
    schedule: cron.default("0 */6 * * *"),
    /** Days that backups are kept. */
    retentionDays: z.number().int().min(7, "must be at least 7 days").max(3650).default(14),
    /**
     * `s3`: upload each dump to a KMS-encrypted bucket through an IRSA role (needs EKS);
     * `volume`: keep the dumps on a PersistentVolumeClaim in the cluster (local stack).
     */
    destination: z.enum(["s3", "volume"]).default("s3"),
    /** Size of the backup volume when destination is `volume`. */
    storageSize: volumeSize.default("10Gi"),
    /**
     * Image that runs pg_dump; empty means the official `postgres:<bot3:database.version>`.
     * Set `repo:tag@sha256:...` where the policy pack requires digests (production).
     */
    dumpImage: optionalImage.default(""),
    /** Image that uploads to S3 (the official AWS CLI); add `@sha256:...` to pin a digest. */
    uploadImage: optionalImage
      .refine((ref) => ref !== "", { message: "must name an image" })
      .default("public.ecr.aws/aws-cli/aws-cli:2.22.0"),
  })
  .strict();

/** Alertmanager webhook URLs; https only, since they carry tokens. */
export const webhookUrlSchema = httpsUrl;

/** Secret settings, set with `pulumi config set --secret --path`. */
export const exchangeCredentialSchema = z
  .object({
    apiKey: z.string().min(1),
    apiSecret: z.string().min(1),
    passphrase: z.string().optional(),
  })
  .strict();

export type Environment = z.infer<typeof environmentSchema>;
export type ClusterSettings = z.infer<typeof clusterSchema>;
export type NetworkSettings = z.infer<typeof networkSchema>;
export type NodeGroupsSettings = z.infer<typeof nodeGroupsSchema>;
export type StorageSettings = z.infer<typeof storageSchema>;
export type ImageSettings = z.infer<typeof imageSchema>;
export type EngineSettings = z.infer<typeof engineSchema>;
export type DatabaseSettings = z.infer<typeof databaseSchema>;
export type CacheSettings = z.infer<typeof cacheSchema>;
export type IngressSettings = z.infer<typeof ingressSchema>;
export type TlsSettings = z.infer<typeof tlsSchema>;
export type MonitoringSettings = z.infer<typeof monitoringSchema>;
export type BackupSettings = z.infer<typeof backupSchema>;
