import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { AppConfig } from '../config/app-config.js';
import { PeopleQueryDto } from '../people/people.dto.js';
import type { SearchMessages } from '../i18n/search.js';
import { textField } from './form-input.js';
import type { FieldProblem } from './pages.js';

const SEARCH_FIELDS = ['identifierSystem', 'identifier', 'lastName', 'firstName', 'dateOfBirth'] as const;
export type SearchForm = Record<(typeof SEARCH_FIELDS)[number], string>;

export function emptySearch(): SearchForm {
  return { identifierSystem: 'A_NUMBER', identifier: '', lastName: '', firstName: '', dateOfBirth: '' };
}

/**
 * A person search as a page's query string asks it (the victim's search and the console's enrolment
 * search): the identifier, when given, is the precise search; otherwise the names. The API's
 * `PeopleQueryDto` rules, each mistake on its field.
 */
export async function readPersonSearch(
  source: unknown,
  t: SearchMessages,
): Promise<{ form: SearchForm; query: PeopleQueryDto; problems: FieldProblem[] }> {
  const form = Object.fromEntries(SEARCH_FIELDS.map((name) => [name, textField(source, name, 200)])) as SearchForm;
  const plain: Partial<SearchForm> = form.identifier
    ? { identifierSystem: form.identifierSystem, identifier: form.identifier }
    : { lastName: form.lastName, firstName: form.firstName, ...(form.dateOfBirth ? { dateOfBirth: form.dateOfBirth } : {}) };
  const problems: FieldProblem[] = [];
  const refuse = (field: keyof SearchMessages['errors']) => {
    const at = field === 'criteria' ? 'identifier' : field;
    if (!problems.some((p) => p.field === at)) problems.push({ field: at, message: t.errors[field] });
  };
  if (!form.identifier && !form.lastName && !form.firstName) refuse('criteria');
  else {
    if (!form.identifier && !form.lastName) refuse('lastName');
    if (!form.identifier && !form.firstName) refuse('firstName');
    for (const error of await validate(plainToInstance(PeopleQueryDto, plain), { forbidUnknownValues: false })) {
      if (error.property in t.errors) refuse(error.property as keyof SearchMessages['errors']);
    }
  }
  return { form, query: plainToInstance(PeopleQueryDto, plain), problems };
}

/** The identifier systems a search form offers: the configured ones and the ones the catalog names. */
export function identifierSystemOptions(config: AppConfig, t: SearchMessages): { value: string; label: string }[] {
  const systems = [...new Set([...config.globalIdentifierSystems, ...Object.keys(t.identifierSystems)])];
  return systems.map((value) => ({ value, label: t.identifierSystems[value] ?? value.replaceAll('_', ' ') }));
}
