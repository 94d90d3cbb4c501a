import { type ErrorCode, isErrorCode, ShedError } from "../../api/errors.ts";
import type { ErrorPayload } from "./messages.ts";

/**
 * ERROR frames carry the same stable codes as the HTTP API, so an error raised in the guest
 * (or by the server relaying an exec) reaches the CLI with its code intact.
 */
export function errorToPayload(err: unknown): ErrorPayload {
  if (err instanceof ShedError) return { code: err.code, message: err.message };
  return { code: "INTERNAL", message: err instanceof Error ? err.message : String(err) };
}

export function errorFromPayload(payload: ErrorPayload, context?: string): ShedError {
  const code: ErrorCode = isErrorCode(payload.code) ? payload.code : "PROTOCOL_ERROR";
  const message = isErrorCode(payload.code) ? payload.message : `${payload.code}: ${payload.message}`;
  return new ShedError(code, context ? `${context}: ${message}` : message);
}

export function protocolError(message: string): ShedError {
  return new ShedError("PROTOCOL_ERROR", message);
}

export function connectionLost(what: string, cause?: Error): ShedError {
  return new ShedError("AGENT_UNAVAILABLE", `${what}${cause ? `: ${cause.message}` : ""}`, { cause });
}
