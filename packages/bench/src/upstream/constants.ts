/** The static upstream's stream shape, shared with the scenarios that check it arrived whole. */
export const STREAM_CHUNKS = 200;
export const PACED_INTERVAL_MS = 2;
