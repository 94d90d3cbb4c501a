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
    if (config.auth.mode === "token") {
      if (!ctx.tokens) throw new ShedError("INTERNAL", "token mode without a token store");
      const minted = ctx.tokens.mint(ttl, label);
      answer.token = { id: minted.id, token: minted.token, expiresAt: minted.expiresAt };
    } else if (config.auth.mode === "mtls") {
      if (!ctx.clientCa) throw new ShedError("INTERNAL", "mtls mode without a client CA");
      answer.clientCertificate = { ...ctx.clientCa.sign(label, ttl), ca: ctx.clientCa.cert };
    }
    return answer;
  };
}
