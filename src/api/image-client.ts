import * as v from "valibot";
import { type ApiClient, errorFromResponse } from "./client.ts";
import { ShedError } from "./errors.ts";
import {
  type BuildImageQuery,
  type BuildImageResult,
  BuildImageResultSchema,
  type ImageHistory,
  ImageHistorySchema,
  type ImageInspect,
  ImageInspectSchema,
  ImageListSchema,
  type ImageSummary,
  type LoadImageResult,
  LoadImageResultSchema,
  type PruneImagesRequest,
  type PruneImagesResult,
  PruneImagesResultSchema,
  type PullImageRequest,
  type PullImageResult,
  PullImageResultSchema,
  type PushImageResult,
  PushImageResultSchema,
  type RemoveImageResult,
  RemoveImageResultSchema,
  type TagImageResult,
  TagImageResultSchema,
} from "./schemas/image.ts";
import type { Progress } from "./schemas/shed.ts";
import { readEventStream } from "./sse.ts";

/** /api/images through the CLI's API client; archives stream both ways, never buffered whole. */
export async function listImages(client: ApiClient): Promise<ImageSummary[]> {
  return v.parse(ImageListSchema, await client.request("GET", "/images")).images;
}

export async function pullImage(client: ApiClient, req: PullImageRequest, onProgress?: Progress): Promise<PullImageResult> {
  return v.parse(PullImageResultSchema, await client.request("POST", "/images/pull", { body: req, onProgress }));
}

export async function pushImage(client: ApiClient, source: string, destination: string, onProgress?: Progress): Promise<PushImageResult> {
  return v.parse(PushImageResultSchema, await client.request("POST", "/images/push", { body: { source, destination }, onProgress }));
}

export async function tagImage(client: ApiClient, source: string, target: string): Promise<TagImageResult> {
  return v.parse(TagImageResultSchema, await client.request("POST", "/images/tag", { body: { source, target } }));
}

export async function removeImage(client: ApiClient, ref: string, force: boolean): Promise<RemoveImageResult> {
  return v.parse(RemoveImageResultSchema, await client.request("DELETE", "/images", { query: { ref, force: force ? "true" : undefined } }));
}

export async function pruneImages(client: ApiClient, req: PruneImagesRequest): Promise<PruneImagesResult> {
  return v.parse(PruneImagesResultSchema, await client.request("POST", "/images/prune", { body: req }));
}

export async function inspectImage(client: ApiClient, ref: string): Promise<ImageInspect> {
  return v.parse(ImageInspectSchema, await client.request("GET", "/images/inspect", { query: { ref } }));
}

export async function imageHistory(client: ApiClient, ref: string): Promise<ImageHistory> {
  return v.parse(ImageHistorySchema, await client.request("GET", "/images/history", { query: { ref } }));
}

/** Sends an archive (a file's stream) to be loaded; progress as SSE. */
export async function loadImage(
  client: ApiClient,
  archive: Blob | ReadableStream<Uint8Array>,
  opts: { tag?: string; onProgress?: Progress } = {},
): Promise<LoadImageResult> {
  const query = new URLSearchParams(opts.tag ? { tag: opts.tag } : {});
  return v.parse(LoadImageResultSchema, await postTar(client, "/api/images/load", query, archive, opts.onProgress));
}

/** Sends a build context (a tar stream) to be built by the server's builder; progress as SSE. */
export async function buildImage(
  client: ApiClient,
  context: Blob | ReadableStream<Uint8Array>,
  query: BuildImageQuery,
  onProgress?: Progress,
): Promise<BuildImageResult> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) params.append(key, item);
  }
  return v.parse(BuildImageResultSchema, await postTar(client, "/api/images/build", params, context, onProgress));
}

/** POSTs a tar body, streamed, and reads the SSE answer to its result. */
async function postTar(
  client: ApiClient,
  path: string,
  query: URLSearchParams,
  body: Blob | ReadableStream<Uint8Array>,
  onProgress: Progress = () => {},
): Promise<unknown> {
  const url = new URL(path, client.baseUrl);
  url.search = query.toString();
  const headers = { "content-type": "application/x-tar", accept: "text/event-stream" };
  const { res, done } = await client.open(url, { method: "POST", headers, body, ...({ duplex: "half" } as object) });
  done();
  if (!res.ok) throw await errorFromResponse(res);
  if (!res.body) throw new ShedError("PROTOCOL_ERROR", `the server sent no answer to POST ${path}`);
  return client.guard(readEventStream(res.body, onProgress));
}

/** Opens the archive of images as a stream, with its length when the server says it. */
export async function saveImages(
  client: ApiClient,
  refs: string[],
  format: "oci" | "docker" = "oci",
): Promise<{ body: ReadableStream<Uint8Array>; size?: number }> {
  const url = new URL("/api/images/save", client.baseUrl);
  for (const r of refs) url.searchParams.append("ref", r);
  url.searchParams.set("format", format);
  const { res, done } = await client.open(url, {});
  done();
  if (!res.ok) throw await errorFromResponse(res);
  if (!res.body) throw new ShedError("PROTOCOL_ERROR", "the server sent no archive");
  const len = res.headers.get("content-length");
  return { body: res.body, ...(len ? { size: Number(len) } : {}) };
}
