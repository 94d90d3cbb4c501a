import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { type Logger, silentLogger } from "../../log/logger.ts";
import { loadArchive } from "../archive/load.ts";
import type { Digest } from "../spec/digest.ts";
import { parseReference } from "../spec/reference.ts";
import type { ContentStore } from "../store/index.ts";
import { jsonLines } from "./json-lines.ts";

/**
 * `shed image build`: the Docker engine's builder does the build (`POST /build` with the
 * context as a tar), then the image comes out of the engine as a docker-archive
 * (`GET /images/{id}/get`) and into the shed store like any `image load`. The engine is only
 * the builder here: what sheds run comes from the store.
 */

/** What this needs of an Engine API client (backends/docker/engine.ts's DockerEngine fits). */
export interface BuildEngine {
  readonly socketPath: string;
  request(
    method: string,
    path: string,
    opts?: { query?: Record<string, string>; raw?: RequestInit["body"]; headers?: Record<string, string>; timeoutMs?: number },
  ): Promise<Response>;
}

export interface BuildOptions {
  /** Path of the Dockerfile inside the context (default "Dockerfile"). */
  dockerfile?: string;
  /** Ref for the built image in the store (and in the engine). Untagged when absent. */
  tag?: string;
  buildArgs?: Record<string, string>;
  target?: string;
  platform?: string;
  noCache?: boolean;
  /** Ask the engine to pull newer base images (it has no registry access in tests). */
  pull?: boolean;
  labels?: Record<string, string>;
  progress?: Progress;
  logger?: Logger;
}

export interface BuildResult {
  /** Full normalised ref, when tagged. */
  ref?: string;
  /** Manifest digest in the shed store. */
  digest: Digest;
  /** The engine's image id. */
  imageId: string;
}

/** Builds an image from a context tar and imports it into the store. */
export async function buildImage(
  engine: BuildEngine,
  store: ContentStore,
  context: ReadableStream<Uint8Array> | Blob | Uint8Array,
  opts: BuildOptions = {},
): Promise<BuildResult> {
  const progress = opts.progress ?? (() => {});
  const logger = opts.logger ?? silentLogger;
  const tag = opts.tag ? parseReference(opts.tag) : undefined;
  if (tag?.digest) throw new ShedError("INVALID_REQUEST", `--tag takes name:tag, not a digest ("${opts.tag}")`);
  await ensureBuilder(engine);

  const query: Record<string, string> = {
    dockerfile: opts.dockerfile ?? "Dockerfile",
    rm: "1",
    forcerm: "1",
    // The classic builder: its JSON stream is what this parses (BuildKit needs a session).
    version: "1",
  };
  if (tag) query.t = tag.toString();
  if (opts.buildArgs && Object.keys(opts.buildArgs).length > 0) query.buildargs = JSON.stringify(opts.buildArgs);
  if (opts.labels && Object.keys(opts.labels).length > 0) query.labels = JSON.stringify(opts.labels);
  if (opts.target) query.target = opts.target;
  if (opts.platform) query.platform = opts.platform;
  if (opts.noCache) query.nocache = "1";
  if (opts.pull) query.pull = "1";

  progress({ id: "build", status: "sending the build context to the Docker engine" });
  const res = await engine.request("POST", "/build", {
    query,
    raw: context as RequestInit["body"],
    headers: { "content-type": "application/x-tar" },
  });
  if (!res.ok) throw await buildRefused(res);
  if (!res.body) throw new ShedError("PROTOCOL_ERROR", "the Docker engine answered the build with no body");

  let imageId: string | undefined;
  const output: string[] = [];
  for await (const msg of jsonLines(res.body)) {
    if (typeof msg.error === "string" || msg.errorDetail) {
      const detail = (msg.errorDetail as { message?: string } | undefined)?.message;
      const message = (typeof msg.error === "string" ? msg.error : detail) ?? "unknown error";
      const tail = output.slice(-10).join("\n");
      throw new ShedError("BUILD_FAILED", `the build failed: ${message.trim()}${tail ? `\n--- last output ---\n${tail}` : ""}`);
    }
    const aux = msg.aux as { ID?: string } | undefined;
    if (aux?.ID) imageId = aux.ID;
    if (typeof msg.stream === "string") {
      for (const line of msg.stream.split("\n")) {
        const text = line.trimEnd();
        if (!text) continue;
        output.push(text);
        if (output.length > 200) output.shift();
        const step = /^Step (\d+)\/(\d+) : /.exec(text);
        progress(step ? { id: "build", status: text, current: Number(step[1]), total: Number(step[2]) } : { id: "build", status: text });
        const built = /^Successfully built ([0-9a-f]{12,64})$/.exec(text);
        if (built && !imageId) imageId = built[1];
      }
    } else if (typeof msg.status === "string") {
      progress({ id: typeof msg.id === "string" ? msg.id : "build", status: msg.status });
    }
  }
  if (!imageId) {
    throw new ShedError("BUILD_FAILED", `the Docker engine ended the build without an image id; its last output:\n${output.slice(-10).join("\n")}`);
  }
  logger.info("image built by the Docker engine", { imageId, tag: tag?.toString() });

  progress({ id: "build", status: "importing the image into the shed store" });
  const archive = await engine.request("GET", `/images/${encodeURIComponent(imageId)}/get`);
  if (!archive.ok || !archive.body) {
    throw new ShedError("BACKEND_UNAVAILABLE", `the Docker engine would not export the built image ${imageId}: ${(await archive.text()).trim()} (HTTP ${archive.status})`);
  }
  const loaded = await loadArchive(store, archive.body, { ...(tag ? { tag: tag.toString() } : {}), progress, origin: "build" });
  const image = loaded.images[0];
  if (!image) throw new ShedError("INTERNAL", `the archive of the built image ${imageId} held no image`);
  progress({ id: "build", status: "done" });
  return { ...(image.ref ? { ref: image.ref } : {}), digest: image.digest, imageId };
}

/** A builder is reachable, or a clear BACKEND_UNAVAILABLE saying what to do instead. */
async function ensureBuilder(engine: BuildEngine): Promise<void> {
  let ok = false;
  let why = "";
  try {
    const res = await engine.request("GET", "/_ping", { timeoutMs: 3000 });
    ok = res.ok;
    why = ok ? "" : `HTTP ${res.status}`;
    await res.body?.cancel();
  } catch (err) {
    why = err instanceof Error ? err.message : String(err);
  }
  if (!ok) {
    throw new ShedError(
      "BACKEND_UNAVAILABLE",
      `image build needs a Docker engine and none is reachable at ${engine.socketPath} (${why}); start dockerd on the server, or build elsewhere and bring the image in with \`shed image load\` or \`shed image pull\``,
    );
  }
}

async function buildRefused(res: Response): Promise<ShedError> {
  const text = (await res.text()).trim();
  let message = text;
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {}
  // 4xx/500 before the stream: a missing Dockerfile, a bad parameter, an unknown base image.
  const code = res.status >= 500 && !/dockerfile|not found|no such|parse|unknown/i.test(message) ? "BACKEND_UNAVAILABLE" : "BUILD_FAILED";
  return new ShedError(code, `the Docker engine refused the build: ${message} (HTTP ${res.status})`);
}
