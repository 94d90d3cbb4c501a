import type * as v from "valibot";

/** Walks a valibot schema (optional, pipe, record, object) along `path`; the keys the object there knows. */
export function knownKeysAt(schema: v.GenericSchema, path: string[]): string[] {
  let node = unwrap(schema);
  for (const key of path) {
    if (node.type === "record" && node.value) node = unwrap(node.value);
    else if (node.entries?.[key]) node = unwrap(node.entries[key]);
    else return [];
  }
  return Object.keys(node.entries ?? {});
}

interface SchemaNode {
  type: string;
  wrapped?: v.GenericSchema;
  entries?: Record<string, v.GenericSchema>;
  value?: v.GenericSchema;
}

function unwrap(schema: v.GenericSchema): SchemaNode {
  let node = schema as unknown as SchemaNode;
  while (node.wrapped) node = node.wrapped as unknown as SchemaNode;
  return node;
}

/** The known key a typo most likely meant (edit distance at most a third of its length, and 3). */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (!best || d < best.d) best = { key: k, d };
  }
  return best && best.d <= Math.min(3, Math.max(1, Math.ceil(key.length / 3))) ? best.key : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
