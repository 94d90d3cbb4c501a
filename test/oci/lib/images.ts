import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sh } from "../../harness/host.ts";

/**
 * Test images, made by hand as OCI image layouts (no Docker Hub here), then put into a
 * registry with skopeo. Layers are tars given as files; gzip ones are compressed here.
 */
export interface LayoutImage {
  dir: string;
  tag: string;
  manifestDigest: string;
  configDigest: string;
}

const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

function putBlob(dir: string, bytes: Uint8Array): { digest: string; size: number } {
  const hex = sha(bytes);
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(dir, "blobs", "sha256", hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.byteLength };
}

export function makeLayoutImage(
  dir: string,
  opts: { tag: string; layers: string[]; gzip?: boolean; arch?: string; history?: string[]; labels?: Record<string, string> },
): LayoutImage {
  const arch = opts.arch ?? "amd64";
  const layers = opts.layers.map((path) => {
    const raw = readFileSync(path);
    const bytes = opts.gzip ? Bun.gzipSync(raw, { level: 1 }) : raw;
    return { ...putBlob(dir, bytes), diffId: `sha256:${sha(raw)}` };
  });
  const config = {
    created: "2026-01-02T03:04:05Z",
    architecture: arch,
    os: "linux",
    config: { Cmd: ["/bin/sh"], Labels: opts.labels ?? {} },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created: "2026-01-02T03:04:05Z", created_by: opts.history?.[i] ?? `layer ${i}` })),
  };
  const configBlob = putBlob(dir, new TextEncoder().encode(JSON.stringify(config)));
  const layerType = opts.gzip ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.oci.image.layer.v1.tar";
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...configBlob },
    layers: layers.map((l) => ({ mediaType: layerType, digest: l.digest, size: l.size })),
  };
  const manifestBlob = putBlob(dir, new TextEncoder().encode(JSON.stringify(manifest)));
  addToIndex(dir, { mediaType: manifest.mediaType, ...manifestBlob }, opts.tag);
  return { dir, tag: opts.tag, manifestDigest: manifestBlob.digest, configDigest: configBlob.digest };
}

/** An image index over images already in the layout (one per platform). */
export function makeLayoutIndex(dir: string, tag: string, images: { digest: string; arch: string; variant?: string }[]): string {
  const index = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: images.map((img) => ({
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: img.digest,
      size: readFileSync(join(dir, "blobs", "sha256", img.digest.slice(7))).byteLength,
      platform: { architecture: img.arch, os: "linux", ...(img.variant ? { variant: img.variant } : {}) },
    })),
  };
  const blob = putBlob(dir, new TextEncoder().encode(JSON.stringify(index)));
  addToIndex(dir, { mediaType: index.mediaType, ...blob }, tag);
  return blob.digest;
}

function addToIndex(dir: string, desc: { mediaType: string; digest: string; size: number }, tag: string): void {
  const file = join(dir, "index.json");
  writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  let index = { schemaVersion: 2, manifests: [] as any[] };
  try {
    index = JSON.parse(readFileSync(file, "utf8"));
  } catch {}
  index.manifests = index.manifests.filter((m) => m.annotations?.["org.opencontainers.image.ref.name"] !== tag);
  index.manifests.push({ ...desc, annotations: { "org.opencontainers.image.ref.name": tag } });
  writeFileSync(file, JSON.stringify(index));
}

/** skopeo copy with TLS checks off for our loopback registries. */
/**
 * skopeo runs as a child without blocking this process: a test may serve what skopeo talks
 * to (a token issuer) from this same event loop.
 */
async function skopeo(args: string[]): Promise<Uint8Array> {
  const child = Bun.spawn(["skopeo", ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).bytes(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`skopeo ${args.join(" ")}: exit ${code}: ${err}`);
  return out;
}

export async function skopeoCopy(src: string, dst: string, extra: string[] = []): Promise<void> {
  await skopeo(["copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false", ...extra, src, dst]);
}

/** The manifest digest skopeo sees (for an index: the index's own digest, `--raw` hash). */
export async function skopeoDigest(ref: string, extra: string[] = []): Promise<string> {
  return `sha256:${sha(await skopeo(["inspect", "--raw", "--tls-verify=false", ...extra, ref]))}`;
}

export async function skopeoInspect(ref: string, extra: string[] = []): Promise<any> {
  return JSON.parse(new TextDecoder().decode(await skopeo(["inspect", "--tls-verify=false", ...extra, ref])));
}

/** A tar of `n` files of random bytes (incompressible layer content). */
export function randomLayerTar(dir: string, name: string, bytes: number, files = 4): string {
  const root = join(dir, `${name}.d`);
  mkdirSync(root, { recursive: true });
  const per = Math.ceil(bytes / files);
  for (let i = 0; i < files; i++) sh(`head -c ${per} /dev/urandom > '${join(root, `${name}-${i}.bin`)}'`);
  const tar = join(dir, `${name}.tar`);
  sh(`tar -C '${root}' --sort=name --mtime=@0 --owner=0 --group=0 -cf '${tar}' . && rm -rf '${root}'`);
  return tar;
}
