/**
 * What the model tools need of whoever answers them: a chat completion (streamed when progress is
 * wanted) and the model list. openai-gateway-mcp answers over HTTP (its gateway client, with
 * retries); the gateway answers in-process at its /mcp, as the calling key.
 */

/** A chat message as OpenAI takes it (chat-messages.ts checks the shape of what a client sends). */
export type BackendMessage = Record<string, unknown> & { role: string };

export interface ChatRequest {
  model: string;
  messages: BackendMessage[];
  [option: string]: unknown;
}

export interface ChatAnswer {
  model: string;
  content: string;
  finish_reason: string | null;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

export interface ModelInfo {
  id: string;
  owned_by: string;
  created: number;
}

export interface CallContext {
  signal?: AbortSignal | undefined;
  /** The Authorization header of the MCP request that made this call (HTTP transports only). */
  authorization?: string | undefined;
}

export interface ModelBackend {
  /** The model of a call that names none. */
  readonly defaultModel: string;
  /** With `onText`, streams and reports the text so far as it grows. */
  chat(request: ChatRequest, opts: CallContext & { onText?: ((textSoFar: string) => void) | undefined }): Promise<ChatAnswer>;
  listModels(opts: CallContext): Promise<ModelInfo[]>;
}

/** The backend, or a ToolFailure naming what is not configured yet. */
export type BackendSource = () => ModelBackend;
