import { existsSync, readFileSync, statSync } from "node:fs";
import { writeFileAtomic } from "../../src/fs/atomic-file.ts";
import type { Digest } from "../../src/oci/spec/digest.ts";
import { MediaType } from "../../src/oci/spec/media-types.ts";
import { openContentStore } from "../../src/oci/store/layout.ts";

/**
 * Writes an image as an OCI image layout (oci-layout, index.json, blobs/sha256/...) through the
 * image store's own code: the form `shed image load` takes and any OCI tool (skopeo) reads. Layers are uncompressed tars
 * (media type ...layer.v1.tar): building stays fast and the digest is the diff id.
 */
export interface LayerInput {
  tar: string;
  /** Shown in the image history. */
  createdBy: string;
}

export interface WrittenImage {
  dir: string;
  ref: string;
  manifestDigest: string;
  configDigest: string;
}

export async function writeOciLayout(opts: {
  dir: string;
  ref: string;
  layers: LayerInput[];
  labels: Record<string, string>;
  arch?: string;
}): Promise<WrittenImage> {
  // The store is the one OCI layout writer: blobs checked and installed atomically, the index too.
  const store = openContentStore(opts.dir);
  const arch = opts.arch ?? (process.arch === "arm64" ? "arm64" : "amd64");
  const layers: { digest: string; size: number }[] = [];
  for (const layer of opts.layers) {
    const digest = (await fileDigest(layer.tar)) as Digest;
    const size = statSync(layer.tar).size;
    // Hard-linked when the cache is on the same filesystem: a 500 MB layer costs nothing.
    await store.putBlob({ path: layer.tar }, { digest, size });
    layers.push({ digest, size });
  }
  // The layers' own age, not the clock: the same layers give the same image digest, so the
  // server's erofs root of it (cached per manifest digest) is made once.
  const created = new Date(Math.max(...opts.layers.map((l) => Math.floor(statSync(l.tar).mtimeMs / 1000) * 1000))).toISOString();
  const config = {
    created,
    architecture: arch,
    os: "linux",
    config: {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"],
      Cmd: ["/bin/bash"],
      WorkingDir: "/workspace",
      Labels: opts.labels,
      // systemd as PID 1 (VMs) stops cleanly on this signal.
      StopSignal: "SIGRTMIN+3",
    },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
    history: opts.layers.map((l) => ({ created, created_by: l.createdBy })),
  };
  const configBlob = await store.putBlob(json(config));
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, ...configBlob },
    layers: layers.map((l) => ({ mediaType: MediaType.ociLayer, ...l })),
    annotations: { "org.opencontainers.image.ref.name": opts.ref, "org.opencontainers.image.created": created },
  };
  const manifestBlob = await store.putManifest(json(manifest), MediaType.ociManifest);
  // Other refs already in this layout stay (one layout may carry several tags).
  await store.tag(opts.ref, manifestBlob.digest, { origin: "build", platform: { architecture: arch, os: "linux" } });
  const ref = store.list().find((e) => e.digest === manifestBlob.digest && e.ref)?.ref ?? opts.ref;
  return { dir: opts.dir, ref, manifestDigest: manifestBlob.digest, configDigest: configBlob.digest };
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** sha256 of a file, cached beside it in `<file>.sha256` (keyed by size and mtime). */
export async function fileDigest(path: string): Promise<string> {
  const st = statSync(path);
  const cache = `${path}.sha256`;
  const stamp = `${st.size}:${Math.floor(st.mtimeMs)}`;
  if (existsSync(cache)) {
    const [s, d] = readFileSync(cache, "utf8").trim().split(" ");
    if (s === stamp && d) return d;
  }
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  const digest = `sha256:${hasher.digest("hex")}`;
  try {
    // Atomic: a torn write would hand the next build a wrong digest.
    writeFileAtomic(cache, `${stamp} ${digest}\n`);
  } catch {}
  return digest;
}

