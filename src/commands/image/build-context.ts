import { existsSync, readFileSync, statSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import * as tar from "tar";
import { usageError } from "../../cli/values.ts";

/**
 * The build context as the Docker CLI sends it: the directory as a tar, minus what
 * `.dockerignore` excludes (globs, `!` re-includes, last match wins). The Dockerfile and
 * `.dockerignore` always go, as Docker does.
 */
export interface BuildContext {
  stream: ReadableStream<Uint8Array>;
  /** The Dockerfile's path inside the context. */
  dockerfile: string;
}

/** `dockerfile` is relative to the working directory, as `docker build -f` takes it. */
export function buildContext(dir: string, dockerfile?: string): BuildContext {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw usageError(`the build context ${dir} is not a directory`);
  const file = dockerfile ? resolve(dockerfile) : resolve(root, "Dockerfile");
  const inside = relative(root, file);
  if (inside.startsWith("..") || inside.startsWith(sep)) {
    throw usageError(`the Dockerfile ${dockerfile} is outside the build context ${dir}; move it inside, or use the directory that holds both`);
  }
  if (!existsSync(file)) throw usageError(`no Dockerfile at ${file} (name another with -f)`);
  const ignored = ignoreMatcher(root, [inside, ".dockerignore"]);
  const pack = tar.c({ cwd: root, portable: true, filter: (path) => !ignored(path.replace(/^\.\//, "")) }, ["."]);
  // node-tar's Pack is a minipass stream: async iterable, which Bun's ReadableStream.from takes.
  const Streams = ReadableStream as unknown as { from(it: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> };
  return { stream: Streams.from(pack as AsyncIterable<Uint8Array>), dockerfile: inside.split(sep).join("/") };
}

function ignoreMatcher(root: string, always: string[]): (path: string) => boolean {
  const file = resolve(root, ".dockerignore");
  if (!existsSync(file)) return () => false;
  const rules = readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const negate = l.startsWith("!");
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+/, "").replace(/\/+$/, "");
      return { negate, glob: new Bun.Glob(pattern), prefix: pattern };
    });
  return (path) => {
    if (path === "" || path === "." || always.includes(path)) return false;
    let out = false;
    // A rule matching a directory covers everything under it.
    for (const r of rules) if (r.glob.match(path) || path.startsWith(`${r.prefix}/`)) out = !r.negate;
    return out;
  };
}
