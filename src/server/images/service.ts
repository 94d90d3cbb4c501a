import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import type {
  BuildImageQuery,
  BuildImageResult,
  ImageHistory,
  ImageInspect,
  ImageSummary,
  LoadImageResult,
  PruneImagesRequest,
  PruneImagesResult,
  PullImageRequest,
  PullImageResult,
  PushImageRequest,
  PushImageResult,
  RemoveImageResult,
  TagImageResult,
} from "../../api/schemas/image.ts";
import type { BackendName, Progress } from "../../api/schemas/shed.ts";
import type { Logger } from "../../log/logger.ts";
import { type ArchiveContents, saveDockerArchive, saveOciArchive } from "../../oci/archive/save.ts";
import { loadArchive } from "../../oci/archive/load.ts";
import { DockerEngine } from "../../backends/docker/engine.ts";
import { buildImage } from "../../oci/build/build.ts";
import { imageHistory, inspectImage, listImages } from "../../oci/image-ops/describe.ts";
import { pruneStore } from "../../oci/image-ops/prune.ts";
import { pullImage } from "../../oci/image-ops/pull.ts";
import { pushImage } from "../../oci/image-ops/push.ts";
import { RegistryClient } from "../../oci/registry/client.ts";
import { type Digest, isDigest } from "../../oci/spec/digest.ts";
import { parsePlatform } from "../../oci/spec/platform.ts";
import { namesRegistry, parseReference, tryParseReference } from "../../oci/spec/reference.ts";
import type { StoredImage } from "../../oci/store/index.ts";
import type { ContentStore } from "../../oci/store/index.ts";
import { openContentStore } from "../../oci/store/layout.ts";
import type { ServerConfig } from "../config/schema.ts";
import { aliasesOf, BUILTIN_ALIASES, backendAliases, howToGet } from "./aliases.ts";

/**
 * The server's images: the content store under `<state_dir>/images`, a registry client, and
 * the config's view of them (aliases, default images, pull_policy, pull_concurrency).
 * Routes and backends go through this; it hands out the store for rootfs building.
 */
export interface ImageServiceDeps {
  config: ServerConfig;
  stateDir: string;
  logger: Logger;
  version: string;
  defaultBackend: BackendName;
  /** The images sheds were created from (refs or digests), kept by prune and rm. */
  shedImages: () => Promise<{ name: string; image: string }[]>;
}

const BACKENDS: BackendName[] = ["docker", "qemu", "firecracker", "vz"];

export class ImageService {
  readonly store: ContentStore;
  readonly registry: RegistryClient;

  constructor(private readonly deps: ImageServiceDeps) {
    this.store = openContentStore(join(deps.stateDir, "images"));
    this.registry = new RegistryClient({ logger: deps.logger, insecureRegistries: deps.config.insecure_registries });
  }

  /**
   * An alias (`base`, `full`) becomes its ref: the backend's image_aliases (without a backend:
   * the default backend's, then the others'), else the built-in ones (aliases.ts); `{version}`
   * becomes the server's version.
   */
  expand(input: string, backend?: BackendName): string {
    const name = input.trim();
    const order = backend ? [backend] : [this.deps.defaultBackend, ...BACKENDS.filter((b) => b !== this.deps.defaultBackend)];
    for (const b of order) {
      const target = this.deps.config[b]?.image_aliases?.[name];
      if (target) return this.withVersion(target);
    }
    return this.withVersion(BUILTIN_ALIASES[name] ?? name);
  }

  /** Full refs the config names (default images, alias targets, built-in aliases) with the aliases of each. */
  configRefs(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const add = (ref: string | undefined, alias?: string) => {
      const parsed = ref ? tryParseReference(this.withVersion(ref)) : undefined;
      if (!parsed) return;
      const key = parsed.toString();
      const list = out.get(key) ?? [];
      if (alias && !list.includes(alias)) list.push(alias);
      out.set(key, list);
    };
    for (const b of this.deps.config.enabled_backends ?? BACKENDS) {
      add(this.deps.config[b]?.default_image);
      for (const [alias, ref] of Object.entries(backendAliases(this.deps.config, b))) add(ref, alias);
    }
    return out;
  }

  list(): Promise<ImageSummary[]> {
    return listImages(this.store, this.configRefs());
  }

  async pull(req: PullImageRequest, progress: Progress): Promise<PullImageResult> {
    const ref = this.expand(req.ref);
    const platform = req.platform ? parsePlatform(req.platform) : undefined;
    const result = await pullImage(this.registry, this.store, ref, {
      ...(platform ? { platform } : {}),
      concurrency: this.deps.config.pull_concurrency,
      progress,
    });
    this.deps.logger.info("image pulled", { ref: result.ref, digest: result.digest, downloaded: result.downloaded });
    return result;
  }

  async push(req: PushImageRequest, progress: Progress): Promise<PushImageResult> {
    const result = await pushImage(this.registry, this.store, this.expand(req.source), this.expand(req.destination), {
      concurrency: this.deps.config.pull_concurrency,
      progress,
    });
    this.deps.logger.info("image pushed", { ref: result.ref, digest: result.digest });
    return result;
  }

  async tag(source: string, target: string): Promise<TagImageResult> {
    const image = await this.store.resolve(this.expand(source));
    const ref = parseReference(this.expand(target));
    if (ref.digest) throw new ShedError("INVALID_REQUEST", `tag with name:tag, not a digest ("${target}")`);
    await this.store.tag(ref.toString(), image.manifestDigest, { origin: "tag" });
    return { ref: ref.toString(), digest: image.manifestDigest };
  }

