import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/harness/temp-dir.ts";
import { ShedError } from "../../api/errors.ts";
import { silentLogger } from "../../log/logger.ts";
import type { Digest } from "../../oci/spec/digest.ts";
import { namesRegistry } from "../../oci/spec/reference.ts";
import { ServerConfigSchema } from "../config/schema.ts";
import { ImageService } from "./service.ts";

const tempDir = useTempDirs();

function service(config: Record<string, unknown> = {}) {
  const stateDir = tempDir("images");
  return new ImageService({
    config: v.parse(ServerConfigSchema, { state_dir: stateDir, ...config }),
    stateDir,
    logger: silentLogger,
    version: "1.2.3",
    defaultBackend: "docker",
    shedImages: async () => [],
  });
}

/** A one-config, no-layer image tagged `ref` in the service's real store. */
async function storeImage(images: ImageService, ref: string): Promise<void> {
  const enc = new TextEncoder();
  const config = await images.store.putBlob(enc.encode(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } })));
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config.digest, size: config.size },
    layers: [],
  };
  const stored = await images.store.putManifest(enc.encode(JSON.stringify(manifest)), manifest.mediaType);
  await images.store.tag(images.expand(ref), stored.digest as Digest, { origin: "load" });
}

async function failure(p: Promise<unknown>): Promise<ShedError> {
  const err = await p.then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(ShedError);
  return err as ShedError;
}

describe("image names", () => {
  it("built-in aliases base, devtools, default mean shed/<variant>:latest on every backend", () => {
    const images = service();
    for (const backend of ["docker", "qemu", "firecracker", "vz"] as const) {
      expect(images.expand("base", backend)).toBe("shed/base:latest");
      expect(images.expand("devtools", backend)).toBe("shed/devtools:latest");
      expect(images.expand("default", backend)).toBe("shed/default:latest");
    }
    expect(images.expand(" base ")).toBe("shed/base:latest");
    expect(images.expand("team/dev:1")).toBe("team/dev:1");
  });

  it("image_aliases override a built-in per backend and add names, with {version}", () => {
    const images = service({
      qemu: { image_aliases: { base: "registry.example:5000/shed/base:{version}", full: "ghcr.io/x/full:v{version}" } },
    });
    expect(images.expand("base", "qemu")).toBe("registry.example:5000/shed/base:1.2.3");
    expect(images.expand("base", "docker")).toBe("shed/base:latest");
    expect(images.expand("full", "qemu")).toBe("ghcr.io/x/full:v1.2.3");
    // Without a backend: the default backend's aliases, then the others'.
    expect(images.expand("full")).toBe("ghcr.io/x/full:v1.2.3");
    expect(images.expand("base")).toBe("registry.example:5000/shed/base:1.2.3");
  });

  it("a registry host is a first component with a dot, a port or localhost", () => {
    for (const ref of ["registry.example:5000/a/b:1", "127.0.0.1:5000/x", "localhost/x:1", "ghcr.io/a/b@sha256:" + "0".repeat(64), "docker.io/library/busybox"]) {
      expect(namesRegistry(ref), ref).toBe(true);
    }
    for (const ref of ["busybox", "shed/base:latest", "team/dev", "base"]) expect(namesRegistry(ref), ref).toBe(false);
  });

  it("image ls names the aliases that point at each stored image", async () => {
    const images = service({ docker: { image_aliases: { dev: "team/dev:1" } } });
    await storeImage(images, "shed/base:latest");
    await storeImage(images, "team/dev:1");
    await storeImage(images, "other/thing:2");
    const listed = Object.fromEntries((await images.list()).map((i) => [i.name, i]));
    expect(listed["shed/base:latest"]).toMatchObject({ aliases: ["base"], source: "config" });
    expect(listed["team/dev:1"]).toMatchObject({ aliases: ["dev"], source: "config" });
    expect(listed["other/thing:2"]?.aliases).toBeUndefined();
    expect(listed["other/thing:2"]?.source).toBe("user");
  });
});

describe("images for a create (ensure)", () => {
  it("an alias whose image is missing names the alias, its ref, and the commands that build or pull it", async () => {
    const err = await failure(service().ensure("base", "qemu", () => {}));
    expect(err.code).toBe("IMAGE_NOT_FOUND");
    expect(err.message).toBe(
      'image "base" (alias of shed/base:latest) is not in the server\'s image store, and shed/base:latest names no registry host, so it is not pulled: ' +
        "build it with `make image-base` (in a shed checkout) or `shed image build --recipe guest/base -t shed/base:latest`, " +
        "or pull a copy by its full name and tag it: `shed image pull HOST/REPO:TAG && shed image tag HOST/REPO:TAG shed/base:latest`",
    );
  });

  it("the alias is named when the server resolved it before (the create spec holds the target)", async () => {
    const err = await failure(service().ensure("shed/devtools:latest", "docker", () => {}));
    expect(err.message).toMatch(/^image "shed\/devtools:latest" \(what the alias "devtools" points at\) is not in the server's image store/);
    expect(err.message).toContain("`make image-devtools`");
  });

  it("a bare name that is not local is not looked up on Docker Hub: it says what to do", async () => {
    const err = await failure(service().ensure("busybox", "docker", () => {}));
    expect(err.code).toBe("IMAGE_NOT_FOUND");
    expect(err.message).toBe(
      'image "busybox:latest" is not in the server\'s image store, and busybox:latest names no registry host, so it is not pulled: ' +
        "build or load it (`shed image build -t NAME DIR`, `shed image load -i FILE`; the guest images: `make image-base` or " +
        "`shed image build --recipe guest/base`), or give the image with its registry host: `shed image pull HOST/REPO:TAG`",
    );
    expect(err.message).not.toMatch(/docker\.io|registry-1/);
  });

  it("a qualified ref still pulls (here: a loopback port nobody listens on, so the pull fails and says so)", async () => {
    const err = await failure(service().ensure("127.0.0.1:9/team/dev:1", "docker", () => {}));
    expect(err.code).toBe("IMAGE_NOT_FOUND");
    expect(err.message).toMatch(/^image "127\.0\.0\.1:9\/team\/dev:1" is not in the server's image store, and pulling it failed: /);
    expect(err.message).toContain("shed image pull 127.0.0.1:9/team/dev:1");
  });

  it("a config alias to a registry that fails names the alias too", async () => {
    const images = service({ qemu: { image_aliases: { full: "127.0.0.1:9/shed/full:2" } } });
    const err = await failure(images.ensure("full", "qemu", () => {}));
    expect(err.message).toMatch(/^image "full" \(alias of 127\.0\.0\.1:9\/shed\/full:2\) is not in the server's image store, and pulling it failed: /);
  });

  it("a local image is used as it is, even with pull_policy always when its name has no registry", async () => {
    const images = service({ docker: { pull_policy: "always" } });
    await storeImage(images, "shed/base:latest");
    const found = await images.ensure("base", "docker", () => {});
    expect(found.ref).toBe("docker.io/shed/base:latest");
  });

  it("pull_policy never: a missing image is an error with what to do, and no pull", async () => {
    const images = service({ docker: { pull_policy: "never" } });
    const err = await failure(images.ensure("127.0.0.1:9/team/dev:1", "docker", () => {}));
    expect(err.message).toMatch(/is not in the server's image store and docker\.pull_policy is "never": build or load it/);
  });
});
