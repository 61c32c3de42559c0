import { describe, expect, it } from 'vitest';
import { counterpartOf, isPagePath, pageAddressOf, preferredLang, victimLangOf } from './page-paths.js';

describe('#13 page addresses', () => {
  it('#13 the counterpart keeps the page and its query, never a manage token', () => {
    expect(counterpartOf('/en/search?lastName=Doe&firstName=J', 'es')).toBe('/es/search?lastName=Doe&firstName=J');
    expect(counterpartOf('/es/manage?token=vmt_secret', 'en')).toBe('/en/manage');
    expect(counterpartOf('/en', 'es')).toBe('/es/');
  });

  it('#13 a page answering a form’s POST switches language to the page the form is on, never to a POST-only address', () => {
    expect(pageAddressOf('POST', '/en/manage/quiet-hours')).toBe('/en/manage');
    expect(pageAddressOf('POST', '/es/verify/resend')).toBe('/es/verify');
    expect(pageAddressOf('POST', '/es/verify')).toBe('/es/verify');
    expect(pageAddressOf('POST', '/en/manage/stop')).toBe('/en/');
    expect(pageAddressOf('POST', '/en/people/3f1c7d2e-0000-4000-8000-000000000000/register')).toBe(
      '/en/people/3f1c7d2e-0000-4000-8000-000000000000/register',
    );
    expect(pageAddressOf('POST', '/console/sources/3f1c7d2e-0000-4000-8000-000000000000/keys')).toBe('/console/sources');
    expect(pageAddressOf('POST', '/console/staff/3f1c7d2e-0000-4000-8000-000000000000/password')).toBe('/console/staff');
    expect(pageAddressOf('POST', '/console/staff')).toBe('/console/staff');
    expect(pageAddressOf('GET', '/en/search?x=1')).toBe('/en/search?x=1');
  });

  it('#13 Accept-Language picks by q-value, then order; any other language is English', () => {
    expect(preferredLang('fr;q=1, es;q=0.5, en;q=0.4')).toBe('es');
    expect(preferredLang('es;q=0, en')).toBe('en');
    expect(preferredLang('pt-BR')).toBe('en');
    expect(preferredLang(undefined)).toBe('en');
  });

  it('#13 page paths: victim languages, the console and the root; the API is not a page', () => {
    expect(victimLangOf('/ES/help')).toBe('es');
    expect(isPagePath('/console/login')).toBe(true);
    expect(isPagePath('/v1/people')).toBe(false);
    expect(isPagePath('/english')).toBe(false);
  });
});
