"""Word-level umT5-format tokenizer and the frozen random umT5-architecture text encoder.

`build_tokenizer_json()` writes a tokenizer.json in the layout of umT5's: a Unigram
model (pad 0, eos 1, unk 2, then one '▁word' piece per caption word and a few
punctuation pieces), a NFKC + Lowercase + space-run normalizer, a Metaspace
pre-tokenizer and a `$A </s>` TemplateProcessing post-processor.
`Tokenizer` re-implements exactly that (Viterbi with the unknown-run fusing of
SentencePiece) so training needs no tokenizers package.

The encoder keeps the official T5 init from a fixed seed and is never trained: the
DiT's cross-attention learns to read it. Its weights are rounded to bf16 (the
release stores the encoder in bf16) and always run in float32 from those values.
"""
import re
import unicodedata
import numpy as np
import torch

from common import T5_CONFIG, TEXT_LEN
from dataset import WORDS
from wan_modules.t5 import T5Encoder

PAD, EOS, UNK = 0, 1, 2
PUNCT = ['.', ',', '!', '?', ';', ':', '-']
T5_SEED = 3


def vocab_pieces():
    pieces = [('<pad>', 0.0), ('</s>', 0.0), ('<unk>', 0.0)]
    pieces += [('\u2581' + w, -3.0) for w in WORDS]
    pieces += [(p, -6.0) for p in PUNCT]
    return pieces


def build_tokenizer_json():
    special = lambda i, c: dict(id=i, content=c, single_word=False, lstrip=False, rstrip=False,
                                normalized=False, special=True)
    eos = {'SpecialToken': {'id': '</s>', 'type_id': 0}}
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [special(PAD, '<pad>'), special(EOS, '</s>'), special(UNK, '<unk>')],
        'normalizer': {'type': 'Sequence', 'normalizers': [
            {'type': 'NFKC'}, {'type': 'Lowercase'},
            {'type': 'Replace', 'pattern': {'Regex': ' {2,}'}, 'content': ' '}]},
        'pre_tokenizer': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': True},
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'Sequence': {'id': 'A', 'type_id': 0}}, eos],
            'pair': [{'Sequence': {'id': 'A', 'type_id': 0}}, eos, {'Sequence': {'id': 'B', 'type_id': 0}}, eos],
            'special_tokens': {'</s>': {'id': '</s>', 'ids': [EOS], 'tokens': ['</s>']}}},
        'decoder': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': True},
        'model': {'type': 'Unigram', 'unk_id': UNK, 'vocab': [list(p) for p in vocab_pieces()],
                  'byte_fallback': False},
    }


class Tokenizer:
    def __init__(self):
        pieces = vocab_pieces()
        self.ids = {p: i for i, (p, _) in enumerate(pieces) if i > UNK}
        self.scores = {p: s for p, s in pieces}
        self.unk_score = min(s for _, s in pieces) - 10.0
        self.vocab_size = len(pieces)

    @staticmethod
    def clean(text):
        return re.sub(r'\s+', ' ', text).strip()

    def _segment(self, word):
        n = len(word)
        best = [-np.inf] * (n + 1)
        frm = [-1] * (n + 1)
        piece = [None] * (n + 1)
        best[0] = 0.0
        for s in range(n):
            if best[s] == -np.inf:
                continue
            has_single = False
            for e in range(s + 1, n + 1):
                p = word[s:e]
                if p in self.ids:
                    has_single |= e == s + 1
                    sc = best[s] + self.scores[p]
                    if frm[e] == -1 or sc > best[e]:
                        best[e], frm[e], piece[e] = sc, s, p
            if not has_single:
                sc = best[s] + self.unk_score
                if frm[s + 1] == -1 or sc > best[s + 1]:
                    best[s + 1], frm[s + 1], piece[s + 1] = sc, s, None
        spans = []
        e = n
        while e > 0:
            spans.append(piece[e])
            e = frm[e]
        out = []
        for p in reversed(spans):
            if p is None:
                if not out or out[-1] != UNK:  # a run of unknown characters is one <unk>
                    out.append(UNK)
            else:
                out.append(self.ids[p])
        return out

    def tokenize(self, text):
        t = unicodedata.normalize('NFKC', self.clean(text)).lower()
        t = re.sub(' {2,}', ' ', t)
        if not t:
            return []
        t = t.replace(' ', '\u2581')
        if not t.startswith('\u2581'):
            t = '\u2581' + t
        words = re.findall('\u2581[^\u2581]*', t)
        return [i for w in words for i in self._segment(w)]

    def __call__(self, text, max_length=TEXT_LEN):
        """-> (ids [max_length] int64, mask [max_length] int64), `$A </s>` then padding."""
        body = self.tokenize(text)[:max_length - 1] + [EOS]
        ids = np.full(max_length, PAD, np.int64)
        mask = np.zeros(max_length, np.int64)
        ids[:len(body)] = body
        mask[:len(body)] = 1
        return ids, mask


def make_encoder(vocab_size):
    """The frozen encoder: official init from T5_SEED, rounded to bf16, computed in float32."""
    torch.manual_seed(T5_SEED)
    cfg = dict(T5_CONFIG, vocab=vocab_size)
    model = T5Encoder(**cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.bfloat16).float())
    return model


def encode(model, tokenizer, texts):
    """-> list of trimmed contexts [L_i, dim] (as T5EncoderModel returns) and the ids/masks."""
    ids, masks = zip(*(tokenizer(t) for t in texts))
    ids = torch.from_numpy(np.stack(ids))
    masks = torch.from_numpy(np.stack(masks))
    with torch.no_grad():
        out = model(ids, masks)
    lens = masks.sum(1).tolist()
    return [out[i, :n] for i, n in enumerate(lens)], ids, masks


def padded_contexts(model, tokenizer, texts, text_len=TEXT_LEN):
    """Trimmed contexts zero-padded back to text_len, as the DiT receives them: [B, text_len, dim]."""
    ctx, _, _ = encode(model, tokenizer, texts)
    out = torch.zeros(len(texts), text_len, ctx[0].shape[1])
    for i, c in enumerate(ctx):
        out[i, :c.shape[0]] = c
    return out


if __name__ == '__main__':
    tok = Tokenizer()
    for t in ['a red circle moving right', 'A  Red circle, moving right!', '', 'a fox jumps']:
        ids, mask = tok(t)
        print(repr(t), ids[:mask.sum()].tolist())
    print('vocab', tok.vocab_size)
