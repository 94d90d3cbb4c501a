import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { q, sh } from "./chroot.ts";

/**
 * Writes an image as an OCI image layout (oci-layout, index.json, blobs/sha256/...): the form
 * `shed image load` takes and any OCI tool (skopeo) reads. Layers are uncompressed tars
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

export const MEDIA = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar",
} as const;

export async function writeOciLayout(opts: {
  dir: string;
  ref: string;
  layers: LayerInput[];
  labels: Record<string, string>;
  arch?: string;
}): Promise<WrittenImage> {
  const blobs = join(opts.dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  writeFileSync(join(opts.dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}\n');
  const arch = opts.arch ?? (process.arch === "arm64" ? "arm64" : "amd64");

  const layers: { digest: string; size: number }[] = [];
  for (const layer of opts.layers) {
    const digest = await fileDigest(layer.tar);
    const size = statSync(layer.tar).size;
    const blob = join(blobs, digest.slice("sha256:".length));
    if (!existsSync(blob)) {
      // A hard link when the cache is on the same filesystem: a 500 MB layer costs nothing.
      try {
        linkSync(layer.tar, blob);
      } catch {
        sh(`cp ${q(layer.tar)} ${q(`${blob}.tmp`)}`);
        renameSync(`${blob}.tmp`, blob);
      }
    }
    layers.push({ digest, size });
  }
  const created = new Date().toISOString();
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
  const configBlob = putJson(blobs, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, ...configBlob },
    layers: layers.map((l) => ({ mediaType: MEDIA.layer, ...l })),
    annotations: { "org.opencontainers.image.ref.name": opts.ref, "org.opencontainers.image.created": created },
  };
  const manifestBlob = putJson(blobs, manifest);
  // Other refs already in this layout stay (one layout may carry several tags).
  const indexFile = join(opts.dir, "index.json");
  const kept = existsSync(indexFile)
    ? (JSON.parse(readFileSync(indexFile, "utf8")) as { manifests: { annotations?: Record<string, string> }[] }).manifests.filter(
        (m) => m.annotations?.["org.opencontainers.image.ref.name"] !== opts.ref,
      )
    : [];
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: [
      ...kept,
      {
        mediaType: MEDIA.manifest,
        ...manifestBlob,
        annotations: { "org.opencontainers.image.ref.name": opts.ref },
        platform: { architecture: arch, os: "linux" },
      },
    ],
  };
  writeFileSync(`${indexFile}.${process.pid}.tmp`, `${JSON.stringify(index, null, 2)}\n`);
  renameSync(`${indexFile}.${process.pid}.tmp`, indexFile);
  return { dir: opts.dir, ref: opts.ref, manifestDigest: manifestBlob.digest, configDigest: configBlob.digest };
}

function putJson(blobs: string, value: unknown): { digest: string; size: number } {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const hex = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
  writeFileSync(join(blobs, hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
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
    writeFileSync(cache, `${stamp} ${digest}\n`);
  } catch {}
  return digest;
}

/** Reads one image of a layout by ref (or the only one). */
export function readLayoutImage(dir: string, ref?: string): { manifest: OciManifest; config: OciConfig; manifestDigest: string } {
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = ref
    ? index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === ref)
    : index.manifests.length === 1
      ? index.manifests[0]
      : undefined;
  if (!entry) throw new Error(`no image ${ref ?? "(only one expected)"} in the OCI layout ${dir}`);
  const blob = (d: string) => JSON.parse(readFileSync(join(dir, "blobs", "sha256", d.replace(/^sha256:/, "")), "utf8"));
  const manifest = blob(entry.digest) as OciManifest;
  return { manifest, config: blob(manifest.config.digest) as OciConfig, manifestDigest: entry.digest };
}

export interface OciManifest {
  config: { digest: string };
  layers: { digest: string; mediaType: string; size: number }[];
}
export interface OciConfig {
  config?: { Labels?: Record<string, string> };
}
