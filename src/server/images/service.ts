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
import { imageHistory, inspectImage, listImages } from "../../oci/image-ops/describe.ts";
import { pruneStore } from "../../oci/image-ops/prune.ts";
import { pushImage } from "../../oci/image-ops/push.ts";
import { type Digest, isDigest } from "../../oci/spec/digest.ts";
import { parsePlatform } from "../../oci/spec/platform.ts";
import { parseReference, tryParseReference } from "../../oci/spec/reference.ts";
import type { StoredImage } from "../../oci/store/index.ts";
import type { ContentStore } from "../../oci/store/index.ts";
import type { Backend } from "../../backends/backend.ts";
import { backendNames } from "../../backends/registry.ts";
import { type ServerConfig, sectionOf } from "../config/schema.ts";
import { backendAliases } from "./aliases.ts";
import { ImageResolver } from "./resolver.ts";

/**
 * The server's images as the API sees them (list, pull, push, tag, rm, prune, build, save,
 * load), over the resolver that backends use too (resolver.ts): one store, one set of names.
 */
export interface ImageServiceDeps {
  config: ServerConfig;
  stateDir: string;
  logger: Logger;
  version: string;
  defaultBackend: BackendName;
  /** The images sheds were created from (refs or digests), kept by prune and rm. */
  shedImages: () => Promise<{ name: string; image: string }[]>;
  /** The resolver the backends got (made here when absent). */
  resolver?: ImageResolver;
  /** The backend that builds Dockerfiles (one offering `buildImage`), when any is enabled. */
  builder?: () => Pick<Backend, "name" | "buildImage"> | undefined;
}

export class ImageService {
  readonly resolver: ImageResolver;

  constructor(private readonly deps: ImageServiceDeps) {
    this.resolver = deps.resolver ?? new ImageResolver(deps);
  }

  get store(): ContentStore {
    return this.resolver.store;
  }

  /**
   * An alias (`base`, `full`) becomes its ref: the backend's image_aliases (without a backend:
   * the default backend's, then the others'), else the built-in ones (aliases.ts); `{version}`
   * becomes the server's version.
   */
  expand(input: string, backend?: BackendName): string {
    const others = backendNames().filter((b) => b !== this.deps.defaultBackend);
    return this.resolver.expand(input, backend ? [backend] : [this.deps.defaultBackend, ...others]);
  }

  /** The image a shed of `backend` is created from (resolver.ts: pull policy, `oci:` layouts). */
  ensure(input: string, backend: BackendName, progress: Progress): Promise<StoredImage> {
    return this.resolver.ensure(input, backend, progress);
  }

  /** Full refs the config names (default images, alias targets, built-in aliases) with the aliases of each. */
  configRefs(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const add = (ref: string | undefined, alias?: string) => {
      const parsed = ref ? tryParseReference(this.resolver.withVersion(ref)) : undefined;
      if (!parsed) return;
      const key = parsed.toString();
      const list = out.get(key) ?? [];
      if (alias && !list.includes(alias)) list.push(alias);
      out.set(key, list);
    };
    for (const b of this.deps.config.enabled_backends ?? backendNames()) {
      add(sectionOf(this.deps.config, b).default_image);
      for (const [alias, ref] of Object.entries(backendAliases(this.deps.config, b))) add(ref, alias);
    }
    return out;
  }

  list(): Promise<ImageSummary[]> {
    return listImages(this.store, this.configRefs());
  }

  pull(req: PullImageRequest, progress: Progress): Promise<PullImageResult> {
    return this.resolver.pull(this.expand(req.ref), req.platform ? { platform: parsePlatform(req.platform) } : {}, progress);
  }

  async push(req: PushImageRequest, progress: Progress): Promise<PushImageResult> {
    const result = await pushImage(this.resolver.registry, this.store, this.expand(req.source), this.expand(req.destination), {
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

  /** `addedBefore` (epoch ms): only images the store got before then (`system prune --until`). */
  async prune(req: PruneImagesRequest, opts: { addedBefore?: number } = {}): Promise<PruneImagesResult> {
    const keep = new Set<string>(this.configRefs().keys());
    for (const shed of await this.deps.shedImages()) {
      const ref = tryParseReference(this.expand(shed.image));
      if (ref) keep.add(ref.toString());
      const found = this.store.lookup(this.expand(shed.image));
      if (found) keep.add(found.digest);
    }
    const result = await pruneStore(this.store, { keep, all: req.all ?? false, dryRun: req.dryRun ?? false, ...opts });
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

  /** A Dockerfile build, by the enabled backend that offers one (features as an optional method), into the store. */
  async build(context: ReadableStream<Uint8Array>, query: BuildImageQuery, progress: Progress): Promise<BuildImageResult> {
    const builder = this.deps.builder?.();
    if (!builder?.buildImage) {
      throw new ShedError("UNSUPPORTED", "no enabled backend of this server builds Dockerfiles (the docker backend does); build a guest image with --recipe, or load one");
    }
    const buildArgs = Object.fromEntries((query.build_arg ?? []).map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]));
    const result = await builder.buildImage(context, {
      ...(query.dockerfile ? { dockerfile: query.dockerfile } : {}),
      ...(query.tag ? { tag: this.expand(query.tag) } : {}),
      ...(query.target ? { target: query.target } : {}),
      ...(query.platform ? { platform: query.platform } : {}),
      noCache: query.no_cache === "true",
      buildArgs,
      progress,
    });
    this.deps.logger.info("image built", { ref: result.ref, digest: result.digest, by: builder.name });
    return result;
  }

  save(refs: string[], format: "oci" | "docker" = "oci"): Promise<ArchiveContents> {
    const expanded = refs.map((r) => this.expand(r));
    return format === "docker" ? saveDockerArchive(this.store, expanded) : saveOciArchive(this.store, expanded);
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

/** The image API over a fresh resolver, with the sheds' images kept by prune (unit tests' shortcut). */
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
