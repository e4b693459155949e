/**
 * The SentencePiece Unigram model as HF tokenizers runs it: the best segmentation of each
 * word by Viterbi over log-probability scores, with an unknown-piece penalty of
 * (lowest score − 10) for code points no single-character piece covers, runs of unknowns
 * fused into one piece, and (when `byte_fallback` is set) unknown pieces spelled as their
 * UTF-8 bytes `<0xNN>` instead of `<unk>`.
 */
const UNK_PENALTY = 10;
const utf8 = new TextEncoder();

/**
 * The piece trie as one flat map, edge (node, code point) → child node, plus the piece id
 * ending at each node: for umT5's 256k pieces this builds in a fraction of the time and
 * memory of one Map per node.
 */
class PieceTrie {
  private readonly edges = new Map<number, number>();
  private ends: number[] = [-1];

  private static key(node: number, codePoint: number): number {
    return node * 0x110000 + codePoint;
  }

  insert(piece: string, id: number): void {
    let node = 0;
    for (const ch of piece) {
      const key = PieceTrie.key(node, ch.codePointAt(0)!);
      let next = this.edges.get(key);
      if (next === undefined) {
        next = this.ends.length;
        this.ends.push(-1);
        this.edges.set(key, next);
      }
      node = next;
    }
    if (this.ends[node] === -1) this.ends[node] = id;
  }

  /** Child of `node` along `codePoint`, or -1. */
  step(node: number, codePoint: number): number {
    return this.edges.get(PieceTrie.key(node, codePoint)) ?? -1;
  }

  /** Id of the piece ending at `node`, or -1. */
  idAt(node: number): number {
    return this.ends[node];
  }
}

export interface UnigramJson {
  type: 'Unigram';
  unk_id: number | null;
  vocab: [string, number][];
  byte_fallback?: boolean;
}

export class UnigramModel {
  readonly pieces: string[];
  readonly scores: Float64Array;
  readonly unkId: number | null;
  readonly byteFallback: boolean;
  private readonly ids = new Map<string, number>();
  private readonly trie = new PieceTrie();
  private readonly unkScore: number;
  private readonly byteIds: Int32Array | null;

  constructor(json: UnigramJson) {
    this.pieces = json.vocab.map(([p]) => p);
    this.scores = Float64Array.from(json.vocab, ([, s]) => s);
    this.unkId = json.unk_id ?? null;
    this.byteFallback = json.byte_fallback === true;
    let min = Infinity;
    this.pieces.forEach((piece, id) => {
      if (!this.ids.has(piece)) this.ids.set(piece, id);
      min = Math.min(min, this.scores[id]);
      this.trie.insert(piece, id);
    });
    this.unkScore = min - UNK_PENALTY;
    if (this.byteFallback) {
      this.byteIds = new Int32Array(256).fill(-1);
      for (let b = 0; b < 256; b++) this.byteIds[b] = this.ids.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`) ?? -1;
    } else this.byteIds = null;
  }

  tokenToId(piece: string): number | undefined {
    return this.ids.get(piece);
  }

  /** Best segmentation of one word into piece strings (unknown runs fused). */
  segment(word: string): string[] {
    const chars = Array.from(word);
    const codes = chars.map((c) => c.codePointAt(0)!);
    const n = chars.length;
    if (n === 0) return [];
    // best[i]: best score of a segmentation of chars[0..i); from[i]: start of its last piece; pieceAt[i]: its id (-1 = unk).
    const best = new Float64Array(n + 1).fill(-Infinity);
    const from = new Int32Array(n + 1).fill(-1);
    const pieceAt = new Int32Array(n + 1).fill(-1);
    best[0] = 0;
    for (let start = 0; start < n; start++) {
      if (best[start] === -Infinity) continue;
      let node = 0;
      let hasSingle = false;
      for (let end = start; end < n; end++) {
        node = this.trie.step(node, codes[end]);
        if (node === -1) break;
        const id = this.trie.idAt(node);
        if (id === -1) continue;
        if (end === start) hasSingle = true;
        const score = best[start] + this.scores[id];
        if (from[end + 1] === -1 || score > best[end + 1]) {
          best[end + 1] = score;
          from[end + 1] = start;
          pieceAt[end + 1] = id;
        }
      }
      if (!hasSingle) {
        const score = best[start] + this.unkScore;
        if (from[start + 1] === -1 || score > best[start + 1]) {
          best[start + 1] = score;
          from[start + 1] = start;
          pieceAt[start + 1] = -1;
        }
      }
    }
    const spans: { text: string; unk: boolean }[] = [];
    for (let end = n; end > 0; end = from[end]) spans.push({ text: chars.slice(from[end], end).join(''), unk: pieceAt[end] === -1 });
    spans.reverse();
    const out: string[] = [];
    let pendingUnk = '';
    for (const s of spans) {
      if (s.unk) {
        pendingUnk += s.text;
        continue;
      }
      if (pendingUnk) out.push(pendingUnk), (pendingUnk = '');
      out.push(s.text);
    }
    if (pendingUnk) out.push(pendingUnk);
    return out;
  }

  /** Ids of one word. Unknown pieces become byte pieces (if all 256 bytes they need exist) or unk_id. */
  encodeWord(word: string): number[] {
    const ids: number[] = [];
    for (const piece of this.segment(word)) {
      const id = this.ids.get(piece);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      if (this.byteIds) {
        const bytes = Array.from(utf8.encode(piece), (b) => this.byteIds![b]);
        if (bytes.every((b) => b >= 0)) {
          ids.push(...bytes);
          continue;
        }
      }
      if (this.unkId === null) throw new Error(`cannot encode ${JSON.stringify(piece)}: the vocabulary has no piece for it and no unk_id`);
      ids.push(this.unkId);
    }
    return ids;
  }
}
