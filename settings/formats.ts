// Parsers for the value formats that settings carry: CIDR blocks and Kubernetes quantities.

export function isIPv4Cidr(value: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!match) return false;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return false;
  // A CIDR with host bits set (10.0.0.1/16) is almost always a typo for the network address.
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 2 ** (32 - prefix);
  return address % hostBits === 0;
}

/** True for CIDRs that admit every IPv4 or IPv6 address. */
export function isOpenToTheWorld(cidr: string): boolean {
  return cidr === "0.0.0.0/0" || cidr === "::/0";
}

const binarySuffixes: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};
const decimalSuffixes: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** Bytes in a Kubernetes memory or storage quantity, or undefined when it is not one. */
export function parseMemoryBytes(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!match) return undefined;
  const suffix = match[2] ?? "";
  const factor = binarySuffixes[suffix] ?? decimalSuffixes[suffix];
  const bytes = Number(match[1]) * factor;
  return bytes > 0 ? bytes : undefined;
}

export function isKubernetesQuantity(quantity: string): boolean {
  return parseMemoryBytes(quantity) !== undefined;
}

/** Millicores in a Kubernetes CPU quantity ("500m", "2", "0.5"), or undefined. */
export function parseCpuMillis(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(m)?$/.exec(quantity);
  if (!match) return undefined;
  const millis = match[2] ? Number(match[1]) : Number(match[1]) * 1000;
  return millis > 0 && Number.isInteger(millis) ? millis : undefined;
}

/** How a container image reference pins what runs. */
export type ImagePin = "digest" | "tag" | "unpinned";

/**
 * `repo@sha256:<64 hex>` is pinned by digest; `repo:tag` by a tag (a mutable pointer); a bare
 * repository or the `latest` tag pins nothing.
 */
export function imagePinOf(ref: string): ImagePin {
  if (/^[^\s@]+@sha256:[0-9a-f]{64}$/.test(ref)) return "digest";
  const lastSegment = ref.split("/").pop() ?? "";
  const tag = lastSegment.includes(":") ? lastSegment.split(":").pop() : undefined;
  if (tag === undefined || tag === "" || tag === "latest") return "unpinned";
  return "tag";
}
