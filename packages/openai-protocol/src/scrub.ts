/**
 * Removes secrets from what crosses to a client. Providers echo keys back ("Incorrect API key
 * provided: sk-...abcd"), in any field of an error, in headers, in stream events. Error text loses
 * every configured secret and anything shaped like an OpenAI-style key; other data (answers,
 * stream events) loses the configured secrets exactly, since a model may legitimately write
 * "sk-..." in a code sample. Each secret is also looked for in its JSON-escaped and URL-encoded forms.
 */
export interface Scrubber {
  /** Error text: every secret, and anything key-shaped. */
  text(s: string): string;
  /** Data: the configured secrets, exactly. */
  exact(s: string): string;
  /** Data as bytes; the same buffer when it holds no secret (the common case, checked natively). */
  bytes(b: Buffer): Buffer;
  /** Whether the text holds a configured secret. */
  leaks(s: string): boolean;
  /** A JSON value (a tool result, a notification) with the configured secrets taken out of every string; the same value when it holds none. */
  json<T>(value: T): T;
}

export const REDACTED = "[redacted]";
const KEY_LIKE = /\b(sk|rk|pk)-[A-Za-z0-9_*.-]{6,}/g;
/** Shorter secrets would match ordinary words in answers. */
const MIN_SECRET_LENGTH = 8;

export function createScrubber(secrets: string[]): Scrubber {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH) continue;
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
    forms.add(encodeURIComponent(s));
  }
  // Longest first, so a secret that contains another is replaced whole.
  const exactForms = [...forms].sort((a, b) => b.length - a.length);
  const byteForms = exactForms.map((f) => Buffer.from(f));

  const exact = (s: string): string => {
    let out = s;
    for (const f of exactForms) if (out.includes(f)) out = out.split(f).join(REDACTED);
    return out;
  };
  const text = (s: string): string => exact(s).replace(KEY_LIKE, REDACTED);
  const leaks = (s: string): boolean => exactForms.some((f) => s.includes(f));
  return {
    text,
    exact,
    leaks,
    json(value) {
      const serialized = JSON.stringify(value);
      return serialized === undefined || !leaks(serialized) ? value : (JSON.parse(exact(serialized)) as typeof value);
    },
    bytes(b) {
      if (!byteForms.some((f) => b.includes(f))) return b;
      return Buffer.from(exact(b.toString("utf8")));
    },
  };
}

/** A scrubber that learns more secrets while the process runs (an MCP server a reload adds); it never forgets one. */
export interface LearningScrubber extends Scrubber {
  learn(secrets: string[]): void;
}

export function createLearningScrubber(secrets: string[]): LearningScrubber {
  const known = new Set(secrets);
  let current = createScrubber([...known]);
  return {
    text: (s) => current.text(s),
    exact: (s) => current.exact(s),
    bytes: (b) => current.bytes(b),
    leaks: (s) => current.leaks(s),
    json: (value) => current.json(value),
    learn(more) {
      const before = known.size;
      for (const s of more) known.add(s);
      // Rebuilt, not patched: the forms are sorted longest first, so that a secret inside another goes whole.
      if (known.size !== before) current = createScrubber([...known]);
    },
  };
}

/** A header, variable or parameter name that says it carries a credential (x-api-key, Proxy-Authorization, GITHUB_TOKEN...). */
export const CREDENTIAL_NAME = /auth|key|token|secret|cookie|password|passwd|signature|credential/i;

/**
 * The values of `entries` whose name says they carry a credential, with "Bearer abc" or "Basic abc"
 * also as the bare "abc": a server may echo the credential without its scheme.
 */
export function credentialValues(entries: Record<string, string>): string[] {
  const values = Object.entries(entries).filter(([name]) => CREDENTIAL_NAME.test(name)).map(([, value]) => value);
  return [...values, ...values.flatMap((v) => /^\w+ (\S+)$/.exec(v)?.[1] ?? [])];
}
