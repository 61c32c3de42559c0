/**
 * A posted form or a query string as the page reads it: every field a trimmed string. A field sent
 * twice, an object or anything but text counts as blank, so a crafted request fails validation
 * (a page with the mistake shown) rather than reaching a service with the wrong type.
 */
export function textField(source: unknown, name: string, maxLength = 1000): string {
  const value = (source as Record<string, unknown> | undefined)?.[name];
  if (typeof value !== 'string') return '';
  return value.slice(0, maxLength).trim();
}

/** Checkbox groups (`eventTypes`): one value, several, or none; only the allowed ones are kept. */
export function checkedValues<T extends string>(source: unknown, name: string, allowed: readonly T[]): T[] {
  const value = (source as Record<string, unknown> | undefined)?.[name];
  const values = Array.isArray(value) ? value : [value];
  return allowed.filter((option) => values.includes(option));
}

/** A checkbox is ticked when the browser sends `on` (its default value). */
export function isTicked(source: unknown, name: string): boolean {
  return textField(source, name) === 'on';
}

/**
 * The fields a crafted request sent in a shape the form never sends: text fields that are not one
 * string, checkbox groups with anything but the allowed strings. Reading them blank would let a
 * request through that the form could not have made.
 */
export function malformedFields(source: unknown, text: readonly string[], groups: Record<string, readonly string[]> = {}): string[] {
  const body = (source ?? {}) as Record<string, unknown>;
  const bad = text.filter((name) => body[name] !== undefined && typeof body[name] !== 'string');
  for (const [name, allowed] of Object.entries(groups)) {
    const value = body[name];
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    if (!values.every((v) => typeof v === 'string' && allowed.includes(v))) bad.push(name);
  }
  return bad;
}
