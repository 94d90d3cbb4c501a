/**
 * A tiny registry that lies: it serves a manifest whose layer bytes do not hash to the
 * digest the manifest gives. Only for the corrupt-blob test (a real registry would refuse
 * to store such a blob in the first place). Listens on loopback; stop() closes it.
 */
export function startLyingRegistry(): { host: string; stop(): void } {
  const good = new TextEncoder().encode("the bytes the manifest promises");
  const served = new TextEncoder().encode("other bytes, same length!!!!!!!");
  const sha = (b: Uint8Array) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;
  const config = new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha(good)] } }));
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(config), size: config.byteLength },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha(good), size: good.byteLength }],
    }),
  );
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path.endsWith("/manifests/latest")) {
        return new Response(manifest, { headers: { "content-type": "application/vnd.oci.image.manifest.v1+json", "docker-content-digest": sha(manifest) } });
      }
      if (path.endsWith(`/blobs/${sha(config)}`)) return new Response(config);
      if (path.endsWith(`/blobs/${sha(good)}`)) return new Response(served);
      return new Response(JSON.stringify({ errors: [{ code: "NAME_UNKNOWN", message: "not here" }] }), { status: 404 });
    },
  });
  return { host: `127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}
