/**
 * Tables for people (`shed list`, `shed image ls`, ...). @oclif/table pulls in ink and React,
 * which cost ~150 ms at start, so it is imported only here and only when a table is printed.
 */
export interface Column<T> {
  key: keyof T & string;
  name: string;
}

export async function renderTable<T extends Record<string, unknown>>(rows: T[], columns: Column<T>[]): Promise<string> {
  const { makeTable } = await import("@oclif/table");
  const text = makeTable({
    data: rows,
    columns: columns.map((c) => ({ key: c.key, name: c.name })),
    borderStyle: "none",
    headerOptions: { formatter: (s: string) => s, bold: false },
    noStyle: true,
    overflow: "truncate",
  });
  // Drop the blank frame lines and the left margin ink adds, like `docker ps` output.
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines.map((l) => l.replace(/^ {2}/, "").trimEnd()).join("\n");
}
