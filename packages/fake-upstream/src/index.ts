export type { Behaviour } from "./behaviours.ts";
export { startFakeUpstream, type FakeUpstream, type FakeUpstreamOptions, type RecordedRequest } from "./server.ts";
