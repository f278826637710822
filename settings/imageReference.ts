// Container image references: `[registry[:port]/]repository[:tag][@sha256:<digest>]`.

export interface ImageReference {
  repository: string;
  tag?: string;
  digest?: string;
}

const digestPattern = /^sha256:[0-9a-f]{64}$/;
const repositoryPattern = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._/-][a-z0-9]+)*)*$/;
const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function parseImageReference(reference: string): ImageReference | undefined {
  const [namePart, digest, extra] = reference.split("@");
  if (extra !== undefined || (digest !== undefined && !digestPattern.test(digest)))
    return undefined;
  const lastSlash = namePart.lastIndexOf("/");
  const lastColon = namePart.lastIndexOf(":");
  const hasTag = lastColon > lastSlash;
  const repository = hasTag ? namePart.slice(0, lastColon) : namePart;
  const tag = hasTag ? namePart.slice(lastColon + 1) : undefined;
  if (!repositoryPattern.test(repository) || (tag !== undefined && !tagPattern.test(tag))) {
    return undefined;
  }
  return { repository, tag, digest };
}

/** Why a reference cannot be deployed, or undefined when it is pinned. */
export function imageReferenceProblem(reference: string): string | undefined {
  const parsed = parseImageReference(reference);
  if (!parsed) return "is not an image reference such as registry.example.com/bot3-engine:1.4.2";
  if (parsed.tag === "latest") {
    return "uses the tag latest, which moves; pin a version tag or a digest (@sha256:...)";
  }
  if (parsed.tag === undefined && parsed.digest === undefined) {
    return "has neither a tag nor a digest; pin a version tag or a digest (@sha256:...)";
  }
  return undefined;
}
