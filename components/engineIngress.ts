import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface EngineIngressArgs {
  /** Namespace of the engine and its Service. */
  namespace: pulumi.Input<string>;
  /** Public host name, such as bot3.example.com; the certificate is issued for it. */
  host: string;
  /** The engine's ClusterIP Service and the name of its API port. */
  serviceName: pulumi.Input<string>;
  servicePortName: string;
  /** IngressClass of the controller that serves this Ingress. */
  ingressClassName: string;
  /** ClusterIssuer that cert-manager issues the certificate from. */
  clusterIssuerName: string;
  /**
   * The ingress controller's release: its admission webhook validates every Ingress, so the
   * Ingress can only be created once the controller is serving.
   */
  ingressController: pulumi.Resource;
  /** The ClusterIssuer, so the first certificate request finds its issuer. */
  clusterIssuer: pulumi.Resource;
  /** The cluster's provider. */
  provider: k8s.Provider;
}

/** The engine's public HTTPS entry point, with a certificate that cert-manager keeps current. */
export class EngineIngress extends pulumi.ComponentResource {
  readonly url: string;

  constructor(name: string, args: EngineIngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:engine:EngineIngress", name, {}, opts);
    this.url = `https://${args.host}`;

    new k8s.networking.v1.Ingress(
      `${name}-ingress`,
      {
        metadata: {
          name: "bot3-engine",
          namespace: args.namespace,
          annotations: {
            "cert-manager.io/cluster-issuer": args.clusterIssuerName,
            "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
          },
        },
        spec: {
          ingressClassName: args.ingressClassName,
          tls: [{ hosts: [args.host], secretName: "bot3-engine-tls" }],
          rules: [
            {
              host: args.host,
              http: {
                paths: [
                  {
                    path: "/",
                    pathType: "Prefix",
                    backend: {
                      service: { name: args.serviceName, port: { name: args.servicePortName } },
                    },
                  },
                ],
              },
            },
          ],
        },
      },
      {
        parent: this,
        provider: args.provider,
        // The controller's webhook must be serving, and the issuer present, before this exists.
        dependsOn: [args.ingressController, args.clusterIssuer],
      },
    );
    this.registerOutputs({ url: this.url });
  }
}
