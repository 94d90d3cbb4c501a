import { ShedError } from "../../api/errors.ts";

/**
 * A build context must be a tar (plain, or compressed as the Docker engine takes it): its
 * first 512 bytes are checked before anything is sent to the engine, so garbage is a 400
 * here and not an engine failure. Returns the stream again, head included.
 */
export async function requireTarHead(body: ReadableStream<Uint8Array>, what: string): Promise<ReadableStream<Uint8Array>> {
  const reader = body.getReader();
  const head: Uint8Array[] = [];
  let size = 0;
  let ended = false;
  while (size < 512) {
    const { value, done } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    head.push(value);
    size += value.byteLength;
  }
  const bytes = Buffer.concat(head);
  if (!looksLikeArchive(bytes)) {
    await reader.cancel().catch(() => {});
    throw new ShedError("INVALID_REQUEST", `${what} is not a tar archive (nor a gzip, bzip2 or xz one); send a tar of the build context`);
  }
  return new ReadableStream<Uint8Array>({
    start(ctrl) {
      ctrl.enqueue(bytes);
      if (ended) ctrl.close();
    },
    async pull(ctrl) {
      try {
        const { value, done } = await reader.read();
        if (done) ctrl.close();
        else ctrl.enqueue(value);
      } catch (err) {
        ctrl.error(err);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

function looksLikeArchive(b: Uint8Array): boolean {
  if (b[0] === 0x1f && b[1] === 0x8b) return true; // gzip
  if (b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68) return true; // bzip2
  if (b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a) return true; // xz
  if (b.length < 512) return false;
  // A tar header: its checksum (octal, bytes 148-155) is the sum of the header with that field as spaces.
  const field = Buffer.from(b.subarray(148, 156)).toString("latin1").replace(/[\0 ]+$/, "").trim();
  if (!/^[0-7]{1,7}$/.test(field)) return b.subarray(0, 512).every((x) => x === 0);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : b[i]!;
  return sum === Number.parseInt(field, 8);
}
