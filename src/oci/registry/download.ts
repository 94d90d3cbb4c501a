import { ShedError } from "../../api/errors.ts";
import type { Digest } from "../spec/digest.ts";
import type { Descriptor } from "../spec/manifest.ts";
import type { ContentStore } from "../store/index.ts";
import { networkError, type RegistryClient, RegistryNetworkError, type Repo } from "./client.ts";

/**
 * Downloads one blob into the store: streamed to a `.partial` file while hashed, installed
 * only when size and digest match. A dropped connection is resumed with `Range` from the
 * bytes already on disk (a few times, backing off); if the registry stays away, the partial
 * file stays too and the next pull continues from it.
 */
export interface DownloadOptions {
  retries?: number;
  /** Give up on a connection that sends nothing for this long. */
  idleTimeoutMs?: number;
  onBytes?: (done: number, total: number, status: "downloading" | "resuming") => void;
  signal?: AbortSignal;
}

export async function downloadBlob(
  client: RegistryClient,
  store: ContentStore,
  repo: Repo,
  desc: Descriptor,
  opts: DownloadOptions = {},
): Promise<{ existed: boolean }> {
  const digest = desc.digest as Digest;
  const what = `blob ${digest} of ${repo.path}`;
  const retries = opts.retries ?? 4;
  const idle = opts.idleTimeoutMs ?? 60_000;
  const result = await store.ingest(
    { digest, size: desc.size },
    `${repo.registry}/${repo.path}`,
    async (writer) => {
      for (let attempt = 0; ; attempt++) {
        const start = writer.offset;
        if (start === desc.size) return; // a complete partial from an earlier attempt: verify it
        opts.onBytes?.(start, desc.size, start > 0 ? "resuming" : "downloading");
        const ctrl = new AbortController();
        const onAbort = () => ctrl.abort(opts.signal?.reason);
        opts.signal?.addEventListener("abort", onAbort);
        let timer = setTimeout(() => ctrl.abort(new Error("stalled")), idle);
        const kick = () => {
          clearTimeout(timer);
          timer = setTimeout(() => ctrl.abort(new Error("stalled")), idle);
        };
        try {
          const res = await client.request(repo, `blobs/${digest}`, {
            access: "pull",
            what,
            headers: start > 0 ? { range: `bytes=${start}-` } : {},
            signal: ctrl.signal,
          });
          if (start > 0 && !(res.status === 206 && rangeStart(res) === start)) writer.reset();
          if (!res.body) throw new RegistryNetworkError(`registry ${repo.registry} sent no body for ${what}`);
          try {
            for await (const chunk of res.body) {
              kick();
              if (writer.offset + chunk.byteLength > desc.size) {
                throw new ShedError(
                  "DIGEST_MISMATCH",
                  `${what} from ${repo.registry} is larger than the ${desc.size} bytes its manifest says; refused, nothing kept`,
                );
              }
              writer.write(chunk);
              opts.onBytes?.(writer.offset, desc.size, "downloading");
            }
          } catch (err) {
            throw err instanceof ShedError ? err : networkError(repo.registry, what, err);
          }
          if (writer.offset < desc.size) {
            throw new RegistryNetworkError(`registry ${repo.registry} closed the connection after ${writer.offset} of ${desc.size} bytes of ${what}`);
          }
          return;
        } catch (err) {
          if (!retryable(err) || attempt >= retries || opts.signal?.aborted) {
            if (retryable(err)) {
              throw new ShedError(
                "REGISTRY_ERROR",
                `${(err as Error).message}; gave up after ${attempt + 1} attempts (${writer.offset} of ${desc.size} bytes are kept and the next pull continues from there)`,
                { cause: err },
              );
            }
            throw err;
          }
          await Bun.sleep(Math.min(4000, 250 * 2 ** attempt));
        } finally {
          clearTimeout(timer);
          opts.signal?.removeEventListener("abort", onAbort);
        }
      }
    },
    { resume: true },
  );
  return { existed: result.existed };
}

/** Connection trouble and server-side 5xx are worth another try; everything else is final. */
function retryable(err: unknown): boolean {
  if (err instanceof RegistryNetworkError) return true;
  const status = (err as { httpStatus?: number }).httpStatus;
  return status !== undefined && (status >= 500 || status === 429);
}

function rangeStart(res: Response): number | undefined {
  const m = /^bytes (\d+)-/.exec(res.headers.get("content-range") ?? "");
  return m ? Number(m[1]) : undefined;
}
