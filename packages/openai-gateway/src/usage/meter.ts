/**
 * What one request used, as the request path learns it: each answer's or tool round's usage block
 * and the target that served it, and a stream's tap while it runs. When the request ends, however it
 * ends, the meter says what to count: the reported usage; or, for a stream cut short before the
 * upstream reported any (the client left, the upstream broke), the prompt's estimate and one token
 * per event already relayed, marked partial, because those tokens were produced and are billed.
 */
import { addUsage, type Usage } from "@mcpgw/openai-protocol";
import type { Target } from "../config/types.ts";
import { tokensOf } from "../limits/prices.ts";
import type { UsageTap } from "../relay/usage-tap.ts";

export interface Metered {
  prompt: number;
  cached: number;
  completion: number;
  partial: boolean;
  served: Target | undefined;
}

export class RequestMeter {
  #usage: Usage | undefined;
  #served: Target | undefined;
  #tap: UsageTap | undefined;

  /** A whole answer, or a round of a tool loop. */
  add(usage: Usage | undefined, target: Target): void {
    this.#usage = addUsage(this.#usage, usage);
    this.#served = target;
  }

  /** A stream begins: until it ends (`add` with the tap's usage), a cut is counted from the tap. */
  streaming(tap: UsageTap, target: Target): void {
    this.#tap = tap;
    this.#served = target;
  }

  /** The relay is over: its usage, when the upstream sent it, is the count; without, the tap still counts it. */
  streamed(tap: UsageTap, target: Target): void {
    if (!tap.usage) return;
    this.#tap = undefined;
    this.add(tap.usage, target);
  }

  /** `finished`: the answer went out whole; `promptEstimate`: the prompt's tokens as reserved. */
  result(promptEstimate: number, finished: boolean): Metered {
    const tap = this.#tap;
    // A stream whose usage came but whose relay has not returned yet (the answer ends as its last
    // bytes go out, before `streamed`): its usage is the tap's.
    const known = tokensOf(tap?.usage ? addUsage(this.#usage, tap.usage) : this.#usage) ?? { prompt: 0, cached: 0, completion: 0 };
    if (tap && !tap.usage && tap.events > 0) {
      return { prompt: known.prompt + promptEstimate, cached: known.cached, completion: known.completion + tap.events, partial: !finished, served: this.#served };
    }
    // A tool loop cut between rounds: its finished rounds counted, the rest unknown.
    return { ...known, partial: !finished && this.#served !== undefined, served: this.#served };
  }
}
