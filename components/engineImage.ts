import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { ImageSettings } from "../settings";
import type { Architecture } from "../settings/instanceTypes";
import { parseImageReference } from "../settings/imageReference";

/** Where this repository keeps the engine's Dockerfile; the source lives elsewhere. */
export const engineDockerfile = path.join(__dirname, "..", "docker", "engine", "Dockerfile");
const repositoryRoot = path.join(__dirname, "..");

export interface EngineImageArgs {
  /**
   * `ref` set: that prebuilt image is used and nothing is built or created. Otherwise an ECR
   * repository is created and the engine is built from `context` with `binaryName` and
   * pushed; `keepTaggedImages` and `untaggedExpiryDays` drive the repository's lifecycle policy.
   */
  image: ImageSettings;
  /** The tag to push, from `imageTag()`; ignored for a prebuilt image. */
  tag: string;
  /** CPU architecture of the engine's nodes; the image is built for `linux/<architecture>`. */
  architecture: Architecture;
  /** Name prefix of the ECR repository, usually the cluster's name. */
  repositoryPrefix: string;
  /**
   * Refuse to delete a repository that still holds images (and protect it from
   * `pulumi destroy`). Without it, teardown empties and deletes the repository.
   */
  dataProtection: boolean;
  tags?: Record<string, string>;
}

/**
 * The engine's container image: either a prebuilt reference, or an ECR repository plus a
 * build and push. `imageRef` is always pinned by digest when the program builds, so a new image
 * rolls the engine and an unchanged one does not.
 */
export class EngineImage extends pulumi.ComponentResource {
  /** What the Deployment runs: `<repository>@sha256:...`, or the prebuilt reference. */
  readonly imageRef: pulumi.Output<string>;
  /** The repository the image lives in. */
  readonly registryUrl: pulumi.Output<string>;

  constructor(name: string, args: EngineImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot3:image:EngineImage", name, {}, opts);
    const prebuilt = args.image.ref;
    if (prebuilt !== undefined) {
      this.imageRef = pulumi.output(prebuilt);
      this.registryUrl = pulumi.output(parseImageReference(prebuilt)?.repository ?? prebuilt);
      this.registerOutputs({ imageRef: this.imageRef, registryUrl: this.registryUrl });
      return;
    }

    const context = buildContext(args.image);
    const tag = args.tag;

    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `Encrypts the ${args.repositoryPrefix} engine images in ECR`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags: args.tags,
      },
      { parent: this },
    );
    const repository = new aws.ecr.Repository(
      `${name}-repository`,
      {
        name: `${args.repositoryPrefix}-engine`,
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: key.arn }],
        forceDelete: !args.dataProtection,
        tags: args.tags,
      },
      { parent: this, protect: args.dataProtection },
    );
    new aws.ecr.LifecyclePolicy(
      `${name}-lifecycle`,
      {
        repository: repository.name,
        policy: JSON.stringify(lifecycleRules(args.image)),
      },
      { parent: this },
    );

    // A fresh token on every run: ECR tokens last twelve hours, so none is ever stored.
    const credentials = aws.ecr.getAuthorizationTokenOutput(
      { registryId: repository.registryId },
      { parent: this },
    );
    const image = new docker.Image(
      `${name}-build`,
      {
        imageName: pulumi.interpolate`${repository.repositoryUrl}:${tag}`,
        build: {
          context,
          dockerfile: engineDockerfile,
          platform: `linux/${args.architecture}`,
          args: { BINARY_NAME: args.image.binaryName },
        },
        registry: {
          server: repository.repositoryUrl,
          username: credentials.userName,
          password: pulumi.secret(credentials.password),
        },
      },
      { parent: this },
    );

    this.imageRef = image.repoDigest;
    this.registryUrl = repository.repositoryUrl;
    this.registerOutputs({ imageRef: this.imageRef, registryUrl: this.registryUrl });
  }
}

/** ECR lifecycle rules: untagged images expire after D days; only the last N tagged stay. */
export function lifecycleRules(image: ImageSettings) {
  return {
    rules: [
      {
        rulePriority: 1,
        description: `Expire untagged images after ${image.untaggedExpiryDays} days`,
        selection: {
          tagStatus: "untagged",
          countType: "sinceImagePushed",
          countUnit: "days",
          countNumber: image.untaggedExpiryDays,
        },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: `Keep the last ${image.keepTaggedImages} tagged images`,
        selection: {
          tagStatus: "tagged",
          tagPatternList: ["*"],
          countType: "imageCountMoreThan",
          countNumber: image.keepTaggedImages,
        },
        action: { type: "expire" },
      },
    ],
  };
}

function buildContext(image: ImageSettings): string {
  return path.resolve(repositoryRoot, image.context);
}

/**
 * The tag the engine image is pushed with: `bot3:image.tag`, or the build context's git
 * commit. Called before any resource is declared, so a missing checkout stops the program
 * first. Empty for a prebuilt image.
 */
export function imageTag(image: ImageSettings): string {
  if (image.ref !== undefined) return "";
  return image.tag !== "" ? image.tag : sourceTag(buildContext(image));
}

/**
 * The image tag for a build context: its git commit. A context with uncommitted changes is
 * refused: its tag would name a commit that is not what was built, and ECR's immutable tags
 * would then refuse the next push of that commit.
 */
export function sourceTag(context: string): string {
  if (!fs.existsSync(context)) {
    throw new Error(
      `The engine's build context ${context} does not exist. Check out the engine's source ` +
        "there, point bot3:image.context at it, or set bot3:image.ref to a prebuilt image.",
    );
  }
  const git = (...gitArgs: string[]) =>
    execFileSync("git", ["-C", context, ...gitArgs], { encoding: "utf8", stdio: "pipe" }).trim();
  let commit: string;
  try {
    commit = git("rev-parse", "--short=12", "HEAD");
  } catch {
    throw new Error(
      `The engine's build context ${context} is not a git checkout, so it has no commit to ` +
        "tag the image with. Set bot3:image.tag, or build from a checkout.",
    );
  }
  if (git("status", "--porcelain", "--", ".") !== "") {
    throw new Error(
      `The engine's build context ${context} has uncommitted changes. Commit them, or set ` +
        "bot3:image.tag to a tag that names this build.",
    );
  }
  return commit;
}
