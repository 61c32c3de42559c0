import { ApiProperty } from '@nestjs/swagger';
import type { AuditRecordDto } from '../common/audit.service.js';

export class AuditEntryDto implements AuditRecordDto {
  @ApiProperty({ format: 'uuid' }) auditId: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) actorStaffId: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'specialist' }) actorRole: string | null;
  @ApiProperty({ example: 'registration.view' }) action: string;
  @ApiProperty({ example: 'registration' }) targetType: string;
  @ApiProperty({ type: String, nullable: true }) targetId: string | null;
  @ApiProperty({ type: String, nullable: true }) clientAddress: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'What was done, without names, addresses or notes',
  })
  details: Record<string, unknown> | null;
}

export class AuditListDto {
  @ApiProperty({ type: [AuditEntryDto], description: 'Newest first' }) entries: AuditEntryDto[];
}
