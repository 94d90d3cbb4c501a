import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import type { PullImageResult } from "../../api/schemas/image.ts";
import type { BackendName, Progress } from "../../api/schemas/shed.ts";
import { type ImageSource, storeImageSource } from "../../backends/image-source.ts";
import { backendNames } from "../../backends/registry.ts";
import type { Logger } from "../../log/logger.ts";
import { pullImage } from "../../oci/image-ops/pull.ts";
import { RegistryClient } from "../../oci/registry/client.ts";
import { isDigest } from "../../oci/spec/digest.ts";
import type { PlatformSpec } from "../../oci/spec/platform.ts";
import { namesRegistry, tryParseReference } from "../../oci/spec/reference.ts";
import { type ContentStore, importLayoutRef, isLayoutRef, type StoredImage } from "../../oci/store/index.ts";
import { openContentStore } from "../../oci/store/layout.ts";
import { type ServerConfig, sectionOf } from "../config/schema.ts";
import { aliasesOf, BUILTIN_ALIASES, howToGet } from "./aliases.ts";

export interface ImageResolverDeps {
  config: ServerConfig;
  stateDir: string;
  logger: Logger;
  version: string;
}

/**
 * Refs to images in the server's content store (`<state_dir>/images`), the same way for
 * every backend: aliases (the backend's image_aliases, the built-in ones, `{version}`),
 * `oci:` layouts copied in, registry pulls per the backend's pull_policy. Made before the
 * backends, which each get an ImageSource of it (`forBackend`); the image API (service.ts)
 * is built on it.
 */
export class ImageResolver {
  readonly store: ContentStore;
  readonly registry: RegistryClient;

  constructor(private readonly deps: ImageResolverDeps) {
    this.store = openContentStore(join(deps.stateDir, "images"));
    this.registry = new RegistryClient({ logger: deps.logger, insecureRegistries: deps.config.insecure_registries });
  }

  /** What backend `name` gets: this resolver bound to its section, over the OCI module's rootfs and file reading. */
  forBackend(name: BackendName): ImageSource {
    return storeImageSource({
      store: this.store,
      stateDir: this.deps.stateDir,
      compression: this.deps.config.rootfs_compression,
      expand: (input) => this.expand(input, [name]),
      resolve: (input, progress) => this.ensure(input, name, progress),
    });
  }

  /** An alias becomes its ref: the image_aliases of the first backend of `order` that has it, else the built-in ones. */
  expand(input: string, order: readonly BackendName[] = backendNames()): string {
    const name = input.trim();
    for (const b of order) {
      const target = sectionOf(this.deps.config, b).image_aliases[name];
      if (target) return this.withVersion(target);
    }
    return this.withVersion(BUILTIN_ALIASES[name] ?? name);
  }

  withVersion(ref: string): string {
    return ref.replaceAll("{version}", this.deps.version);
  }

  async pull(ref: string, opts: { platform?: PlatformSpec }, progress: Progress): Promise<PullImageResult> {
    const result = await pullImage(this.registry, this.store, ref, { ...opts, concurrency: this.deps.config.pull_concurrency, progress });
    this.deps.logger.info("image pulled", { ref: result.ref, digest: result.digest, downloaded: result.downloaded });
    return result;
  }

  /**
   * The image a shed is created from, per the backend's pull_policy: `missing` pulls when the
   * store lacks it, `always` pulls every time, `never` only looks in the store. Only a ref that
   * names its registry host is pulled: a bare name (`shed/base:latest`, `busybox`) is a local
   * image, and its absence is an error that says how to build or pull it, never a request to
   * Docker Hub. An `oci:/path/to/layout[:name]` ref (what guest/build writes) is copied into
   * the store first, so it takes the same checked path.
   */
  async ensure(input: string, backend: BackendName, progress: Progress): Promise<StoredImage> {
    const ref = this.expand(input, [backend]);
    if (isLayoutRef(ref)) return importLayoutRef(this.store, ref, progress);
    const policy = sectionOf(this.deps.config, backend).pull_policy;
    const pullable = !isDigest(ref) && namesRegistry(ref);
    const local = await this.store.tryResolve(ref);
    if (local && (policy !== "always" || !pullable)) return local;
    const missing = (why: string, cause?: unknown) =>
      new ShedError("IMAGE_NOT_FOUND", `${this.describe(input, ref, backend)} is not in the server's image store${why}`, { cause });
    if (isDigest(ref)) throw missing("; load or pull the image it belongs to first");
    const familiar = tryParseReference(ref)?.familiar() ?? ref;
    if (!local && policy === "never") throw missing(` and ${backend}.pull_policy is "never": ${howToGet(ref, familiar)}`);
    if (!pullable) throw missing(`, and ${familiar} names no registry host, so it is not pulled: ${howToGet(ref, familiar)}`);
    try {
      const pulled = await this.pull(ref, {}, progress);
      return await this.store.resolve(pulled.ref);
    } catch (err) {
      // Unreachable registry or no such repository: for a create, the image is simply not there.
      if (err instanceof ShedError && (err.code === "IMAGE_NOT_FOUND" || err.code === "REGISTRY_ERROR")) {
        throw missing(`, and pulling it failed: ${err.message} (try \`shed image pull ${familiar}\` once the registry answers)`, err);
      }
      throw err;
    }
  }

  /** `image "base" (alias of shed/base:latest)`, or `image "team/dev:1"`: how errors name an image. */
  private describe(input: string, ref: string, backend: BackendName): string {
    const name = input.trim();
    const familiar = tryParseReference(ref)?.familiar() ?? ref;
    const aliases = aliasesOf(this.deps.config, backend, ref, name);
    if (aliases[0] === name) return `image "${name}" (alias of ${familiar})`;
    if (aliases.length) return `image "${familiar}" (what the alias ${aliases.map((a) => `"${a}"`).join(", ")} points at)`;
    return `image "${name === familiar || name === ref ? familiar : name}"`;
  }
}
