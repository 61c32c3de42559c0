import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsString, MinLength, ValidateNested } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { createValidationPipe, ValidationProblem } from './validation.js';

class Person {
  @IsString()
  @MinLength(1)
  lastName: string;
}
class Event {
  @ValidateNested()
  @Type(() => Person)
  person: Person;
}
class Batch {
  @ValidateNested({ each: true })
  @Type(() => Event)
  events: Event[];
}

describe('validation errors', () => {
  it('use dotted and bracketed paths into nested arrays', async () => {
    const pipe = createValidationPipe();
    const body = { events: [{ person: { lastName: 'Ok' } }, { person: { lastName: '' } }, { person: {}, extra: 1 }] };
    const error = await pipe.transform(body, { type: 'body', metatype: Batch }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationProblem);
    const { errors } = (error as ValidationProblem).getResponse() as { errors: { path: string; message: string }[] };
    expect(errors.map((e) => e.path)).toEqual([
      'events[1].person.lastName',
      'events[2].extra',
      'events[2].person.lastName',
      'events[2].person.lastName',
    ]);
    expect(errors[0].message).toContain('longer than or equal to 1');
  });
});
