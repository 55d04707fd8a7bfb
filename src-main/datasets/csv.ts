/**
 * RFC 4180 CSV: fields with a comma, quote, CR or LF are quoted, quotes doubled. toCsv writes files
 * people open in Excel or LibreOffice: a UTF-8 byte-order mark (else Excel reads UTF-8 as the
 * local code page), and text that begins with = + - @ (or a tab or CR) prefixed with ' so a cell
 * like "- I composed..." is text, not a formula (#NAME?) and never runs as one.
 */
export type CsvValue = string | number | boolean | null | undefined;

const BOM = '\uFEFF';
/** Characters a spreadsheet reads as the start of a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A cell that a spreadsheet shows as the text it is (numbers stay numbers). */
export function spreadsheetField(value: CsvValue): string {
  if (typeof value === 'string' && FORMULA_START.test(value)) return csvField(`'${value}`);
  return csvField(value);
}

export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return BOM + [header, ...rows].map((r) => r.map(spreadsheetField).join(',')).join('\r\n') + '\r\n';
}

/** Parses CSV text written by toCsv (or any RFC 4180 CSV) into rows of strings. */
export function parseCsv(input: string): string[][] {
  const text = input.startsWith(BOM) ? input.slice(1) : input;
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
