import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { imageTag, lifecycleRules, sourceTag } from "../components/engineImage";
import { imageSchema } from "../settings/schema";
import { parseImageReference } from "../settings/imageReference";
import { resource, resourcesOfType, runStack } from "./harness";

const image = (stack: string) => runStack(stack);
const buildType = "docker:index/image:Image";

describe("EngineImage", () => {
  describe("when the program builds (staging)", () => {
    it("creates an ECR repository with immutable tags, scan on push and KMS encryption", async () => {
      const run = await image("staging");
      const repository = resource(
        run,
        "aws:ecr/repository:Repository",
        "bot3-engine-image-repository",
      );
      expect(repository.inputs.name).to.equal("bot3-staging-engine");
      expect(repository.inputs.imageTagMutability).to.equal("IMMUTABLE");
      expect(repository.inputs.imageScanningConfiguration).to.deep.equal({ scanOnPush: true });
      const key = resource(run, "aws:kms/key:Key", "bot3-engine-image-key");
      expect(key.inputs.enableKeyRotation).to.equal(true);
      const [encryption] = repository.inputs.encryptionConfigurations as {
        encryptionType: string;
        kmsKey: string;
      }[];
      expect(encryption.encryptionType).to.equal("KMS");
      expect(encryption.kmsKey).to.match(/^arn:aws:kms:.*:key\/bot3-engine-image-key/);
    });

    it("lets staging delete a repository that still holds images", async () => {
      const repository = resource(
        await image("staging"),
        "aws:ecr/repository:Repository",
        "bot3-engine-image-repository",
      );
      expect(repository.inputs.forceDelete).to.equal(true);
      expect(repository.protect).to.equal(false);
    });

    it("keeps the last N tagged images and expires untagged ones after D days", async () => {
      const run = await runStack("staging", {
        overrides: {
          "bot3:image": JSON.stringify({ keepTaggedImages: 12, untaggedExpiryDays: 3 }),
        },
      });
      const policy = resource(
        run,
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "bot3-engine-image-lifecycle",
      );
      const rules = (
        JSON.parse(policy.inputs.policy as string) as ReturnType<typeof lifecycleRules>
      ).rules;
      expect(
        rules.map((r) => [r.selection.tagStatus, r.selection.countType, r.selection.countNumber]),
      ).to.deep.equal([
        ["untagged", "sinceImagePushed", 3],
        ["tagged", "imageCountMoreThan", 12],
      ]);
    });

    it("pushes with registry credentials from the ECR token invoke, kept secret", async () => {
      const build = resource(await image("staging"), buildType, "bot3-engine-image-build");
      const registry = build.inputs.registry as {
        username: string;
        password: string;
        server: string;
      };
      expect(registry.username).to.equal("AWS");
      expect(registry.password).to.equal("offline-registry-credential-ecr-password");
      expect((build.maskedInputs.registry as { password: string }).password).to.equal("[secret]");
      expect(build.secretValues).to.include(registry.password);
      expect(registry.server).to.match(/\.dkr\.ecr\..*\/bot3-staging-engine$/);
    });

    it("builds the repository's Dockerfile from the engine's source, tagged with its commit", async () => {
      const run = await image("staging");
      const build = resource(run, buildType, "bot3-engine-image-build");
      const args = build.inputs.build as {
        dockerfile: string;
        context: string;
        args: Record<string, string>;
      };
      expect(args.dockerfile).to.match(/docker\/engine\/Dockerfile$/);
      expect(args.args).to.deep.equal({ BINARY_NAME: "bot3-engine" });
      expect(build.inputs.imageName).to.match(new RegExp(`:${sourceTag(args.context)}$`));
    });

    it("builds for the engine node group's architecture", async () => {
      const platformOf = (run: Awaited<ReturnType<typeof runStack>>) =>
        (resource(run, buildType, "bot3-engine-image-build").inputs.build as { platform: string })
          .platform;
      expect(platformOf(await image("staging"))).to.equal("linux/amd64");
      const graviton = await runStack("staging", {
        overrides: {
          "bot3:nodeGroups": JSON.stringify({ engine: { instanceTypes: ["c7g.large"] } }),
        },
      });
      expect(platformOf(graviton)).to.equal("linux/arm64");
    });

    it("runs the engine Deployment on the pushed image, pinned by digest", async () => {
      const run = await image("staging");
      const deployment = resourcesOfType(run, "kubernetes:apps/v1:Deployment").find(
        (d) => (d.inputs.metadata as { name: string }).name === "bot3-engine",
      );
      const spec = deployment!.inputs.spec as {
        template: { spec: { containers: { name: string; image: string }[] } };
      };
      const images = spec.template.spec.containers.map((c) => c.image);
      expect(images).to.include(run.outputs.imageRef);
      expect(run.outputs.imageRef).to.match(/@sha256:[0-9a-f]{64}$/);
    });

    it("exports the image by digest, and the registry", async () => {
      const run = await image("staging");
      expect(run.outputs.imageRef).to.match(/\/bot3-staging-engine@sha256:[0-9a-f]{64}$/);
      expect(run.outputs.registryUrl).to.match(/\.amazonaws\.com\/bot3-staging-engine$/);
    });
  });

  describe("in production", () => {
    it("refuses to delete a repository that holds images, and protects it", async () => {
      const repository = resource(
        await image("production"),
        "aws:ecr/repository:Repository",
        "bot3-engine-image-repository",
      );
      expect(repository.inputs.forceDelete).to.equal(false);
      expect(repository.protect).to.equal(true);
    });
  });

  describe("with a prebuilt image (local)", () => {
    it("builds nothing and creates no repository", async () => {
      const run = await image("local");
      expect(resourcesOfType(run, buildType)).to.be.empty;
      expect(run.resources.filter((r) => r.type.startsWith("aws:ecr"))).to.be.empty;
      expect(run.outputs.imageRef).to.equal("localhost:5001/bot3-engine:0.1.0");
      expect(run.outputs.registryUrl).to.equal("localhost:5001/bot3-engine");
    });
  });

  describe("image references", () => {
    const refuse: [string, RegExp][] = [
      ["registry.example.com/bot3-engine", /has neither a tag nor a digest/],
      ["registry.example.com/bot3-engine:latest", /uses the tag latest/],
      ["registry.example.com/bot3-engine@sha256:abc", /is not an image reference/],
      ["Registry.Example.com/Bot3 Engine:1.0", /is not an image reference/],
    ];
    for (const [ref, message] of refuse) {
      it(`refuses ${ref}`, () => {
        const result = imageSchema.safeParse({ ref });
        expect(result.success).to.equal(false);
        expect(result.error!.issues[0].message).to.match(message);
      });
    }

    it("accepts a tag, a digest, and a registry with a port", () => {
      const digest = "sha256:" + "a".repeat(64);
      for (const ref of [
        "registry.example.com/bot3-engine:1.4.2",
        `bot3-engine@${digest}`,
        "localhost:5001/bot3-engine:0.1.0",
      ]) {
        expect(imageSchema.safeParse({ ref }).success, ref).to.equal(true);
      }
      expect(parseImageReference(`localhost:5001/team/engine:1.0@${digest}`)).to.deep.equal({
        repository: "localhost:5001/team/engine",
        tag: "1.0",
        digest,
      });
    });
  });

  describe("the image tag", () => {
    let checkout: string;
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", checkout, ...args], { encoding: "utf8" }).trim();

    beforeEach(() => {
      checkout = fs.mkdtempSync(path.join(os.tmpdir(), "bot3-engine-"));
      git("init", "-q");
      fs.writeFileSync(path.join(checkout, "Cargo.toml"), '[package]\nname = "e"\n');
      git("add", ".");
      git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "init");
    });
    afterEach(() => fs.rmSync(checkout, { recursive: true, force: true }));

    it("is the build context's commit", () => {
      expect(sourceTag(checkout)).to.equal(git("rev-parse", "--short=12", "HEAD"));
    });

    it("comes from settings when bot3:image.tag is set, without asking git", () => {
      expect(imageTag(imageSchema.parse({ tag: "2024.06.1", context: "/nonexistent" }))).to.equal(
        "2024.06.1",
      );
    });

    it("is refused for a context with uncommitted changes", () => {
      fs.writeFileSync(path.join(checkout, "main.rs"), "fn main() {}\n");
      expect(() => sourceTag(checkout)).to.throw(/has uncommitted changes.*bot3:image.tag/);
    });

    it("is refused for a context that is not a git checkout, or is missing", () => {
      const plain = fs.mkdtempSync(path.join(os.tmpdir(), "bot3-plain-"));
      try {
        expect(() => sourceTag(plain)).to.throw(/is not a git checkout.*Set bot3:image.tag/);
      } finally {
        fs.rmSync(plain, { recursive: true });
      }
      expect(() => sourceTag("/nonexistent/engine")).to.throw(/does not exist.*bot3:image.context/);
    });
  });
});
