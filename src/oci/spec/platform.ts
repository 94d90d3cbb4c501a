import { ShedError } from "../../api/errors.ts";
import type { Descriptor } from "./manifest.ts";

/** `os/arch[/variant]`, what `--platform` takes and manifests carry. */
export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

const NODE_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

/** The server's own platform: what an image index is resolved to when no --platform is given. */
export function hostPlatform(): PlatformSpec {
  const architecture = NODE_ARCH[process.arch] ?? process.arch;
  // Images are Linux images on every host (macOS runs them in a Linux VM).
  return { os: "linux", architecture, ...(architecture === "arm64" ? { variant: "v8" } : {}) };
}

export function parsePlatform(s: string): PlatformSpec {
  const parts = s.trim().toLowerCase().split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) {
    throw new ShedError("INVALID_REQUEST", `invalid platform "${s}": expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8`);
  }
  const [os, arch, variant] = parts as [string, string, string | undefined];
  return normalizePlatform({ os, architecture: arch, ...(variant ? { variant } : {}) });
}

/** Aliases people and registries use for the same thing (aarch64 = arm64, x86_64 = amd64). */
export function normalizePlatform(p: PlatformSpec): PlatformSpec {
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase();
  if (architecture === "x86_64" || architecture === "x86-64") architecture = "amd64";
  if (architecture === "aarch64") architecture = "arm64";
  if (architecture === "armhf" || architecture === "armel") {
    variant ??= architecture === "armhf" ? "v7" : "v6";
    architecture = "arm";
  }
  if (architecture === "arm64" && (variant === undefined || variant === "8")) variant = "v8";
  if (architecture === "arm" && variant && /^\d$/.test(variant)) variant = `v${variant}`;
  if (architecture === "amd64" && variant === "v1") variant = undefined;
  return { os: p.os.toLowerCase(), architecture, ...(variant ? { variant } : {}) };
}

export function formatPlatform(p: PlatformSpec): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

/**
 * Picks the manifest for a platform from an image index: os and arch must match; a
 * requested variant must match (arm64 without a variant counts as v8); without a requested
 * variant the first entry of that os/arch wins. Attestations (os "unknown") never match.
 */
export function selectPlatform(manifests: readonly Descriptor[], want: PlatformSpec): Descriptor | undefined {
  const w = normalizePlatform(want);
  const candidates = manifests.filter((m) => {
    if (!m.platform) return false;
    const p = normalizePlatform(m.platform);
    return p.os === w.os && p.architecture === w.architecture;
  });
  if (w.variant) {
    const exact = candidates.find((m) => normalizePlatform(m.platform!).variant === w.variant);
    if (exact) return exact;
    // arm/v7 hosts run v6 and v5 images: fall back to the highest lower variant.
    if (w.architecture === "arm") {
      const wanted = Number(w.variant.slice(1));
      return candidates
        .filter((m) => Number((normalizePlatform(m.platform!).variant ?? "v0").slice(1)) <= wanted)
        .sort((a, b) => Number(b.platform!.variant?.slice(1) ?? 0) - Number(a.platform!.variant?.slice(1) ?? 0))[0];
    }
    return w.architecture === "arm64" ? undefined : candidates.find((m) => !m.platform!.variant);
  }
  return candidates[0];
}

/** The platforms an index offers, for the error that says none matched. */
export function listPlatforms(manifests: readonly Descriptor[]): string[] {
  return manifests.filter((m) => m.platform && m.platform.os !== "unknown").map((m) => formatPlatform(normalizePlatform(m.platform!)));
}
