import { Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentStaff } from '../auth/current-staff.decorator.js';
import { type StaffPrincipal, StaffOnly } from '../auth/staff-auth.guard.js';
import { AuditService } from '../common/audit.service.js';
import { NotificationViewDto, ResentNotificationDto } from './ledger.dto.js';
import { LedgerService, type NotificationView } from './ledger.service.js';
import { UuidParam } from '../common/problem/input-rules.js';

@ApiTags('notifications')
@Controller('v1/notifications')
@StaffOnly('specialist')
export class NotificationsController {
  constructor(
    private readonly ledger: LedgerService,
    private readonly audit: AuditService,
  ) {}

  @Get(':id')
  @ApiOperation({
    summary: 'One notification from the ledger',
    description: 'With its deliveries and attempts, addresses masked. A specialist sees only their enrollees’. The read is audited.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The notification' })
  @ApiNotFoundResponse({ description: 'NOTIFICATION_NOT_FOUND: no such notification, or not one of yours' })
  @ApiOkResponse({
    type: NotificationViewDto,
    description: 'One notification with its deliveries and attempts (a specialist sees only their enrollees)',
  })
  async view(
    @Param('id', UuidParam) id: string,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<NotificationView> {
    const notification = await this.ledger.notification(id, staff);
    await this.audit.record([
      { actor: staff, action: 'notification.view', targetType: 'notification', targetId: id, clientAddress: req.ip },
    ]);
    return notification;
  }

  @Post(':id/resend')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Resend a notification',
    description:
      'New deliveries of the same message to every contact that may still receive it; the earlier ones stay in the ledger. ' +
      'A specialist only for their own enrollees. Audited.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The notification' })
  @ApiNotFoundResponse({ description: 'NOTIFICATION_NOT_FOUND: no such notification, or not one of yours' })
  @ApiAcceptedResponse({
    type: ResentNotificationDto,
    description: 'New deliveries for every reachable contact; the earlier ones stay in the ledger',
  })
  @ApiConflictResponse({ description: 'RESEND_IN_PROGRESS: the previous resend of this notification has not gone out yet' })
  async resend(
    @Param('id', UuidParam) id: string,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<{ notificationId: string; deliveries: number }> {
    const deliveries = await this.ledger.resend(id, { staff, clientAddress: req.ip });
    return { notificationId: id, deliveries };
  }
}
