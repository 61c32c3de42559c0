import { type DynamicModule, Global, Module, type Provider } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from './auth/auth.module.js';
import { Clock, SystemClock } from './common/clock.js';
import { FieldCipher } from './common/crypto/field-cipher.js';
import { MANUAL_DISPATCH } from './common/manual-dispatch.js';
import { DeliveryApiModule, DeliveryModule } from './delivery/delivery.module.js';
import { DirectoryApiModule } from './directory/directory.module.js';
import { RateLimiter } from './common/rate-limiter.service.js';
import { APP_CONFIG, type AppConfig } from './config/app-config.js';
import { dataSourceOptions } from './database/data-source-options.js';
import { HealthModule } from './health/health.module.js';
import { MetricsApiModule } from './metrics/metrics.module.js';
import { IngestionApiModule, IngestionModule } from './ingestion/ingestion.module.js';
import { PeopleApiModule, PeopleModule } from './people/people.module.js';
import { RegistrationsApiModule, RegistrationsModule } from './registrations/registrations.module.js';
import { RetentionModule } from './retention/retention.module.js';
import { SourcesApiModule, SourcesModule } from './sources/sources.module.js';
import { WebModule } from './web/web.module.js';

export interface AppModuleOptions {
  /** Replaces the system clock (tests). */
  clock?: Clock;
  /** Where JSON log lines go (tests capture them); stdout otherwise. */
  logDestination?: NodeJS.WritableStream;
  /** The caller drains the delivery queue itself (tests); workers otherwise dispatch on their own. */
  manualDispatch?: boolean;
}

@Global()
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig, options: AppModuleOptions): DynamicModule {
    const providers: Provider[] = [
      { provide: APP_CONFIG, useValue: config },
      { provide: Clock, useValue: options.clock ?? new SystemClock() },
      { provide: MANUAL_DISPATCH, useValue: options.manualDispatch ?? false },
      { provide: FieldCipher, useValue: new FieldCipher(config.security.encryptionKey, config.security.previousEncryptionKeys) },
      RateLimiter,
    ];
    return { module: CoreModule, providers, exports: providers };
  }
}

/**
 * ROLE decides what runs: `api` serves the HTTP routes, `worker` runs the scheduled and queued
 * work, `all` both. Health and metrics answer in every role so each process can be probed and scraped.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, options: AppModuleOptions = {}): DynamicModule {
    if (!config.database.url) throw new Error('AppModule needs a resolved database URL');
    const serveApi = config.role !== 'worker';
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, options),
        TypeOrmModule.forRoot({ ...dataSourceOptions(config.database.url), autoLoadEntities: true, migrationsRun: false }),
        HealthModule,
        MetricsApiModule,
        SourcesModule,
        PeopleModule,
        IngestionModule,
        RegistrationsModule,
        DeliveryModule,
        RetentionModule,
        ...(serveApi
          ? [
              AuthModule,
              SourcesApiModule,
              PeopleApiModule,
              IngestionApiModule,
              RegistrationsApiModule,
              DeliveryApiModule,
              DirectoryApiModule,
              WebModule,
            ]
          : []),
        // Registered in every role; only workers add intervals to it.
        ScheduleModule.forRoot(),
      ],
    };
  }
}
