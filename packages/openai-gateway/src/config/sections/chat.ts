/** `chat`: the sessions of POST /chat, where they are kept and how far they may grow. */
import { z } from "zod";

/** A duration as people write one: `7d`, `12h`, `30m`, `90s`, or a number of seconds. */
export const duration = z.union([
  z.number().int().positive(),
  z.string().regex(/^\s*0*[1-9]\d*\s*[smhd]\s*$/i, "expected a duration such as 90s, 30m, 12h or 7d (or a number of seconds)"),
]);

export const chatSection = z
  .strictObject({
    model: z.string().min(1).optional().describe("the model of a session that names none"),
    store: z.string().min(1).optional().describe("the SQLite file of the sessions (relative to dataDir), or :memory: to keep none across restarts"),
    ttl: duration.optional().describe("an idle session expires after this long"),
    maxMessages: z.number().int().min(2).optional().describe("messages kept per session; the oldest turns go first"),
    maxSessionsPerKey: z.number().int().positive().optional().describe("sessions per client key; a new one ends the least recently used"),
  })
  .default({});
