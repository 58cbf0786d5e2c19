/**
 * A session's recent SSE events, so that a client whose stream broke can resume it with
 * Last-Event-ID and miss nothing (the SDK replays through this interface; it ships no store of its
 * own outside its examples). Bounded: the newest `limit` events of the session are kept, so a
 * session that never resumes holds a fixed amount of memory, not one entry per message forever.
 */
import type { EventId, EventStore, StreamId } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

interface Stored {
  streamId: StreamId;
  message: JSONRPCMessage;
}

export class BoundedEventStore implements EventStore {
  readonly #events = new Map<EventId, Stored>();
  readonly #limit: number;
  #next = 0;

  constructor(limit = 1000) {
    this.#limit = limit;
  }

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    // The stream's id in the event id: a resumed GET finds its stream from the id alone.
    const id = `${streamId}_${++this.#next}`;
    this.#events.set(id, { streamId, message });
    if (this.#events.size > this.#limit) this.#events.delete(this.#events.keys().next().value!);
    return id;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return this.#events.get(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId: EventId, { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const last = this.#events.get(lastEventId);
    if (!last) return "";
    let after = false;
    for (const [id, event] of this.#events) {
      if (id === lastEventId) {
        after = true;
        continue;
      }
      if (after && event.streamId === last.streamId) await send(id, event.message);
    }
    return last.streamId;
  }

  get size(): number {
    return this.#events.size;
  }
}
