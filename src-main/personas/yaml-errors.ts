/**
 * YAML syntax errors as validation issues, each with the line to look at. YAML reports an
 * unclosed quote where the text runs out (the end of the file, a line past the last one): the
 * issue points at the line where the quote opened instead, and names the field it belongs to.
 */
import { isMap, isPair, isScalar, isSeq, Scalar, visit, type Document, type LineCounter } from 'yaml';
import type { ValidationIssue } from '../../src-shared/contract';

export function yamlSyntaxIssues(doc: Document, lines: LineCounter): ValidationIssue[] {
  return doc.errors.map((e) => {
    const quote = e.code === 'MISSING_CHAR' ? unclosedQuote(doc, e.pos[0]) : null;
    if (quote) {
      const kind = quote.node.type === Scalar.QUOTE_DOUBLE ? 'double' : 'single';
      return {
        line: lines.linePos(quote.node.range?.[0] ?? e.pos[0]).line,
        field: quote.field,
        message: `YAML syntax error: the ${kind} quote opened here is never closed`,
      };
    }
    return {
      line: e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line,
      field: null,
      message: `YAML syntax error: ${e.message.split('\n')[0]}`,
    };
  });
}

/** The quoted scalar that runs to where YAML found a missing closing quote, with its field. */
function unclosedQuote(doc: Document, at: number): { node: Scalar; field: string | null } | null {
  let found: { node: Scalar; field: string | null } | null = null;
  visit(doc, {
    Scalar(_key, node, path) {
      const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
      const range = node.range;
      if (!quoted || !range || at < range[0] || at > range[2]) return undefined;
      found = { node, field: fieldPath([...path, node]) };
      return visit.BREAK;
    },
  });
  return found;
}

/** "directives.personality[2]" from a visitor's ancestor path; null when the node is a key. */
function fieldPath(path: readonly unknown[]): string | null {
  let field = '';
  for (let i = 0; i < path.length - 1; i++) {
    const parent = path[i];
    const child = path[i + 1];
    if (isPair(parent) && parent.key === child) return null;
    if (isMap(parent) && isPair(child) && isScalar(child.key))
      field += `${field ? '.' : ''}${String(child.key.value)}`;
    else if (isSeq(parent)) field += `[${parent.items.indexOf(child as never)}]`;
  }
  return field || null;
}
