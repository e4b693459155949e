/** Errors a user can hit while loading a tokenizer or reading prompts; each names the fix. */

export class TokenizerFormatError extends Error {
  override readonly name = 'TokenizerFormatError';
  constructor(readonly filePath: string, problem: string) {
    super(`${filePath}: ${problem}`);
  }
}

/** A prompt file that is not valid UTF-8. */
export class PromptEncodingError extends Error {
  override readonly name = 'PromptEncodingError';
  constructor(readonly filePath: string, readonly byteOffset: number) {
    super(`${filePath}: invalid UTF-8 at byte ${byteOffset}; save the file as UTF-8 (or pass onInvalid: 'replace' to substitute U+FFFD)`);
  }
}

/** The model folder lacks something the text encoder needs. */
export class TextModelError extends Error {
  override readonly name = 'TextModelError';
}
