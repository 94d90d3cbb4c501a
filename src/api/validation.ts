import * as v from "valibot";
import { ShedError } from "./errors.ts";

/** "key.path: expected X, received Y" for each issue, joined: what a user needs to fix input. */
export function formatIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .map((issue) => {
      const path = v.getDotPath(issue);
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

/** Validates input against a schema, throwing INVALID_REQUEST (or the given code) with the key paths. */
export function parseOrThrow<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  code: "INVALID_REQUEST" | "INVALID_CONFIG" = "INVALID_REQUEST",
  what = "request",
): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  throw new ShedError(code, `invalid ${what}: ${formatIssues(result.issues)}`);
}
