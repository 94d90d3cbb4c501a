import { chownSync, mkdirSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import { ShedError } from "../api/errors.ts";
import { lookupUser } from "./users.ts";

/**
 * File transfer as tar streams. Unpacking refuses absolute paths and `..` (node-tar's
 * defaults) and makes everything the target user's, as `docker cp` does for the container user.
 */
export async function unpackInto(dir: string, input: ReadableStream<Uint8Array>, userSpec: string): Promise<void> {
  const user = lookupUser(userSpec);
  const target = resolve("/", dir);
  const created = mkdirSync(target, { recursive: true });
  if (created && process.getuid?.() === 0) chownTree(created, target, user.uid, user.gid);
  const asRoot = process.getuid?.() === 0;
  const extract = tar.x({
    cwd: target,
    preservePaths: false,
    ...(asRoot ? { uid: user.uid, gid: user.gid, preserveOwner: false } : {}),
  }) as unknown as NodeJS.WritableStream;
  await pipeline(Readable.fromWeb(input as never), extract as unknown as Writable);
}

/** Directories mkdir -p made, from the first one down to the target, become the user's. */
function chownTree(first: string, target: string, uid: number, gid: number): void {
  for (let d = target; d.length >= first.length; d = dirname(d)) {
    chownSync(d, uid, gid);
    if (d === first) break;
  }
}

/** A tar stream of one file or directory, named by its last path component. */
export function packPath(path: string): ReadableStream<Uint8Array> {
  const abs = resolve("/", path);
  try {
    statSync(abs);
  } catch {
    throw new ShedError("NOT_FOUND", `${abs} does not exist in the shed`);
  }
  const stream = tar.c({ cwd: dirname(abs), portable: false }, [basename(abs) || "."]);
  // ReadableStream.from exists in Bun; the DOM typings lag behind.
  const from = (ReadableStream as unknown as { from(it: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> }).from;
  return from.call(ReadableStream, stream as AsyncIterable<Uint8Array>);
}
