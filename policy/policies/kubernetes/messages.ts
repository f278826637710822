import { describePodResource, PodTemplate } from "./pod-template";

/** `Deployment "api" sets <path> to <value>. <fix>` */
export function setsTo(pod: PodTemplate, path: string, value: unknown, fix: string): string {
  return `${describePodResource(pod)} sets ${path} to ${formatValue(value)}. ${fix}`;
}

/** `Deployment "api" does not set <path>. <fix>` */
export function doesNotSet(pod: PodTemplate, path: string, fix: string): string {
  return `${describePodResource(pod)} does not set ${path}. ${fix}`;
}

export function formatValue(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : JSON.stringify(value);
}
