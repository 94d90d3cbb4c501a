import { randomBytes } from "node:crypto";
import type { BootstrapAnswer } from "../../api/bootstrap.ts";
import { ShedError } from "../../api/errors.ts";
import type { ServerContext } from "../context.ts";

/** Mints what one bootstrap hands out, for a key already checked against authorized_keys. */
export type BootstrapService = (label: string) => BootstrapAnswer;

export function bootstrapService(ctx: ServerContext): BootstrapService {
  return (label) => {
    const { config } = ctx;
    const ttl = config.auth.token_ttl;
    const answer: BootstrapAnswer = {
      name: config.name,
      version: ctx.version,
      mode: config.auth.mode,
      httpPort: ctx.httpPort,
      sshPort: ctx.sshPort,
      ...(ctx.httpsPort ? { httpsPort: ctx.httpsPort } : {}),
      ...(ctx.tls ? { tls: { certificate: ctx.tls.cert, fingerprint: ctx.tls.fingerprint } } : {}),
    };
    if (config.auth.mode === "open") return answer;
    if (!ctx.tokens) throw new ShedError("INTERNAL", `${config.auth.mode} mode without a token store`);
    const now = Date.now();
    if (config.auth.mode === "mtls") {
      if (!ctx.clientCa) throw new ShedError("INTERNAL", "mtls mode without a client CA");
      // The certificate and its token expire together (auth.token_ttl) and are revoked together.
      const signed = ctx.clientCa.sign(label, ttl, randomBytes(16).toString("hex"), now);
      const minted = ctx.tokens.mint(ttl, label, now, signed.serial);
      answer.token = { id: minted.id, token: minted.token, expiresAt: minted.expiresAt };
      answer.clientCertificate = { cert: signed.cert, key: signed.key, fingerprint: signed.fingerprint, expiresAt: signed.expiresAt, ca: ctx.clientCa.cert };
      return answer;
    }
    const minted = ctx.tokens.mint(ttl, label, now);
    answer.token = { id: minted.id, token: minted.token, expiresAt: minted.expiresAt };
    return answer;
  };
}
