/**
 * Tables for people (`shed list`, `shed image ls`, ...), laid out like `docker ps`: a header
 * row, columns padded to their widest cell, three spaces apart. Hand-rolled on purpose: a
 * table library with a renderer (ink, React) cost ~175 ms of start-up per command.
 */
export interface Column<T> {
  key: keyof T & string;
  name: string;
}

export function renderTable<T extends Record<string, unknown>>(rows: T[], columns: Column<T>[]): string {
  const cells = [columns.map((c) => c.name), ...rows.map((r) => columns.map((c) => cellText(r[c.key])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => displayWidth(row[i]!))));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - displayWidth(cell))))
        .join("   ")
        .trimEnd(),
    )
    .join("\n");
}

function cellText(value: unknown): string {
  if (value === undefined || value === null) return "";
  // One line per row: a newline in a value would break the columns.
  return String(value).replace(/\s*\n\s*/g, " ");
}

/** Terminal columns a string takes (wide East Asian characters count two). */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    w += cp >= 0x1100 && (cp <= 0x115f || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) || (cp >= 0x20000 && cp <= 0x3fffd)) ? 2 : 1;
  }
  return w;
}
