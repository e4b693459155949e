export { cleanPrompt, fixText } from './clean.js';
export { DEFAULT_NEGATIVE_PROMPT, TextEncoder, type EncodedPrompt, type TextEncoderOptions } from './context.js';
export { PromptEncodingError, TextModelError, TokenizerFormatError } from './errors.js';
export { unescapeHtml } from './html-entities.js';
export { readPromptFile, type PromptFile, type ReadPromptOptions } from './prompt-file.js';
export { Tokenizer, type EncodeOptions, type Encoding, type TokenizerJson, type TruncationWarning } from './tokenizer.js';