  /**
   * Removes a ref (or, given a digest, every ref of that image). An image a shed was created
   * from is kept unless `force`: its sheds would lose what `reset` rebuilds them from.
   */
  async remove(input: string, force: boolean): Promise<RemoveImageResult> {
    const expanded = this.expand(input);
    const found = this.store.lookup(expanded);
    if (!found) {
      throw new ShedError("IMAGE_NOT_FOUND", `image "${input}" is not in the server's image store (see \`shed image ls\`)`);
    }
    const parsed = tryParseReference(expanded);
    const byRef = found.ref !== undefined && parsed !== undefined && !isDigest(expanded) && parsed.toString() === found.ref;
    const refs = this.store.list().filter((e) => e.digest === found.digest);
    const removing = byRef ? refs.filter((e) => e.ref === found.ref) : refs;
    const remaining = refs.filter((e) => !removing.includes(e) && e.ref);
    if (!force) {
      const users = await this.shedsUsing(removing.map((e) => e.ref).filter((r): r is string => !!r), remaining.length === 0 ? found.digest : undefined);
      if (users.length > 0) {
        throw new ShedError(
          "IMAGE_IN_USE",
          `image "${input}" is used by shed${users.length > 1 ? "s" : ""} ${users.join(", ")}; delete ${users.length > 1 ? "them" : "it"} first, or remove the image anyway with --force`,
        );
      }
    }
    if (byRef) await this.store.untag(found.ref!);
    else this.store.removeDigest(found.digest);
    return { removed: removing.map((e) => ({ ...(e.ref ? { ref: e.ref } : {}), digest: e.digest })) };
  }

  async prune(req: PruneImagesRequest): Promise<PruneImagesResult> {
    const keep = new Set<string>(this.configRefs().keys());
    for (const shed of await this.deps.shedImages()) {
      const ref = tryParseReference(this.expand(shed.image));
      if (ref) keep.add(ref.toString());
      const found = this.store.lookup(this.expand(shed.image));
      if (found) keep.add(found.digest);
    }
    const result = await pruneStore(this.store, { keep, all: req.all ?? false, dryRun: req.dryRun ?? false });
    if (!result.dryRun) this.deps.logger.info("images pruned", { images: result.images.length, blobs: result.blobs, bytes: result.reclaimedBytes });
    return result;
  }

  async history(input: string): Promise<ImageHistory> {
    return imageHistory(await this.store.resolve(this.expand(input)));
  }

  async inspect(input: string): Promise<ImageInspect> {
    return inspectImage(this.store, await this.store.resolve(this.expand(input)));
  }

  async load(body: ReadableStream<Uint8Array>, tag: string | undefined, progress: Progress): Promise<LoadImageResult> {
    const result = await loadArchive(this.store, body, { ...(tag ? { tag: this.expand(tag) } : {}), progress });
    this.deps.logger.info("images loaded", { format: result.format, images: result.images.length });
    return result;
  }

  /** Builds with the Docker engine's builder (the docker section's socket) into the store. */
  async build(context: ReadableStream<Uint8Array>, query: BuildImageQuery, progress: Progress): Promise<BuildImageResult> {
    const buildArgs = Object.fromEntries((query.build_arg ?? []).map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]));
    const result = await buildImage(new DockerEngine(this.deps.config.docker.socket), this.store, context, {
      ...(query.dockerfile ? { dockerfile: query.dockerfile } : {}),
      ...(query.tag ? { tag: this.expand(query.tag) } : {}),
      ...(query.target ? { target: query.target } : {}),
      ...(query.platform ? { platform: query.platform } : {}),
      noCache: query.no_cache === "true",
      buildArgs,
      progress,
      logger: this.deps.logger,
    });
    this.deps.logger.info("image built", { ref: result.ref, digest: result.digest });
    return result;
  }

  save(refs: string[], format: "oci" | "docker" = "oci"): Promise<ArchiveContents> {
    const expanded = refs.map((r) => this.expand(r));
    return format === "docker" ? saveDockerArchive(this.store, expanded) : saveOciArchive(this.store, expanded);
  }

  /**
   * The image a shed is created from, per the backend's pull_policy: `missing` pulls when the
   * store lacks it, `always` pulls every time, `never` only looks in the store. Only a ref that
   * names its registry host is pulled: a bare name (`shed/base:latest`, `busybox`) is a local
   * image, and its absence is an error that says how to build or pull it, never a request to
   * Docker Hub.
   */
  async ensure(input: string, backend: BackendName, progress: Progress): Promise<StoredImage> {
    const ref = this.expand(input, backend);
    const policy = this.deps.config[backend]?.pull_policy ?? "missing";
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
      const pulled = await this.pull({ ref }, progress);
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

  private withVersion(ref: string): string {
    return ref.replaceAll("{version}", this.deps.version);
  }

  /** Sheds whose image is one of `refs`, or resolves to `digest`. */
  private async shedsUsing(refs: string[], digest: Digest | undefined): Promise<string[]> {
    const users: string[] = [];
    for (const shed of await this.deps.shedImages()) {
      const expanded = this.expand(shed.image);
      const ref = tryParseReference(expanded)?.toString();
      const uses = (ref && refs.includes(ref)) || (digest !== undefined && this.store.lookup(expanded)?.digest === digest);
      if (uses) users.push(shed.name);
    }
    return users;
  }
}

/** What serve.ts calls: the service over the state dir, with the sheds' images for prune. */
export function createImageService(
  config: ServerConfig,
  stateDir: string,
  logger: Logger,
  version: string,
  defaultBackend: BackendName,
  sheds: { list(): Promise<{ name: string; image: string }[]> },
): ImageService {
  return new ImageService({ config, stateDir, logger, version, defaultBackend, shedImages: () => sheds.list() });
}
