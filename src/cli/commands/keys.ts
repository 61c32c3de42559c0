import type { Command } from 'commander';
import { rotateEncryptionKey } from '../../registrations/key-rotation.js';
import { cliAction, cliCommand, type CliIo, processIo, withExample } from '../cli-io.js';
import { loadCliConfig, withCli } from '../cli-runtime.js';

/** Encryption at rest: moving every sealed value to the current ENCRYPTION_KEY. */
export function registerKeyCommands(program: Command, io: CliIo = processIo): void {
  withExample(
    cliCommand(program, io, 'keys:rotate')
      .description(
        'Re-encrypt everything under ENCRYPTION_KEY, reading older rows with ENCRYPTION_KEYS_PREVIOUS. Safe while Vigil runs (small committed batches).',
      )
      .action(
        cliAction(io, async () => {
          const config = loadCliConfig();
          if (!config.security.previousEncryptionKeys.length) {
            io.out('ENCRYPTION_KEYS_PREVIOUS is empty: rows under keys not listed there cannot be read.\n');
          }
          const { result, keyId } = await withCli(config, async (cli) => {
            const rotated = await rotateEncryptionKey((work) => cli.db.transaction((tx) => work(tx)), cli.cipher);
            const entry = { actor: cli.by.staff, action: 'keys.rotate', targetType: 'encryption_key', clientAddress: cli.by.clientAddress };
            await cli.audit.record([{ ...entry, details: { keyId: cli.cipher.currentKeyId, ...rotated } }]);
            return { result: rotated, keyId: cli.cipher.currentKeyId };
          });
          io.out(
            `Re-encrypted ${result.contacts} contacts, ${result.registrants} registrant names, ${result.sources} source secrets, ` +
              `${result.codes} verification codes, ${result.escalationNotes} escalation notes, ${result.stopReasons} stop reasons, ${result.serviceMessages} shared services and ${result.outbox} dev outbox values under key ${keyId}; ` +
              `carried ${result.optOuts} STOPs and ${result.codeSends} numbers' code sends of the day to its index.\n`,
          );
        }),
      ),
    'ENCRYPTION_KEY=<new> ENCRYPTION_KEYS_PREVIOUS=<old> npx vigil keys:rotate',
  );
}
