/**
 * What tokens cost, for budgets and usage records. Prices are USD per million tokens, as providers
 * publish them; that is also micro-dollars per token. They are kept in thousandths of a micro-dollar
 * (integers) so sums are exact, and a request's cost is rounded up to a whole micro-dollar.
 *
 * The built-in table holds OpenAI's list prices of widely used models (standard tier) when this was
 * written; `prices` in the config overrides or adds to it, and `prices["*"]` prices every model
 * neither names. A model with no price costs nothing in the usage records, and a key with a budget
 * may not use it at all (a budget that cannot count is no budget).
 */
import type { Usage } from "@mcpgw/openai-protocol";

export interface Price {
  input: number;
  output: number;
  cachedInput?: number | undefined;
}

export const BUILT_IN_PRICES: Record<string, Price> = {
  "gpt-5": { input: 1.25, cachedInput: 0.125, output: 10 },
  "gpt-5-mini": { input: 0.25, cachedInput: 0.025, output: 2 },
  "gpt-5-nano": { input: 0.05, cachedInput: 0.005, output: 0.4 },
  "gpt-4.1": { input: 2, cachedInput: 0.5, output: 8 },
  "gpt-4.1-mini": { input: 0.4, cachedInput: 0.1, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, cachedInput: 0.025, output: 0.4 },
  "gpt-4o": { input: 2.5, cachedInput: 1.25, output: 10 },
  "gpt-4o-mini": { input: 0.15, cachedInput: 0.075, output: 0.6 },
  o3: { input: 2, cachedInput: 0.5, output: 8 },
  "o4-mini": { input: 1.1, cachedInput: 0.275, output: 4.4 },
  "o3-mini": { input: 1.1, cachedInput: 0.55, output: 4.4 },
  "text-embedding-3-small": { input: 0.02, output: 0 },
  "text-embedding-3-large": { input: 0.13, output: 0 },
  "text-embedding-ada-002": { input: 0.1, output: 0 },
  // Moderations cost nothing at OpenAI.
  "omni-moderation-latest": { input: 0, output: 0 },
  "text-moderation-latest": { input: 0, output: 0 },
  // The offline demo model answers from this process: it costs nothing, so a budgeted key may try it.
  "mcpgw-offline-demo": { input: 0, output: 0 },
};

interface Nanos {
  input: number;
  cachedInput: number;
  output: number;
}

/** Dated snapshots (`gpt-4o-mini-2024-07-18`, `o3-mini-2501`) cost what their model costs. */
const SNAPSHOT = /-(\d{4}-\d{2}-\d{2}|\d{4})$/;

export class PriceTable {
  readonly #prices = new Map<string, Nanos>();
  readonly #fallback: Nanos | undefined;

  constructor(configured: Record<string, Price> = {}) {
    for (const [name, p] of Object.entries({ ...BUILT_IN_PRICES, ...configured })) if (name !== "*") this.#prices.set(name, nanos(p));
    this.#fallback = configured["*"] ? nanos(configured["*"]) : undefined;
  }

  /** The price of the first of `names` that has one (the upstream's model name, then the public one). */
  priceOf(...names: string[]): Nanos | undefined {
    for (const name of names) {
      const p = this.#prices.get(name) ?? this.#prices.get(name.replace(SNAPSHOT, ""));
      if (p) return p;
    }
    return this.#fallback;
  }

  /** A usage block's cost in whole micro-dollars (rounded up). */
  static costOf(price: Nanos | undefined, usage: { prompt: number; cached: number; completion: number }): number {
    if (!price) return 0;
    const cached = Math.min(usage.cached, usage.prompt);
    return Math.ceil(((usage.prompt - cached) * price.input + cached * price.cachedInput + usage.completion * price.output) / 1000);
  }

  /** The most a request may cost before it is known which target serves it: the dearest of them. */
  static dearest(prices: (Nanos | undefined)[]): Nanos | undefined {
    if (prices.some((p) => p === undefined)) return undefined;
    return (prices as Nanos[]).reduce((a, b) => ({ input: Math.max(a.input, b.input), cachedInput: Math.max(a.cachedInput, b.cachedInput), output: Math.max(a.output, b.output) }));
  }
}

function nanos(p: Price): Nanos {
  return { input: Math.round(p.input * 1000), cachedInput: Math.round((p.cachedInput ?? p.input) * 1000), output: Math.round(p.output * 1000) };
}


/** Tokens of a usage block the way records keep them. */
export function tokensOf(usage: Usage | undefined): { prompt: number; cached: number; completion: number } | undefined {
  if (!usage) return undefined;
  const cached = usage.prompt_tokens_details?.cached_tokens;
  return { prompt: usage.prompt_tokens ?? 0, cached: typeof cached === "number" ? cached : 0, completion: usage.completion_tokens ?? 0 };
}
