/**
 * The backend's model ids, for completions and the models resource: fetched as list_models fetches them, and kept for a short while, since a client asks for completions as the user types.
 */
import type { BackendSource, ModelInfo } from "./model-backend.ts";

const FRESH_MS = 30_000;

export class ModelNames {
  readonly #backend: BackendSource;
  #cached: { at: number; models: Promise<ModelInfo[]> } | undefined;

  constructor(backend: BackendSource) {
    this.#backend = backend;
  }

  /** The models, at most FRESH_MS old; `fresh` asks the gateway again. A failure is not kept. */
  list(fresh = false): Promise<ModelInfo[]> {
    if (!fresh && this.#cached && Date.now() - this.#cached.at < FRESH_MS) return this.#cached.models;
    const models = this.#backend().listModels({ signal: AbortSignal.timeout(10_000) });
    const entry = { at: Date.now(), models };
    this.#cached = entry;
    models.catch(() => {
      if (this.#cached === entry) this.#cached = undefined;
    });
    return models;
  }

  /** Model ids that start with what was typed (case aside), for completion/complete; none when the gateway cannot say. */
  async complete(typed: string | undefined): Promise<string[]> {
    try {
      const prefix = (typed ?? "").toLowerCase();
      return (await this.list()).map((m) => m.id).filter((id) => id.toLowerCase().startsWith(prefix)).slice(0, 100);
    } catch {
      return [];
    }
  }
}
