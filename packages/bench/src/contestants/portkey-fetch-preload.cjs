// Preloaded into Portkey's gateway (node --require). Node's fetch returns Responses whose headers
// are immutable; Portkey edits them while relaying a stream and fails with "TypeError: immutable"
// (Portkey issues 1389 and 1550). Re-wrapping each Response gives it mutable headers, body untouched.
"use strict";
const realFetch = globalThis.fetch;
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

globalThis.fetch = async function fetchWithMutableHeaders(input, init) {
  const r = await realFetch(input, init);
  return new Response(NULL_BODY.has(r.status) ? null : r.body, {
    status: r.status,
    statusText: r.statusText,
    headers: new Headers(r.headers),
  });
};
