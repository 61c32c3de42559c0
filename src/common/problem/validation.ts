import type { ApiBodyOptions } from '@nestjs/swagger';
import { z, type ZodType } from 'zod';
import { HttpException, ValidationPipe, type ValidationError } from '@nestjs/common';
import type { FieldError } from './domain-error.js';

/** Flattens class-validator's tree into `events[3].person.lastName` style paths. */
export function toFieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const path = /^\d+$/.test(error.property) ? `${parent}[${error.property}]` : parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ path, message: stripProperty(message, error.property) }));
    return [...own, ...toFieldErrors(error.children ?? [], path)];
  });
}

function stripProperty(message: string, property: string): string {
  return message.startsWith(`${property} `) ? message.slice(property.length + 1) : message;
}

export class ValidationProblem extends HttpException {
  constructor(errors: FieldError[]) {
    super({ message: 'The request has invalid fields.', errors }, 422);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationProblem(toFieldErrors(errors)),
  });
}

/** Parses with a zod schema; any problem becomes a 422 with `events[3].person.lastName` style paths. */
export function parseWith<S extends ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationProblem(zodFieldErrors(result.error.issues));
}

function zodFieldErrors(issues: z.core.$ZodIssue[]): FieldError[] {
  return issues.flatMap((issue) => {
    const path = issue.path.reduce<string>(
      (joined, part) => (typeof part === 'number' ? `${joined}[${part}]` : joined ? `${joined}.${String(part)}` : String(part)),
      '',
    );
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: path ? `${path}.${key}` : key, message: 'is not a known field' }));
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) return [{ path, message: 'is required' }];
    return [{ path, message: issue.message }];
  });
}

type OpenApiSchema = Extract<ApiBodyOptions, { schema: unknown }>['schema'];

/** The OpenAPI description of a zod schema (what the body may be, before transforms). */
export function openApiSchema(schema: ZodType): OpenApiSchema {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as OpenApiSchema;
}
