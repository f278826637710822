// Validates Kubernetes objects against the OpenAPI schemas that the kubernetes-models packages
// generate from the Kubernetes API, cert-manager's and prometheus-operator's CRDs.

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

const customResourcePackages: Record<string, string> = {
  "cert-manager.io": "@kubernetes-models/cert-manager",
  "acme.cert-manager.io": "@kubernetes-models/cert-manager",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

function modulePathFor(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "") return `kubernetes-models/v1/${kind}`;
  const customPackage = customResourcePackages[group];
  if (customPackage) return `${customPackage}/${group}/${version}/${kind}`;
  return `kubernetes-models/${group}/${version}/${kind}`;
}

const models = new Map<string, Promise<ModelClass | undefined>>();

async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  const key = `${apiVersion}/${kind}`;
  if (!models.has(key)) {
    models.set(
      key,
      import(modulePathFor(apiVersion, kind)).then(
        (module: Record<string, unknown>) => module[kind] as ModelClass | undefined,
        () => undefined,
      ),
    );
  }
  return models.get(key)!;
}

/** Schema problems of one object, as readable lines; empty when it is valid. */
export async function schemaProblems(object: Record<string, unknown>): Promise<string[]> {
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return ["has no apiVersion or kind"];
  }
  const Model = await modelFor(apiVersion, kind);
  if (!Model) return [`no schema is known for ${apiVersion} ${kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    return formatValidationError(error);
  }
}

function formatValidationError(error: unknown): string[] {
  const details = (error as { errors?: { instancePath?: string; message?: string }[] }).errors;
  if (Array.isArray(details) && details.length > 0) {
    return details.map((d) => `${d.instancePath || "/"} ${d.message ?? "is invalid"}`);
  }
  return [error instanceof Error ? error.message : String(error)];
}
