import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { namedWhenSmall, type Queryable } from '../database/queryable.js';
import { foldName, type IdentifierKey, identifierKey, normalizeIdentifierValue } from './identifiers.js';
import { PersonStatusService } from './person-status.service.js';

export interface PersonInput {
  identifiers: { system: string; value: string }[];
  firstName: string;
  lastName: string;
  dateOfBirth?: string;
  countryOfBirth?: string;
}

export interface ResolvedPerson {
  id: string;
  protected: boolean;
  dateOfBirth: string | null;
}

// Passes before giving up on a storm of concurrent first sightings of the same person.
const MAX_PASSES = 5;

interface ExistingIdentifier {
  system: string;
  value: string;
  scopeSourceId: string | null;
  personId: string;
  protected: boolean;
  dateOfBirth: string | null;
  createdMs: number;
  firstName: string;
  lastName: string;
  countryOfBirth: string | null;
  mergedInto: string | null;
}

/**
 * Finds or creates the person behind each input. Global identifiers (A_NUMBER, FBI_NUMBER,
 * STATE_ID, …) link records across sources; others only within the reporting source. When one
 * input's identifiers join two known persons, they are merged into the older one and everything
 * attached to the younger follows. Set-based: a 100,000-person roster costs a handful of queries.
 */
@Injectable()
export class IdentityResolver {
  private readonly logger = new Logger(IdentityResolver.name);
  private readonly globalSystems: Set<string>;
  private personReferences?: Promise<{ table: string; column: string }[]>;

  constructor(
    private readonly status: PersonStatusService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.globalSystems = new Set(config.globalIdentifierSystems);
  }

  /**
   * `holdOwners: false` leaves the persons found unlocked, for a caller that records events about
   * only a few of them and holds those itself (`hold`): a roster of 50,000 would otherwise lock
   * 50,000 rows to alert about its few hundred changes.
   */
  async resolve(db: Queryable, sourceId: string, inputs: PersonInput[], { holdOwners = true } = {}): Promise<ResolvedPerson[]> {
    const keysOf = inputs.map((input) => this.keys(sourceId, input));
    const created = new Set<string>();
    for (let pass = 1; ; pass++) {
      const resolved = await this.pass(db, inputs, keysOf, created, pass === MAX_PASSES, holdOwners);
      if (!resolved) continue;
      // Persons created in a pass that lost every identifier to a concurrent writer are unused.
      const used = new Set(resolved.map((person) => person.id));
      const unused = [...created].filter((id) => !used.has(id));
      if (unused.length) {
        await db.query(
          `DELETE FROM person p WHERE p.id = ANY($1::uuid[]) AND p.merged_into IS NULL
             AND NOT EXISTS (SELECT 1 FROM person_identifier i WHERE i.person_id = p.id)`,
          [unused],
        );
      }
      return resolved;
    }
  }

