import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
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

/** Validates a plain object against a DTO class outside the pipe (bodies that take more than one shape). */
export async function validatePlain<T extends object>(cls: new () => T, plain: unknown): Promise<T> {
  const instance = plainToInstance(cls, plain);
  const errors = await validate(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    validationError: { target: false, value: false },
  });
  if (errors.length) throw new ValidationProblem(toFieldErrors(errors));
  return instance;
}
