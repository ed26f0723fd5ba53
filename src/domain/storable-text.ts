// PostgreSQL refuses U+0000 in text (SQLSTATE 22021), and a lone UTF-16 surrogate has no UTF-8
// form (the driver would silently store U+FFFD instead). Neither is text anyone means to send.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this pattern finds
export const unstorableText = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const unstorableTextGlobal = new RegExp(unstorableText.source, 'g');

/** The text with every NUL and unpaired surrogate replaced by U+FFFD, for recording hostile input as seen. */
export function storableText(text: string): string {
  return text.replace(unstorableTextGlobal, '\uFFFD');
}
