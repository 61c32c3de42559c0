import { Controller, Get, Header, HttpCode, Inject, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiExcludeController,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPropertyOptional,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CurrentStaff } from '../auth/current-staff.decorator.js';
import { type StaffPrincipal, StaffOnly } from '../auth/staff-auth.guard.js';
import { AuditService } from '../common/audit.service.js';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { DomainError } from '../common/problem/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { CurrentAccess, RegistrationAccessGuard } from '../registrations/registration-access.guard.js';
import { type RegistrationAccess, RegistrationsService } from '../registrations/registrations.service.js';
import { DeadDeliveryListDto, NotificationListDto, RetriedDeliveryDto } from './ledger.dto.js';
import { LedgerService, type NotificationView } from './ledger.service.js';
import { UuidParam } from '../common/problem/input-rules.js';

@ApiTags('registrations')
@Controller('v1/registrations')
export class LedgerController {
  constructor(
    private readonly ledger: LedgerService,
    private readonly registrations: RegistrationsService,
    private readonly audit: AuditService,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  @Get(':id/notifications')
  @UseGuards(RegistrationAccessGuard)
  @ApiOperation({
    summary: "A registration's ledger",
    description:
      'Every notification planned for the registration, newest first, with each delivery (one per contact and round) and ' +
      'each attempt as recorded: the proof of what was sent and what the providers said. Addresses are masked. With the ' +
      'manage token, or a staff token (a specialist only for their own enrollees).',
  })
  @ApiBearerAuth('manage-token')
  @ApiBearerAuth('staff')
  @ApiParam({ name: 'id', format: 'uuid', description: 'The registration' })
  @ApiUnauthorizedResponse({ description: 'AUTH_REQUIRED: no token; AUTH_INVALID: a bad staff token' })
  @ApiNotFoundResponse({ description: 'REGISTRATION_NOT_FOUND: no such registration, or not this token’s' })
  @ApiOkResponse({ type: NotificationListDto, description: 'notifications → deliveries → attempts, addresses masked' })
  async notifications(
    @Param('id', UuidParam) id: string,
    @CurrentAccess() access: RegistrationAccess,
  ): Promise<{ notifications: NotificationView[] }> {
    await this.registrations.load(this.db, id, access);
    // A staff member reading a victim's alerts is recorded, as a read of the registration or of one notification is.
    if (access.kind === 'staff') {
      await this.audit.record([
        {
          actor: access.staff,
          action: 'registration.notifications.view',
          targetType: 'registration',
          targetId: id,
          clientAddress: access.clientAddress,
        },
      ]);
    }
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
  @ApiOperation({
    summary: 'List dead deliveries',
    description: 'Admins only. Deliveries that used up their attempts, most recent first, up to 200; `status` can only be `dead`.',
  })
  @ApiOkResponse({ type: DeadDeliveryListDto, description: 'Dead deliveries (?status=dead)' })
  async list(@Query() _query: DeadLetterQuery): Promise<{ deliveries: Awaited<ReturnType<LedgerService['dead']>> }> {
    return { deliveries: await this.ledger.dead() };
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Retry a dead delivery',
    description: 'Admins only. A fresh round of attempts; the ledger keeps the old ones. Audited.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The dead delivery' })
  @ApiAcceptedResponse({ type: RetriedDeliveryDto })
  @ApiNotFoundResponse({ description: 'DEAD_DELIVERY_NOT_FOUND: no dead delivery with that id' })
  async retry(
    @Param('id', UuidParam) id: string,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<{ deliveryId: string; status: 'pending' }> {
    await this.ledger.retryDead(id, { staff, clientAddress: req.ip });
    return { deliveryId: id, status: 'pending' };
  }
}

/**
 * Where the dev outbox is allowed (embedded mode or DEV_OUTBOX=true): what it holds, newest first.
 * Admins only, and every read is audited, since it shows addresses, names and codes in clear.
 */
@ApiExcludeController()
@Controller('dev/outbox')
@StaffOnly('admin')
export class DevOutboxController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly cipher: FieldCipher,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async list(
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<{
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
    if (!this.config.devOutbox) throw new DomainError('not_found', 'NOT_FOUND', 'Not found.');
    const rows: {
      id: string;
      deliveryId: string | null;
      channel: string;
      recipient: string;
      subject: string | null;
      body: string;
      createdAt: Date;
    }[] = await this.db.query(
      `SELECT id, delivery_id AS "deliveryId", channel, recipient, subject, body, created_at AS "createdAt"
       FROM dev_outbox ORDER BY created_at DESC, id LIMIT 200`,
    );
    await this.audit.record([
      { actor: staff, action: 'dev_outbox.read', targetType: 'dev_outbox', clientAddress: req.ip, details: { messages: rows.length } },
    ]);
    return {
      messages: rows.map((r) => ({
        id: r.id,
        deliveryId: r.deliveryId,
        channel: r.channel,
        to: this.cipher.decrypt(r.recipient, 'dev_outbox.recipient', r.id),
        subject: r.subject && this.cipher.decrypt(r.subject, 'dev_outbox.subject', r.id),
        body: this.cipher.decrypt(r.body, 'dev_outbox.body', r.id),
        createdAt: r.createdAt.toISOString(),
      })),
    };
  }
}
