/**
 * The tokenizer.json normalizers a SentencePiece-converted tokenizer uses (umT5: a Sequence
 * of Precompiled charsmap, Strip, and Replace of space runs), plus the simple Unicode ones.
 */
import { PrecompiledCharsmap } from './precompiled-charsmap.js';
import { unsafePatternReason } from './safe-regex.js';

export type Normalize = (text: string) => string;

/** The JSON shape of a normalizer entry; fields per type are checked at construction. */
export interface NormalizerJson {
  type: string;
  [field: string]: unknown;
}

export class UnsupportedComponentError extends Error {
  override readonly name = 'UnsupportedComponentError';
}

/** HF `Replace` pattern: either a literal string or an (Oniguruma) regex, run here as a JS RegExp. */
function replacePattern(pattern: unknown): RegExp {
  const p = pattern as { String?: string; Regex?: string };
  if (typeof p?.String === 'string') return new RegExp(p.String.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu');
  if (typeof p?.Regex === 'string') {
    // Untrusted: a pattern that could backtrack catastrophically would hang tokenization.
    const unsafe = unsafePatternReason(p.Regex);
    if (unsafe) throw new UnsupportedComponentError(`Replace normalizer pattern ${JSON.stringify(p.Regex.slice(0, 80))} is refused: ${unsafe}; use a simpler pattern`);
    return new RegExp(p.Regex, 'gu');
  }
  throw new UnsupportedComponentError(`Replace normalizer pattern ${JSON.stringify(pattern)} is neither {String} nor {Regex}`);
}

export function buildNormalizer(json: NormalizerJson | null | undefined): Normalize {
  if (!json) return (t) => t;
  switch (json.type) {
    case 'Sequence': {
      const parts = (json.normalizers as NormalizerJson[]).map(buildNormalizer);
      return (t) => parts.reduce((acc, f) => f(acc), t);
    }
    case 'Precompiled': {
      const b64 = json.precompiled_charsmap;
      if (typeof b64 !== 'string' || b64.length === 0) return (t) => t; // an empty charsmap is the identity
      const charsmap = PrecompiledCharsmap.fromBase64(b64);
      return (t) => charsmap.normalize(t);
    }
    case 'Replace': {
      const re = replacePattern(json.pattern);
      const content = String(json.content ?? '');
      return (t) => t.replace(re, () => content);
    }
    case 'Strip': {
      const left = json.strip_left === true;
      const right = json.strip_right === true;
      return (t) => {
        let s = left ? t.trimStart() : t;
        if (right) s = s.trimEnd();
        return s;
      };
    }
    case 'Prepend': {
      const prepend = String(json.prepend ?? '');
      return (t) => (t.length ? prepend + t : t);
    }
    case 'NFKC': case 'NFC': case 'NFD': case 'NFKD': {
      const form = json.type;
      return (t) => t.normalize(form);
    }
    case 'Lowercase':
      return (t) => t.toLowerCase();
    default:
      throw new UnsupportedComponentError(`normalizer type ${json.type} is not supported`);
  }
}
