// The kubeconfig through which Pulumi (and people) reach an EKS cluster. Tokens are not
// stored in it: `aws eks get-token` mints a short-lived one for each connection, so the
// file grants nothing by itself, yet it is still kept secret because it maps the cluster.

export interface EksKubeconfigArgs {
  clusterName: string;
  endpoint: string;
  /** Base64-encoded CA bundle of the API server. */
  certificateAuthority: string;
  region: string;
  /** AWS profile for `aws eks get-token`; empty uses the environment's credentials. */
  awsProfile: string;
  /** A role for `aws eks get-token` to assume, such as one of the admin roles. */
  assumeRoleArn?: string;
}

/** A kubeconfig (JSON, which every YAML reader accepts) with one cluster, user and context. */
export function eksKubeconfig(args: EksKubeconfigArgs): string {
  const tokenArgs = [
    "eks",
    "get-token",
    "--region",
    args.region,
    "--cluster-name",
    args.clusterName,
    "--output",
    "json",
    ...(args.assumeRoleArn === undefined ? [] : ["--role-arn", args.assumeRoleArn]),
  ];
  const name = args.clusterName;
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name,
        cluster: { server: args.endpoint, "certificate-authority-data": args.certificateAuthority },
      },
    ],
    users: [
      {
        name,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: tokenArgs,
            env: args.awsProfile === "" ? null : [{ name: "AWS_PROFILE", value: args.awsProfile }],
            interactiveMode: "Never",
          },
        },
      },
    ],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
  });
}
