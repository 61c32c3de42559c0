import { applyDecorators, type ArgumentMetadata, Injectable, ParseUUIDPipe, type PipeTransform } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsObject, Matches, MaxDate, MinDate, ValidateNested, type ValidationOptions } from 'class-validator';
import { DomainError, type FieldError } from './domain-error.js';
import { ValidationProblem } from './validation.js';

/*
 * Rules every input obeys, whatever route it reaches (bodies, query strings, path parameters).
 *
 * Control characters: NUL and the other C0 controls are refused everywhere (PostgreSQL refuses NUL
 * in text and jsonb; the rest have no business in a name, a code or an address). Tab, line feed and
 * carriage return are the exception, allowed only where free text is legitimate: `reason`,
 * `details`, the fields vendors add to events and roster people, passwords, an inbound SMS body.
 * Fields that are one line of text say so with `@SingleLine()` (or `singleLine` in zod). Strings
 * must also be valid Unicode: a lone surrogate is refused like a control character.
 */

/** Any body deeper than this is refused before a validator or serializer recurses into it. */
export const MAX_INPUT_DEPTH = 32;
const MAX_ERRORS = 20;

/** C0 controls other than tab, line feed and carriage return. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN_CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;
/** Every C0 control, for one-line fields. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const SINGLE_LINE = /^[^\u0000-\u001F]*$/;
export const CONTROL_MESSAGE = 'must not contain control characters';
/** Half a UTF-16 pair: valid in JSON text (`"\\ud800"`), not Unicode; PostgreSQL's jsonb refuses it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const SURROGATE_MESSAGE = 'must be valid Unicode text (no lone surrogates)';

/** The earliest and latest instants accepted anywhere: four-digit years, well inside PostgreSQL's range. */
export const EARLIEST_INSTANT = new Date('0001-01-01T00:00:00Z');
export const LATEST_INSTANT = new Date('9999-12-31T23:59:59.999Z');

/**
 * Walks a parsed input without recursion (a 5 MB body can nest a million levels) and reports
 * control characters in keys and strings, and nesting beyond `maxDepth`.
 */
export function inputProblems(value: unknown, root = '', maxDepth = MAX_INPUT_DEPTH): FieldError[] {
  const errors: FieldError[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: root, depth: 0 }];
  while (stack.length && errors.length < MAX_ERRORS) {
    const item = stack.pop()!;
    if (typeof item.value === 'string') {
      if (FORBIDDEN_CONTROLS.test(item.value)) errors.push({ path: item.path, message: CONTROL_MESSAGE });
      else if (LONE_SURROGATE.test(item.value)) errors.push({ path: item.path, message: SURROGATE_MESSAGE });
      continue;
    }
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= maxDepth) {
      errors.push({ path: item.path, message: `is nested more than ${maxDepth} levels deep` });
      continue;
    }
    if (Array.isArray(item.value)) {
      for (let i = item.value.length - 1; i >= 0; i--) {
        stack.push({ value: item.value[i], path: `${item.path}[${i}]`, depth: item.depth + 1 });
      }
      continue;
    }
    const entries = Object.entries(item.value as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i];
      if (FORBIDDEN_CONTROLS.test(key) || LONE_SURROGATE.test(key)) {
        errors.push({ path: item.path, message: 'has a field name with control characters or lone surrogates' });
        continue;
      }
      stack.push({ value: child, path: item.path ? `${item.path}.${key}` : key, depth: item.depth + 1 });
    }
  }
  return errors;
}

/** How many objects and arrays deep a value is (a scalar is 0, `{}` is 1). Iterative, like the walk above. */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * The first global pipe: bodies, query strings and path parameters pass the rules above before
 * any DTO, zod schema or service sees them. Runs after the guards, so credentials are checked first.
 */
@Injectable()
export class InputRulesPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    const errors = inputProblems(value, metadata.data ?? '');
    if (errors.length) throw new ValidationProblem(errors);
    return value;
  }
}

/**
 * A nested object field. `@ValidateNested` alone walks arrays too, so `quietHours: []` or
 * `contacts: [[]]` would pass; this refuses anything but a plain object (in each element with `each`).
 */
export function NestedObject(type: () => new () => object, options: { each?: boolean } = {}): PropertyDecorator {
  return applyDecorators(
    IsObject({ each: options.each, message: options.each ? 'each item must be an object' : 'must be an object' }),
    ValidateNested({ each: options.each }),
    Type(type),
  );
}

/** One line of text: no control characters at all, not even tab or newline. */
export function SingleLine(options: ValidationOptions = {}): PropertyDecorator {
  return Matches(SINGLE_LINE, { message: CONTROL_MESSAGE, ...options });
}

/** A Date (after `@Type(() => Date)`) that PostgreSQL can store and compare. */
export function InstantInRange(): PropertyDecorator {
  const message = 'must be a time between years 0001 and 9999';
  return applyDecorators(MinDate(EARLIEST_INSTANT, { message }), MaxDate(LATEST_INSTANT, { message }));
}

/**
 * Path ids: something that is not a uuid names nothing, so it is a 404 like an id that does not
 * exist (and never reaches PostgreSQL's uuid cast).
 */
export const UuidParam = new ParseUUIDPipe({
  exceptionFactory: () => new DomainError('not_found', 'NOT_FOUND', 'Nothing has that id.'),
});