  /**
   * One optimistic pass: read who owns the identifiers, decide, write. The unique index on
   * identifiers is the arbiter of new ones: if a concurrent transaction claimed one of ours first
   * (its INSERT wins, ours waits for it and does nothing), the pass reports itself incomplete and
   * the next pass, which now sees that owner, merges accordingly. Known owners are held (see
   * `owners`) so that no merge moves them away before this transaction commits; one that a merge
   * committed while we waited for it is read again from its identifiers, now the survivor's.
   */
  private async pass(
    db: Queryable,
    inputs: PersonInput[],
    keysOf: IdentifierKey[][],
    created: Set<string>,
    last: boolean,
    holdOwners: boolean,
  ): Promise<ResolvedPerson[] | undefined> {
    const allKeys = new Map<string, IdentifierKey>();
    for (const keys of keysOf) for (const key of keys) allKeys.set(identifierKey(key), key);
    const existing = await this.owners(db, [...allKeys.values()], holdOwners);
    if (existing.some((row) => row.mergedInto)) {
      if (last) throw new Error('identity resolution did not settle under concurrent merges');
      return undefined;
    }
    const ownerOfKey = new Map(
      existing.map((row) => [identifierKey({ system: row.system, value: row.value, scope: row.scopeSourceId }), row]),
    );
    const known = new Map(existing.map((row) => [row.personId, row]));

    // Union-find over inputs (0…n-1) and known persons (n…): one component is one person.
    const personIds = [...known.keys()];
    const nodeOfPerson = new Map(personIds.map((id, i) => [id, inputs.length + i]));
    const sets = new UnionFind(inputs.length + personIds.length);
    const firstInputWithKey = new Map<string, number>();
    keysOf.forEach((keys, index) => {
      for (const key of keys) {
        const id = identifierKey(key);
        const owner = ownerOfKey.get(id);
        if (owner) sets.union(index, nodeOfPerson.get(owner.personId)!);
        const first = firstInputWithKey.get(id);
        if (first === undefined) firstInputWithKey.set(id, index);
        else sets.union(index, first);
      }
    });

    const componentPersons = new Map<number, string[]>();
    personIds.forEach((personId, i) => {
      const root = sets.find(inputs.length + i);
      const persons = componentPersons.get(root);
      if (persons) persons.push(personId);
      else componentPersons.set(root, [personId]);
    });
    const personOfRoot = new Map<number, string>();
    const fresh: string[] = [];
    const merges: { survivor: string; losers: string[] }[] = [];
    const latestInput = new Map<string, PersonInput>();
    inputs.forEach((input, index) => {
      const root = sets.find(index);
      let personId = personOfRoot.get(root);
      if (!personId) {
        const persons = (componentPersons.get(root) ?? []).sort(
          (a, b) => known.get(a)!.createdMs - known.get(b)!.createdMs || a.localeCompare(b),
        );
        if (persons.length === 0) {
          personId = randomUUID();
          fresh.push(personId);
          created.add(personId);
        } else {
          personId = persons[0];
          if (persons.length > 1) merges.push({ survivor: personId, losers: persons.slice(1) });
        }
        personOfRoot.set(root, personId);
      }
      latestInput.set(personId, input);
    });

    // New persons and every identifier nobody holds yet, in one statement. Identifiers are sorted, so
    // two transactions claiming overlapping ones wait on each other in one order (no deadlock).
    const newKeys = [...allKeys.entries()].filter(([id]) => !ownerOfKey.has(id)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (newKeys.length) {
      // The newest input for a new person carries its best-known details.
      const rows = fresh.map((id) => ({ id, input: latestInput.get(id)! }));
      const owners = newKeys.map(([id]) => personOfRoot.get(sets.find(firstInputWithKey.get(id)!))!);
      const claimed: { n: number }[] = await db.query(
        namedWhenSmall(
          'vigil_new_persons',
          `WITH persons AS (
           INSERT INTO person (id, first_name, last_name, first_name_key, last_name_key, date_of_birth, country_of_birth)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::text[])
         ), claimed AS (
           INSERT INTO person_identifier (person_id, system, value, scope_source_id)
           SELECT person_id, system, value, scope
           FROM unnest($8::uuid[], $9::text[], $10::text[], $11::uuid[]) WITH ORDINALITY AS v(person_id, system, value, scope, n)
           ORDER BY n
           ON CONFLICT DO NOTHING
           RETURNING 1
         ) SELECT count(*)::int AS n FROM claimed`,
          newKeys.length,
        ),
        [
          rows.map((r) => r.id),
          rows.map((r) => r.input.firstName),
          rows.map((r) => r.input.lastName),
          rows.map((r) => foldName(r.input.firstName)),
          rows.map((r) => foldName(r.input.lastName)),
          rows.map((r) => r.input.dateOfBirth ?? null),
          rows.map((r) => r.input.countryOfBirth ?? null),
          owners,
          newKeys.map(([, k]) => k.system),
          newKeys.map(([, k]) => k.value),
          newKeys.map(([, k]) => k.scope),
        ],
      );
      if (claimed[0].n < newKeys.length) {
        if (last) throw new Error('identity resolution did not settle under concurrent writes');
        return undefined;
      }
    }

    for (const merge of merges) await this.merge(db, merge.survivor, merge.losers);
    // Most records repeat what Vigil holds (a roster names everyone each time): write only what changed.
    await this.refreshDetails(
      db,
      [...latestInput.entries()].filter(([id, input]) => {
        const row = known.get(id);
        return row && detailsDiffer(row, input);
      }),
    );

    const protectedPersons = new Set<string>();
    for (const merge of merges) {
      if ([merge.survivor, ...merge.losers].some((id) => known.get(id)?.protected)) protectedPersons.add(merge.survivor);
    }
    return inputs.map((input, index) => {
      const id = personOfRoot.get(sets.find(index))!;
      const row = known.get(id);
      return {
        id,
        protected: Boolean(row?.protected) || protectedPersons.has(id),
        dateOfBirth: input.dateOfBirth ?? row?.dateOfBirth ?? null,
      };
    });
  }

  /**
   * Who holds these identifiers now. Global and source-scoped keys are looked up apart, so the
   * planner can match on plain equality (IS NOT DISTINCT FROM hid the row count from it and turned a
   * 50,000-key roster into 50,000 index probes). Each owner is locked FOR KEY SHARE, in id order,
   * until commit: the weakest lock, taken by the same statement (no round trip), it lets concurrent
   * events and status changes through and blocks only a merge's FOR UPDATE, so an event cannot be
   * recorded and planned on a person whose registrations a merge is moving away (a missed alert).
   */
  private async owners(db: Queryable, keys: IdentifierKey[], hold: boolean): Promise<ExistingIdentifier[]> {
    const global = keys.filter((k) => k.scope === null);
    const scoped = keys.filter((k) => k.scope !== null);
    return db.query(
      namedWhenSmall(
        hold ? 'vigil_identifier_owners_held' : 'vigil_identifier_owners',
        `SELECT i.system, i.value, i.scope_source_id AS "scopeSourceId", i.person_id AS "personId", p.protected,
              p.date_of_birth::text AS "dateOfBirth", (extract(epoch FROM p.created_at) * 1000)::float8 AS "createdMs",
              p.first_name AS "firstName", p.last_name AS "lastName", p.country_of_birth AS "countryOfBirth", p.merged_into AS "mergedInto"
       FROM (SELECT i.* FROM unnest($1::text[], $2::text[]) AS k(system, value)
             JOIN person_identifier i ON i.system = k.system AND i.value = k.value AND i.scope_source_id IS NULL
             UNION ALL
             SELECT i.* FROM unnest($3::text[], $4::text[], $5::uuid[]) AS k(system, value, scope)
             JOIN person_identifier i ON i.system = k.system AND i.value = k.value AND i.scope_source_id = k.scope) i
       JOIN person p ON p.id = i.person_id
       ${hold ? 'ORDER BY p.id FOR KEY SHARE OF p' : ''}`,
        keys.length,
      ),
      [
        global.map((k) => k.system),
        global.map((k) => k.value),
        scoped.map((k) => k.system),
        scoped.map((k) => k.value),
        scoped.map((k) => k.scope),
      ],
    );
  }

  private keys(sourceId: string, input: PersonInput): IdentifierKey[] {
    return input.identifiers.map(({ system, value }) => ({
      system,
      value: normalizeIdentifierValue(value),
      scope: this.globalSystems.has(system) ? null : sourceId,
    }));
  }

  /** Names and birth details follow the newest record; only rows that differ are written. */
  private async refreshDetails(db: Queryable, updates: [string, PersonInput][]): Promise<void> {
    if (!updates.length) return;
    await db.query(
      `UPDATE person p SET first_name = v.first_name, last_name = v.last_name, first_name_key = v.first_key, last_name_key = v.last_key,
              date_of_birth = coalesce(v.dob, p.date_of_birth), country_of_birth = coalesce(v.country, p.country_of_birth), updated_at = now()
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::text[])
            AS v(id, first_name, last_name, first_key, last_key, dob, country)
       WHERE p.id = v.id
         AND (p.first_name, p.last_name, coalesce(v.dob, p.date_of_birth), coalesce(v.country, p.country_of_birth))
             IS DISTINCT FROM (v.first_name, v.last_name, p.date_of_birth, p.country_of_birth)`,
      [
        updates.map(([id]) => id),
        updates.map(([, i]) => i.firstName),
        updates.map(([, i]) => i.lastName),
        updates.map(([, i]) => foldName(i.firstName)),
        updates.map(([, i]) => foldName(i.lastName)),
        updates.map(([, i]) => i.dateOfBirth ?? null),
        updates.map(([, i]) => i.countryOfBirth ?? null),
      ],
    );
  }

  /**
   * Holds persons read without `holdOwners` (FOR KEY SHARE, in id order) until commit, before
   * events are recorded about them. One that a merge has joined to another since it was read fails
   * the transaction as a serialization conflict, so it runs again (retryingTransaction) and reads
   * the survivor instead.
   */
  async hold(db: Queryable, personIds: string[]): Promise<void> {
    if (!personIds.length) return;
    const rows: { mergedInto: string | null }[] = await db.query(
      `SELECT merged_into AS "mergedInto" FROM person WHERE id = ANY($1::uuid[]) ORDER BY id FOR KEY SHARE`,
      [personIds],
    );
    if (rows.some((row) => row.mergedInto)) throw new ConcurrentMerge();
  }

  /**
   * Everything that points at a merged person moves to the survivor: every foreign key to
   * person(id) is found in the catalogue, so tables added later (registrations) follow too.
   */
  private async merge(db: Queryable, survivor: string, losers: string[]): Promise<void> {
    // Waits for every transaction still recording events on these persons (they hold them FOR KEY
    // SHARE), so what they wrote is committed and moves with the rest; later ones wait for this one.
    const locked: { mergedInto: string | null }[] = await db.query(
      `SELECT merged_into AS "mergedInto" FROM person WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      [[survivor, ...losers]],
    );
    // Only when read unheld (holdOwners: false): another merge got there first; decide again from the start.
    if (locked.some((row) => row.mergedInto)) throw new ConcurrentMerge();
    // Cached once read; a failed read is forgotten, so one lost connection does not fail every later merge.
    const references = (this.personReferences ??= db
      .query<{ table: string; column: string }[]>(
        `SELECT c.conrelid::regclass::text AS table, a.attname AS column
         FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
         WHERE c.contype = 'f' AND c.confrelid = 'person'::regclass AND NOT (c.conrelid = 'person'::regclass)`,
      )
      .catch((error: unknown) => {
        this.personReferences = undefined;
        throw error;
      }));
    for (const { table, column } of await references) {
      await db.query(`UPDATE ${quoteIdent(table)} SET ${quoteIdent(column)} = $1 WHERE ${quoteIdent(column)} = ANY($2::uuid[])`, [
        survivor,
        losers,
      ]);
    }
    await db.query(`UPDATE person SET merged_into = $1, updated_at = now() WHERE id = ANY($2::uuid[]) OR merged_into = ANY($2::uuid[])`, [
      survivor,
      losers,
    ]);
    await db.query(
      `UPDATE person SET protected = true, protection_reason = coalesce(protection_reason, 'inherited from a merged record')
       WHERE id = $1 AND NOT protected AND EXISTS (SELECT 1 FROM person WHERE id = ANY($2::uuid[]) AND protected)`,
      [survivor, losers],
    );
    await this.status.recompute(db, [survivor]);
    this.logger.log({ survivor, merged: losers.length }, 'merged person records that share an identifier');
  }
}

/** A person read for this transaction was merged away meanwhile: SQLSTATE 40001, so the transaction runs again. */
class ConcurrentMerge extends Error {
  readonly code = '40001';

  constructor() {
    super('a person read by this transaction was merged into another meanwhile');
  }
}

function detailsDiffer(row: ExistingIdentifier, input: PersonInput): boolean {
  return (
    row.firstName !== input.firstName ||
    row.lastName !== input.lastName ||
    (input.dateOfBirth !== undefined && input.dateOfBirth !== row.dateOfBirth) ||
    (input.countryOfBirth !== undefined && input.countryOfBirth !== row.countryOfBirth)
  );
}

function quoteIdent(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}

class UnionFind {
  private readonly parent: Int32Array;

  constructor(size: number) {
    this.parent = Int32Array.from({ length: size }, (_, i) => i);
  }

  find(node: number): number {
    let root = node;
    while (this.parent[root] !== root) root = this.parent[root];
    for (let current = node; current !== root;) {
      const next = this.parent[current];
      this.parent[current] = root;
      current = next;
    }
    return root;
  }

  union(a: number, b: number): void {
    const rootA = this.find(a);
    const rootB = this.find(b);
    if (rootA !== rootB) this.parent[rootB] = rootA;
  }
}
