/**
 * `--format '{{.name}} {{.state}}'`: Go-template-like fields over a result's JSON, as docker
 * and gh take them. `{{.a.b}}` reaches into objects, `{{json .x}}` prints a value as JSON,
 * `{{.}}` the whole item; `\t` and `\n` in the template are a tab and a newline.
 */
export function renderTemplate(template: string, item: unknown): string {
  return template
    .replace(/\\t/g, "\t")
    .replace(/\\n/g, "\n")
    .replace(/\{\{\s*(json\s+)?(\.[A-Za-z0-9_.-]*)\s*\}\}/g, (_, json: string | undefined, path: string) => {
      const value = lookup(item, path);
      if (json) return JSON.stringify(value ?? null);
      if (value === undefined || value === null) return "";
      return typeof value === "object" ? JSON.stringify(value) : String(value);
    });
}

function lookup(item: unknown, path: string): unknown {
  let value = item;
  for (const key of path.split(".").filter(Boolean)) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
