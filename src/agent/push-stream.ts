/**
 * A ReadableStream fed from callbacks (a socket's data events, a PTY's output). Its consumer
 * may cancel it at any time, and a callback may still fire afterwards: pushing to, ending or
 * failing a stream that is already closed is then a no-op instead of the TypeError a raw
 * controller throws, which inside a native callback would end the agent.
 */
export interface PushStream {
  readable: ReadableStream<Uint8Array>;
  push(chunk: Uint8Array): void;
  end(): void;
  fail(err: Error): void;
}

export function pushStream(opts: { cancel?: () => void } = {}): PushStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let open = true;
  const readable = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    cancel: () => {
      open = false;
      opts.cancel?.();
    },
  });
  const settle = (fn: () => void) => {
    if (!open) return;
    open = false;
    try {
      fn();
    } catch {}
  };
  return {
    readable,
    push: (chunk) => {
      if (!open) return;
      try {
        controller.enqueue(chunk);
      } catch {
        open = false;
      }
    },
    end: () => settle(() => controller.close()),
    fail: (err) => settle(() => controller.error(err)),
  };
}
