/** The fenced code blocks of a Markdown document, in order (what a reader copies). */
export interface CodeBlock {
  lang: string;
  body: string;
}

export function codeBlocks(markdown: string): CodeBlock[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
}
