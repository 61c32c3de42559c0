import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ProviderReports1764158400000 implements MigrationInterface {
  name = 'ProviderReports1764158400000';

  async up(db: QueryRunner): Promise<void> {
    // A delivery or call report can beat the worker that sent the message to the database (the worker records
    // message ids once per batch). Such a report waits here until its message id is known.
    await db.query(`
      CREATE TABLE provider_report (
        delivery_id uuid NOT NULL REFERENCES delivery (id),
        provider_message_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('message', 'call')),
        status text NOT NULL,
        error_code text,
        answered boolean NOT NULL DEFAULT false,
        received_at timestamptz NOT NULL,
        PRIMARY KEY (delivery_id, provider_message_id, status)
      )`);
    await db.query(`CREATE INDEX provider_report_received_idx ON provider_report (received_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE provider_report`);
  }
}
