import * as tls from "node:tls";
import { serverNameFor, trustedCas, type RequestPolicy } from "./http";

/** What the ingress presented, read without trusting it, so every problem can be named. */
export interface PresentedCertificate {
  subjectAltName: string;
  validFrom: Date;
  validTo: Date;
  /** Why the chain is not trusted (Node's error code), or undefined when it is. */
  trustError: string | undefined;
  /** Why the certificate does not cover the host, or undefined when it does. */
  hostError: string | undefined;
}

/** Opens a TLS connection to the host and reports the certificate it presents. */
export function presentedCertificate(
  host: string,
  port: number,
  policy: RequestPolicy,
): Promise<PresentedCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      servername: serverNameFor(host),
      ca: trustedCas(policy),
      // Checked below, one property at a time, so the report says exactly what is wrong.
      rejectUnauthorized: false,
    });
    const deadline = setTimeout(
      () => socket.destroy(new Error(`no TLS handshake within ${policy.timeoutMs} ms`)),
      policy.timeoutMs,
    );
    socket.once("secureConnect", () => {
      clearTimeout(deadline);
      const certificate = socket.getPeerCertificate();
      const trustError = socket.authorized ? undefined : String(socket.authorizationError);
      socket.end();
      if (!certificate || Object.keys(certificate).length === 0) {
        reject(new Error(`${host}:${port} presented no certificate`));
        return;
      }
      resolve({
        subjectAltName: certificate.subjectaltname ?? "",
        validFrom: new Date(certificate.valid_from),
        validTo: new Date(certificate.valid_to),
        trustError,
        hostError: tls.checkServerIdentity(host.replace(/^\[|\]$/g, ""), certificate)?.message,
      });
    });
    socket.once("error", (error: Error) => {
      clearTimeout(deadline);
      reject(error);
    });
  });
}
