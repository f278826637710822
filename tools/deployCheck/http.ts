import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as tls from "node:tls";

export interface RequestPolicy {
  /** Deadline of one attempt, connection to last byte. */
  timeoutMs: number;
  /** Attempts in all, the first included; at least 1. */
  attempts: number;
  /** Pause between attempts; doubles after each. */
  retryDelayMs: number;
  /** Extra trusted CA certificates (PEM), added to Node's bundled roots. */
  extraCaCertificates: string[];
}

export interface HttpAnswer {
  status: number;
  body: string;
  /** Attempts used, the successful one included. */
  attempts: number;
  elapsedMs: number;
}

/** A request that failed on every attempt; the message says how the last attempt failed. */
export class RequestFailure extends Error {
  constructor(
    message: string,
    readonly attempts: number,
    readonly lastStatus?: number,
  ) {
    super(message);
  }
}

/** Trust settings for a TLS connection: Node's roots, plus the extra CAs when there are any. */
export function trustedCas(policy: RequestPolicy): string[] | undefined {
  return policy.extraCaCertificates.length > 0
    ? [...tls.rootCertificates, ...policy.extraCaCertificates]
    : undefined;
}

/** SNI takes a host name only; an IP address literal must not be sent. */
export function serverNameFor(host: string): string | undefined {
  const bare = host.replace(/^\[|\]$/g, "");
  return net.isIP(bare) === 0 ? bare : undefined;
}

/**
 * GET with a deadline per attempt and a bounded number of attempts. Connection errors,
 * time-outs and 5xx answers are retried; any other answer is returned as it is.
 */
export async function getWithRetries(url: URL, policy: RequestPolicy): Promise<HttpAnswer> {
  const started = Date.now();
  let failure = "";
  let lastStatus: number | undefined;
  const attempts = Math.max(1, policy.attempts);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep(policy.retryDelayMs * 2 ** (attempt - 2));
    try {
      const { status, body } = await getOnce(url, policy);
      if (status < 500) return { status, body, attempts: attempt, elapsedMs: Date.now() - started };
      lastStatus = status;
      failure = `answered ${status}`;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
  }
  throw new RequestFailure(
    `GET ${url.href} failed after ${attempts} attempt(s): ${failure}`,
    attempts,
    lastStatus,
  );
}

function getOnce(url: URL, policy: RequestPolicy): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = {
      method: "GET",
      // No keep-alive: each attempt is a fresh connection, and nothing lingers afterwards.
      agent: false,
      headers: { accept: "application/json, text/plain, */*" },
    };
    if (url.protocol === "https:") {
      options.ca = trustedCas(policy);
      options.servername = serverNameFor(url.hostname);
    }
    const request = (url.protocol === "https:" ? https : http).request(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        clearTimeout(deadline);
        resolve({
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString("utf8"),
        });
      });
      response.on("error", (error) => {
        clearTimeout(deadline);
        reject(error);
      });
    });
    const deadline = setTimeout(
      () => request.destroy(new Error(`no complete answer within ${policy.timeoutMs} ms`)),
      policy.timeoutMs,
    );
    request.on("error", (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    request.end();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** The message of an error, or the value itself when something else was thrown. */
export const failure = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A JSON object from an answer's body, or undefined when the body is not one. */
export function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
