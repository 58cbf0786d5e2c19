export type { Behaviour } from "./behaviours.ts";
export { speechBytes } from "./audio.ts";
export type { RecordedFile, RecordedForm } from "./form.ts";
export { startFakeUpstream, type FakeUpstream, type FakeUpstreamOptions, type RecordedRequest } from "./server.ts";
