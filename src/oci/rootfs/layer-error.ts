import { ShedError } from "../../api/errors.ts";

/**
 * A layer that cannot be applied: malformed, hostile (a path that would leave the root), or
 * using something this host cannot reproduce. Names the layer digest and the tar entry so the
 * image can be found and fixed; nothing of the image is kept when this is thrown.
 */
export class LayerError extends ShedError {
  readonly layer: string;
  readonly entry: string | undefined;
  readonly reason: string;

  constructor(layer: string, entry: string | undefined, reason: string, opts: { code?: "INVALID_LAYER" | "UNSUPPORTED"; cause?: unknown } = {}) {
    super(
      opts.code ?? "INVALID_LAYER",
      `layer ${layer}${entry === undefined ? "" : `, entry "${printable(entry)}"`}: ${reason}; the image cannot be used as a root filesystem (rebuild it without this entry)`,
      { cause: opts.cause },
    );
    this.layer = layer;
    this.entry = entry;
    this.reason = reason;
  }
}

/** Entry names come from untrusted archives: keep control characters out of messages and logs. */
export function printable(s: string): string {
  const clean = s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return clean.length > 300 ? `${clean.slice(0, 300)}...` : clean;
}
