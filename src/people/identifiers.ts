/** Identifier values compare after upper-casing and removing spaces and dashes. */
export function normalizeIdentifierValue(value: string): string {
  return value.toUpperCase().replace(/[\s-]+/g, '');
}

/**
 * The stored values a typed identifier may match: as ingestion normalizes it, and with typographic
 * dashes, full-width characters and invisible ones such as soft hyphens (a number copied from a
 * letter or a PDF) made plain. Ingestion keeps its own normalization, so the identities already
 * stored still match their sources.
 */
export function identifierSearchValues(value: string): string[] {
  const stored = normalizeIdentifierValue(value);
  const plain = normalizeIdentifierValue(
    value
      .normalize('NFKC')
      .replace(/\p{Cf}/gu, '')
      .replace(/[\p{Pd}\u2212]/gu, '-'),
  );
  return plain === stored ? [stored] : [stored, plain];
}

/** Case- and accent-insensitive form of a name, for exact-match search. */
export function foldName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/** Apostrophes a keyboard types for ' (a phone's smart punctuation types ’). */
const APOSTROPHES = /['\u2018\u2019\u02BC]/g;

/**
 * The stored keys a typed name may match: its folded form, and that form with its apostrophes
 * straight and curly, whichever the person's record was sent with.
 */
export function nameSearchKeys(name: string): string[] {
  const key = foldName(name);
  return [...new Set([key, key.replace(APOSTROPHES, "'"), key.replace(APOSTROPHES, '\u2019')])];
}

export interface IdentifierKey {
  system: string;
  value: string;
  /** null: a global system, valid everywhere; otherwise the source the identifier belongs to. */
  scope: string | null;
}

export function identifierKey(key: IdentifierKey): string {
  return `${key.system}\u0000${key.value}\u0000${key.scope ?? ''}`;
}
