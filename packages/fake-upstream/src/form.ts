/**
 * multipart/form-data bodies (the audio uploads), read with the platform's own parser so the fake
 * accepts exactly what a standards-following client sends. Files are kept as facts a test can
 * compare (name, type, size, a hash of the bytes), not as bytes.
 */
import { createHash } from "node:crypto";

export interface RecordedFile {
  field: string;
  name: string;
  type: string;
  size: number;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
}

export interface RecordedForm {
  /** The text fields; a repeated field keeps its last value. */
  fields: Record<string, string>;
  files: RecordedFile[];
}

export const isMultipart = (contentType: string | undefined) => /^multipart\/form-data\b/i.test(contentType ?? "");

/** Throws (a TypeError from the platform) when the body is not the multipart the header says. */
export async function parseForm(bytes: Buffer, contentType: string): Promise<RecordedForm> {
  const form = await new Response(new Uint8Array(bytes), { headers: { "content-type": contentType } }).formData();
  const fields: Record<string, string> = {};
  const files: RecordedFile[] = [];
  for (const [field, value] of form) {
    if (typeof value === "string") {
      fields[field] = value;
      continue;
    }
    const data = Buffer.from(await value.arrayBuffer());
    files.push({ field, name: value.name, type: value.type, size: data.length, sha256: createHash("sha256").update(data).digest("hex") });
  }
  return { fields, files };
}
