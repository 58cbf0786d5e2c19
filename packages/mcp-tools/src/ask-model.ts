/**
 * The prompt `ask_model`: picked from a client's prompt list, it asks the assistant to put a
 * question to one of the gateway's models with chat_completion. `model` completes from the
 * gateway's model list (completion/complete).
 */
import { completable } from "@modelcontextprotocol/sdk/server/completable.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { ModelNames } from "./model-names.ts";

export function registerAskModelPrompt(server: McpServer, models: ModelNames): void {
  server.registerPrompt(
    "ask_model",
    {
      title: "Ask a model",
      description: "Ask one of the gateway's models a question (through the chat_completion tool) and show its answer.",
      argsSchema: {
        question: z.string().describe("What to ask"),
        model: optionalCompletable(z.string().describe("The model to ask (list_models shows them); empty: the server's default"), (typed) => models.complete(typed)),
        system: z.string().describe("Instructions for that model, if any").optional(),
      },
    },
    ({ question, model, system }) => {
      const target = model ? `the model "${model}"` : "the default model";
      const args = JSON.stringify({ prompt: question, ...(model ? { model } : {}), ...(system ? { system } : {}) });
      return {
        description: `Ask ${target} through the gateway`,
        messages: [
          {
            role: "user",
            content: {
              type: "text",
              text: `Ask ${target} this question by calling the chat_completion tool with these arguments: ${args}\n\nThen show me its answer as it is, saying which model gave it.\n\nThe question:\n${question}`,
            },
          },
        ],
      };
    },
  );
}

/**
 * An optional argument with completions. SDK 1.32 looks for the completer in two places: inside the
 * optional when it decides whether to offer completions at all, on the optional itself when it
 * answers completion/complete. So both carry it.
 */
function optionalCompletable(schema: z.ZodString, complete: (typed: string | undefined) => Promise<string[]>) {
  return completable(completable(schema, complete).optional(), complete);
}
