import { type ErrorBody, toShedError } from "../api/errors.ts";
import { cli } from "./context.ts";
import { EXIT_FAILURE, EXIT_OK } from "./exit-codes.ts";

/**
 * A verb over several sheds (`shed stop a b c`), as docker does it: each in turn, a line for
 * each (the error of one does not stop the others), exit 125 when any failed. With --json:
 * one name gives its result as the document (or its error on stderr), several an array of
 * results and `{name, error}` entries.
 */
export async function eachShed<T>(names: string[], fn: (name: string) => Promise<T>, done: (result: T, name: string) => string): Promise<number> {
  const { out } = cli();
  if (names.length === 1) {
    const result = await fn(names[0]!);
    await out.result(result, done(result, names[0]!));
    return EXIT_OK;
  }
  const results: (T | { name: string; error: ErrorBody })[] = [];
  let failed = false;
  for (const name of names) {
    try {
      const result = await fn(name);
      results.push(result);
      if (!out.json) process.stdout.write(`${done(result, name)}\n`);
    } catch (err) {
      failed = true;
      const error = toShedError(err).toJSON();
      results.push({ name, error });
      if (!out.json) out.error(error);
    }
  }
  if (out.json) await out.result(results);
  return failed ? EXIT_FAILURE : EXIT_OK;
}
