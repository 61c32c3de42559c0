import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { StaffService } from './staff.service.js';

export const GENERATED_ADMIN_EMAIL = 'admin@vigil.local';

/**
 * First start: BOOTSTRAP_ADMIN_EMAIL/PASSWORD become the first admin. On a laptop (embedded
 * database) without them, a password is generated and shown once on the console, never logged
 * or stored in clear.
 */
@Injectable()
export class BootstrapAdminService implements OnApplicationBootstrap {
  private readonly logger = new Logger(BootstrapAdminService.name);
  adminEmail?: string;

  constructor(
    private readonly staff: StaffService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { email, password } = this.config.bootstrapAdmin;
    if (email && password) {
      this.adminEmail = email;
      if (await this.staff.ensureAdmin(email, password)) this.logger.log('Created the bootstrap admin from BOOTSTRAP_ADMIN_EMAIL');
      return;
    }
    if (!this.config.database.embedded) return;
    const generated = randomBytes(15).toString('base64url');
    this.adminEmail = GENERATED_ADMIN_EMAIL;
    if (await this.staff.ensureAdmin(GENERATED_ADMIN_EMAIL, generated)) {
      process.stdout.write(
        `\n  First start: created the admin ${GENERATED_ADMIN_EMAIL} with the password ${generated}\n` +
          '  It is shown this once and stored only as a hash. Set BOOTSTRAP_ADMIN_EMAIL/PASSWORD to choose your own.\n\n',
      );
    }
  }
}
