/**
 * Pre-tokenizers of SentencePiece-style tokenizer.json files: Metaspace (spaces become '▁',
 * a '▁' is prepended, words are split before each '▁'), WhitespaceSplit, and Sequence.
 */
import { UnsupportedComponentError } from './normalizers.js';

/** Splits one text section into words; `first` is true for the first section of the input. */
export type PreTokenize = (text: string, first: boolean) => string[];

export interface PreTokenizerJson {
  type: string;
  [field: string]: unknown;
}

function metaspace(json: PreTokenizerJson): PreTokenize {
  const replacement = typeof json.replacement === 'string' ? json.replacement : '\u2581';
  // Older files say add_prefix_space; newer ones prepend_scheme ('always' | 'first' | 'never').
  const scheme = typeof json.prepend_scheme === 'string' ? json.prepend_scheme : json.add_prefix_space === false ? 'never' : 'always';
  const split = json.split !== false;
  return (text, first) => {
    if (text.length === 0) return [];
    let t = text.replaceAll(' ', replacement);
    if ((scheme === 'always' || (scheme === 'first' && first)) && !t.startsWith(replacement)) t = replacement + t;
    if (!split) return t ? [t] : [];
    const words: string[] = [];
    let start = 0;
    for (let i = t.indexOf(replacement, 1); i !== -1; i = t.indexOf(replacement, i + replacement.length)) {
      words.push(t.slice(start, i));
      start = i;
    }
    if (start < t.length) words.push(t.slice(start));
    return words;
  };
}

export function buildPreTokenizer(json: PreTokenizerJson | null | undefined): PreTokenize {
  if (!json) return (t) => (t ? [t] : []);
  switch (json.type) {
    case 'Metaspace':
      return metaspace(json);
    case 'WhitespaceSplit':
      return (t) => t.split(/\s+/u).filter((w) => w.length > 0);
    case 'Sequence': {
      const steps = (json.pretokenizers as PreTokenizerJson[]).map(buildPreTokenizer);
      return (t, first) => steps.reduce<string[]>((words, step) => words.flatMap((w, i) => step(w, first && i === 0)), [t]);
    }
    default:
      throw new UnsupportedComponentError(`pre-tokenizer type ${json.type} is not supported`);
  }
}
