import { Global, Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { AuditService } from '../common/audit.service.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { BootstrapAdminService } from './bootstrap-admin.service.js';
import { StaffAuthGuard } from './staff-auth.guard.js';
import { StaffController } from './staff.controller.js';
import { StaffService } from './staff.service.js';

/** Staff accounts, login and the guards every staff route uses. */
@Global()
@Module({
  imports: [
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        secret: config.security.jwtSecret,
        signOptions: { algorithm: 'HS256', issuer: 'vigil' },
        verifyOptions: { algorithms: ['HS256'], issuer: 'vigil' },
      }),
    }),
  ],
  controllers: [AuthController, StaffController],
  providers: [AuthService, StaffService, StaffAuthGuard, BootstrapAdminService, AuditService],
  exports: [AuthService, StaffService, StaffAuthGuard, JwtModule],
})
export class AuthModule {}
