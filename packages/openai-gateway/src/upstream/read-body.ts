import type { Readable } from "node:stream";

/**
 * Reads a body up to `limit` bytes. Over the limit it stops reading, destroys the body (the
 * connection goes) and says so: a non-streaming answer is held whole in memory, so it must be capped.
 */
export async function readUpTo(body: Readable, limit: number): Promise<{ bytes: Buffer; overflow: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      return { bytes: Buffer.concat(chunks), overflow: true };
    }
    chunks.push(chunk as Buffer);
  }
  return { bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), overflow: false };
}

/** Reads at most `limit` bytes as text (enough for any error message), then drops the rest. */
export async function readCapped(body: Readable, limit: number): Promise<string> {
  const { bytes } = await readUpTo(body, limit).catch(() => ({ bytes: Buffer.alloc(0) }));
  return bytes.toString("utf8");
}
