/** OCI and Docker v2 media types, and what each kind of blob is. */
export const MediaType = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  ociLayerNondistributable: "application/vnd.oci.image.layer.nondistributable.v1.tar",
  ociLayerNondistributableGzip: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestV1: "application/vnd.docker.distribution.manifest.v1+json",
  dockerManifestV1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  dockerForeignLayerGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
} as const;

/** What we ask a registry for: every manifest and index type we can read. */
export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
].join(", ");

export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;
}

export function isManifestType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
}

export function isSchema1Type(mediaType: string | undefined): boolean {
  return mediaType === MediaType.dockerManifestV1 || mediaType === MediaType.dockerManifestV1Signed;
}

export type LayerCompression = "none" | "gzip" | "zstd";

/** How a layer blob is compressed, from its media type; undefined when it is no layer type we know. */
export function layerCompression(mediaType: string): LayerCompression | undefined {
  switch (mediaType) {
    case MediaType.ociLayer:
    case MediaType.ociLayerNondistributable:
    case MediaType.dockerLayer:
      return "none";
    case MediaType.ociLayerGzip:
    case MediaType.ociLayerNondistributableGzip:
    case MediaType.dockerLayerGzip:
    case MediaType.dockerForeignLayerGzip:
      return "gzip";
    case MediaType.ociLayerZstd:
      return "zstd";
    default:
      return undefined;
  }
}
