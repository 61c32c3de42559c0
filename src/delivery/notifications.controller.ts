import { Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentStaff } from '../auth/current-staff.decorator.js';
import { type StaffPrincipal, StaffOnly } from '../auth/staff-auth.guard.js';
import { AuditService } from '../common/audit.service.js';
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
  @ApiOkResponse({ description: 'One notification with its deliveries and attempts (a specialist sees only their enrollees)' })
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
  @ApiAcceptedResponse({ description: 'New deliveries for every reachable contact; the earlier ones stay in the ledger' })
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
