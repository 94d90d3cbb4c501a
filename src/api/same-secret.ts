import { createHash, timingSafeEqual } from "node:crypto";

/** Constant-time equality of two secrets (hashed first, so their lengths do not show either). */
export function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(h(a), h(b));
}
