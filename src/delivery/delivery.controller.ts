import { Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeController, ApiOkResponse, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { StaffOnly } from '../auth/staff-auth.guard.js';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { DomainError } from '../common/problem/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { CurrentAccess, RegistrationAccessGuard } from '../registrations/registration-access.guard.js';
import { type RegistrationAccess, RegistrationsService } from '../registrations/registrations.service.js';
import { LedgerService, type NotificationView } from './ledger.service.js';
import { UuidParam } from '../common/problem/input-rules.js';

@ApiTags('registrations')
@Controller('v1/registrations')
export class LedgerController {
  constructor(
    private readonly ledger: LedgerService,
    private readonly registrations: RegistrationsService,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  @Get(':id/notifications')
  @UseGuards(RegistrationAccessGuard)
  @ApiBearerAuth('manage-token')
  @ApiOkResponse({ description: 'notifications → deliveries → attempts, addresses masked' })
  async notifications(
    @Param('id', UuidParam) id: string,
    @CurrentAccess() access: RegistrationAccess,
  ): Promise<{ notifications: NotificationView[] }> {
    await this.registrations.load(this.db, id, access);
    return { notifications: await this.ledger.forRegistration(id) };
  }
}

class DeadLetterQuery {
  @ApiPropertyOptional({ enum: ['dead'], default: 'dead' })
  @IsOptional()
  @IsIn(['dead'])
  status?: 'dead';
}

@ApiTags('admin')
@Controller('v1/admin/deliveries')
@StaffOnly('admin')
export class DeadLettersController {
  constructor(private readonly ledger: LedgerService) {}

  @Get()
  @ApiOkResponse({ description: 'Dead deliveries (?status=dead)' })
  async list(@Query() _query: DeadLetterQuery): Promise<{ deliveries: Awaited<ReturnType<LedgerService['dead']>> }> {
    return { deliveries: await this.ledger.dead() };
  }

  @Post(':id/retry')
  @HttpCode(202)
  async retry(@Param('id', UuidParam) id: string): Promise<{ deliveryId: string; status: 'pending' }> {
    await this.ledger.retryDead(id);
    return { deliveryId: id, status: 'pending' };
  }
}

/**
 * Outside production: what the dev outbox holds, newest first. Admins only, since it shows
 * addresses and codes in clear and a forgotten NODE_ENV must not publish them.
 */
@ApiExcludeController()
@Controller('dev/outbox')
@StaffOnly('admin')
export class DevOutboxController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly cipher: FieldCipher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async list(): Promise<{
    messages: {
      id: string;
      deliveryId: string | null;
      channel: string;
      to: string;
      subject: string | null;
      body: string;
      createdAt: string;
    }[];
  }> {
    if (this.config.env === 'production') throw new DomainError('not_found', 'NOT_FOUND', 'Not found.');
    const rows: {
      id: string;
      delivery_id: string | null;
      channel: string;
      recipient: string;
      subject: string | null;
      body: string;
      created_at: Date;
    }[] = await this.db.query(`SELECT * FROM dev_outbox ORDER BY created_at DESC, id LIMIT 200`);
    return {
      messages: rows.map((r) => ({
        id: r.id,
        deliveryId: r.delivery_id,
        channel: r.channel,
        to: this.cipher.decrypt(r.recipient),
        subject: r.subject,
        body: this.cipher.decrypt(r.body),
        createdAt: r.created_at.toISOString(),
      })),
    };
  }
}
