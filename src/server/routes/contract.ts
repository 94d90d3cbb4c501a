import type { Context, Hono, MiddlewareHandler } from "hono";
import * as v from "valibot";
import type { Endpoint } from "../../api/endpoints.ts";
import { ShedError } from "../../api/errors.ts";
import { formatIssues } from "../../api/validation.ts";

/**
 * The catalog enforced at the edge: for every endpoint, a guard registered ahead of its
 * handler checks the path parameters (400 INVALID_NAME) and the query (400 INVALID_REQUEST)
 * against the schemas the catalog declares, so no handler, store or engine ever sees a
 * value the contract refuses. Handlers read the checked values with `checkedQuery`.
 */
export function guardEndpoints(app: Hono, endpoints: readonly Endpoint[], prefix = ""): void {
  for (const ep of endpoints) {
    if (!ep.params && !ep.query) continue;
    app.on(ep.method.toUpperCase(), prefix + honoPath(ep.path), guard(ep));
  }
}

function guard(ep: Endpoint): MiddlewareHandler {
  return async (c, next) => {
    for (const [name, schema] of Object.entries(ep.params ?? {})) {
      const raw = c.req.param(name) ?? "";
      const result = v.safeParse(schema, raw);
      if (!result.success) {
        throw new ShedError("INVALID_NAME", `invalid ${name} ${JSON.stringify(raw)}: ${result.issues[0]?.message ?? "not allowed"}`);
      }
    }
    if (ep.query) {
      const all = c.req.queries();
      const query = Object.fromEntries(Object.entries(all).map(([k, vals]) => [k, vals.length === 1 ? vals[0] : vals]));
      const result = v.safeParse(ep.query, query);
      if (!result.success) throw new ShedError("INVALID_REQUEST", `invalid query: ${formatIssues(result.issues)}`);
      c.set(QUERY_KEY as never, result.output as never);
    }
    await next();
  };
}

const QUERY_KEY = "shed.query";

/** The query as the catalog's schema parsed it (defaults and transforms applied). */
export function checkedQuery<T>(c: Context): T {
  return (c.get(QUERY_KEY as never) ?? {}) as T;
}

/** `/api/sheds/{name}` -> `/api/sheds/:name`. */
export function honoPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ":$1");
}

/** The methods the catalog has for a concrete path (for 405's Allow), none when no endpoint matches it. */
export function allowedMethods(endpoints: readonly Endpoint[], path: string): string[] {
  const methods = new Set<string>();
  for (const ep of endpoints) {
    const pattern = new RegExp(`^${ep.path.replace(/\{\w+\}/g, "[^/]+")}/?$`);
    if (pattern.test(path)) methods.add(ep.method.toUpperCase());
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods];
}
