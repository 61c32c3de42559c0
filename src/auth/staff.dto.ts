import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsString, MaxLength, MinLength } from 'class-validator';
import { SingleLine } from '../common/problem/input-rules.js';
import { STAFF_ROLES, type StaffRole } from './staff-role.js';

const lowerTrim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

export class LoginDto {
  @ApiProperty({ example: 'admin@example.org' })
  @Transform(lowerTrim)
  @IsString()
  @MaxLength(254)
  @SingleLine()
  email: string;

  @ApiProperty({ format: 'password' })
  @IsString()
  @MaxLength(1024)
  password: string;
}

export class LoginResponseDto {
  @ApiProperty({
    description: 'A JWT for `Authorization: Bearer …`',
    example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl',
  })
  accessToken: string;

  @ApiProperty({ description: 'Seconds until the token expires', example: 3600 })
  expiresIn: number;
}

/** Who a new staff member is: the console's form, where Vigil makes the password. */
export class NewStaffDto {
  @ApiProperty({ example: 'specialist@example.org' })
  @Transform(lowerTrim)
  @IsEmail()
  @MaxLength(254)
  email: string;

  @ApiProperty({ enum: STAFF_ROLES })
  @IsIn(STAFF_ROLES)
  role: StaffRole;
}

export class CreateStaffDto extends NewStaffDto {
  @ApiProperty({ format: 'password', minLength: 12 })
  @IsString()
  @MinLength(12)
  @MaxLength(1024)
  password: string;
}

export class StaffResponseDto {
  @ApiProperty({ format: 'uuid' })
  staffId: string;

  @ApiProperty()
  email: string;

  @ApiProperty({ enum: STAFF_ROLES })
  role: StaffRole;

  @ApiProperty()
  disabled: boolean;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class UpdateStaffDto {
  @ApiProperty({ description: 'A disabled account cannot log in, and its tokens stop working at once' })
  @IsBoolean()
  disabled: boolean;
}

export class PasswordResetResponseDto {
  @ApiProperty({ format: 'uuid' })
  staffId: string;

  @ApiProperty({
    format: 'password',
    description:
      'A new password Vigil made, returned only in this response (Vigil keeps a hash). The account’s earlier sessions and tokens no longer work.',
  })
  temporaryPassword: string;
}
