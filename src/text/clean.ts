/**
 * The official prompt cleaning (wan `HuggingfaceTokenizer(clean='whitespace')`):
 *   basic_clean: ftfy.fix_text, then html.unescape twice, strip;
 *   whitespace_clean: every run of whitespace → one space, strip.
 *
 * ftfy is not available in JS. Of `fix_text`'s default steps we do the deterministic,
 * context-free ones that change what the tokenizer sees:
 *   - unescape_html='auto' (unescape once when the text has no '<'),
 *   - remove_terminal_escapes (ANSI colour codes),
 *   - uncurl_quotes (‘ ’ ‚ ‛ “ ” „ ‟ ′ ″ → ' and "),
 *   - fix_latin_ligatures (ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ → letters),
 *   - fix_character_width (fullwidth ASCII / halfwidth kana → normal width, via NFKC of those blocks),
 *   - fix_line_breaks (CRLF, CR, U+2028/9, U+0085 → LF),
 *   - remove_control_chars (the C0 and format characters ftfy removes),
 *   - NFC normalization.
 * Not done: mojibake repair (fix_encoding, restore_byte_a0, replace_lossy_sequences,
 * decode_inconsistent_utf8, fix_c1_controls), which needs ftfy's heuristics and byte tables;
 * prompts with mis-decoded UTF-8 are tokenized as they are.
 */
import { unescapeHtml } from './html-entities.js';

const TERMINAL_ESCAPES = /\x1b\[((?:\d|;)*)([a-zA-Z])/g;
const SINGLE_QUOTES = /[\u2018\u2019\u201a\u201b\u2032]/g;
const DOUBLE_QUOTES = /[\u201c\u201d\u201e\u201f\u2033]/g;
const LIGATURES: Record<string, string> = { '\ufb00': 'ff', '\ufb01': 'fi', '\ufb02': 'fl', '\ufb03': 'ffi', '\ufb04': 'ffl', '\ufb05': 'ſt', '\ufb06': 'st' };
const LIGATURE = /[\ufb00-\ufb06]/g;
// Fullwidth ASCII variants, halfwidth CJK punctuation/kana/Hangul and the ideographic space (ftfy maps U+3000 to ' ').
const WIDTH = /[\u3000\uff01-\uff60\uff61-\uffdc\uffe0-\uffee]/g;
const LINE_BREAKS = /\r\n|[\r\u2028\u2029\u0085]/g;
// ftfy's CONTROL_CHARS: C0 controls except \t \n \f \r, DEL, deprecated format characters, BOM,
// interlinear annotation marks, musical formatting. (C1 controls belong to ftfy's mojibake repair.)
const CONTROL = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc\u{1d173}-\u{1d17a}]/gu;
// Python's str.isspace() set: what `re.sub(r'\s+', ' ', ...)` and `str.strip()` treat as whitespace.
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WHITESPACE_RUN = new RegExp(`[${PY_SPACE}]+`, 'g');
const EDGE_SPACE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

/** The subset of ftfy.fix_text described above. */
export function fixText(text: string): string {
  let t = text;
  if (!t.includes('<')) t = unescapeHtml(t);
  t = t.replace(TERMINAL_ESCAPES, '');
  t = t.replace(SINGLE_QUOTES, "'").replace(DOUBLE_QUOTES, '"');
  t = t.replace(LIGATURE, (c) => LIGATURES[c]);
  t = t.replace(WIDTH, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC')));
  t = t.replace(LINE_BREAKS, '\n');
  t = t.replace(CONTROL, '');
  return t.normalize('NFC');
}

export const pyStrip = (text: string): string => text.replace(EDGE_SPACE, '');

/** basic_clean + whitespace_clean, in the official order. */
export function cleanPrompt(text: string): string {
  const basic = pyStrip(unescapeHtml(unescapeHtml(fixText(text))));
  return pyStrip(basic.replace(WHITESPACE_RUN, ' '));
}
