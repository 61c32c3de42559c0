import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({
    description: 'Dots and brackets into the request: body fields as sent, query and path parameters by name',
    example: 'contacts[0].address',
  })
  path: string;

  @ApiProperty({ example: 'must be a valid email address' })
  message: string;
}

/** The RFC 9457 body every error answers with (`application/problem+json`), as `problem()` writes it. */
export class ProblemDto {
  @ApiProperty({
    description: '`urn:vigil:problem:<code>` when the error has a code, otherwise `about:blank`',
    example: 'urn:vigil:problem:registration-not-found',
  })
  type: string;

  @ApiProperty({ description: "The status's reason phrase", example: 'Not Found' })
  title: string;

  @ApiProperty({ description: 'The HTTP status, repeated', example: 404 })
  status: number;

  @ApiProperty({ description: 'What went wrong, for a person; never holds a submitted value', example: 'No such registration.' })
  detail: string;

  @ApiPropertyOptional({ description: 'Stable machine-readable error code', example: 'REGISTRATION_NOT_FOUND' })
  code?: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Validation (422) only: one entry per refused field' })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({ description: 'On a 500: the id the log line carries, to quote to an operator' })
  errorId?: string;
}
