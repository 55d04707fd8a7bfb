/**
 * Teachers that think: reasoning models (Qwen3, DeepSeek-R1, gpt-oss...) write their reasoning
 * before the answer, inline between <think> and </think>, or in a separate field of the reply
 * (`reasoning_content` in vLLM and DeepSeek, `reasoning` in Ollama and OpenRouter). Ollama turns
 * thinking on by default on its OpenAI-compatible endpoint; `reasoning_effort: "none"` turns it
 * off there. The student must learn the spoken answer only, so the reasoning is cut out and the
 * answer marked (the audit flags it "thinking").
 */
export { isReasoningEffort, REASONING_EFFORTS, type ReasoningEffort } from '../core/settings';

const OPEN = /<(think|thinking|reasoning)>/i;

/**
 * The answer without its reasoning, and whether there was any. A closed block is removed; an
 * unclosed one (the token budget ran out mid-thought) removes everything after it, so the answer
 * left is what was said before it (usually nothing: the audit then flags it empty); a closing tag
 * without an opening one (templates that open the block in the prompt) removes what precedes it.
 */
export function splitThinking(text: string): { text: string; thinking: boolean } {
  let out = text;
  let thinking = false;
  const orphanClose = /^[\s\S]*?<\/(think|thinking|reasoning)>/i.exec(out);
  if (orphanClose && !OPEN.test(out.slice(0, orphanClose[0].length))) {
    out = out.slice(orphanClose[0].length);
    thinking = true;
  }
  for (;;) {
    const open = OPEN.exec(out);
    if (!open) break;
    thinking = true;
    const tag = (open[1] as string).toLowerCase();
    const start = open.index;
    const closeRe = new RegExp(`</${tag}>`, 'i');
    const rest = out.slice(start + open[0].length);
    const close = closeRe.exec(rest);
    if (!close) {
      out = out.slice(0, start);
      break;
    }
    out = out.slice(0, start) + rest.slice(close.index + close[0].length);
  }
  return { text: thinking ? out.trim() : text, thinking };
}
