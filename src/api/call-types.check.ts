/**
 * Compile-time checks of `ApiClient.call`'s types (run by `make typecheck`; nothing here
 * runs): each line must be a type error, or tsc fails on its unused @ts-expect-error.
 */
import type { ApiClient } from "./client.ts";
import { IMAGE_API } from "./endpoints/images.ts";
import { SHED_API } from "./endpoints/sheds.ts";

export function wrongCalls(client: ApiClient): void {
  // @ts-expect-error getShed needs its path parameter
  void client.call(SHED_API.getShed);
  // @ts-expect-error this path has no `session` parameter
  void client.call(SHED_API.getShed, { params: { name: "a", session: "b" } });
  // @ts-expect-error inspect needs its ref
  void client.call(IMAGE_API.inspectImage, { query: {} });
  // @ts-expect-error listSheds takes no body
  void client.call(SHED_API.listSheds, { body: {} });
  // @ts-expect-error tagImage's body is {source, target}
  void client.call(IMAGE_API.tagImage, { body: { ref: "x" } });
  // @ts-expect-error loadImage's body is the archive, not JSON
  void client.call(IMAGE_API.loadImage, { body: { tag: "x" } });
  // @ts-expect-error stop streams no progress
  void client.call(SHED_API.stopShed, { params: { name: "a" }, onProgress: () => {} });
}

export async function rightTypes(client: ApiClient): Promise<void> {
  const shed: { state: string } = await client.call(SHED_API.getShed, { params: { name: "a" } });
  const archive: { body: ReadableStream<Uint8Array> } = await client.call(IMAGE_API.saveImages, { query: { ref: ["a:1"] } });
  const nothing: undefined = await client.call(SHED_API.killSession, { params: { name: "a", session: "s" } });
  void [shed, archive, nothing];
}
