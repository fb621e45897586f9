import { describe, expect, it } from 'vitest';
import {
  displayNameFrom,
  emailFrom,
  identityFromClaims,
  principalNameFrom,
  realmOf,
  safeReturnTo,
} from '../../src/domain/identity.js';

const FEIDE = 'https://n.feide.no/claims/eduPersonPrincipalName';

describe('principalNameFrom', () => {
  it("reads Feide's claim, bare or namespaced, lower-cased", () => {
    expect(principalNameFrom({ [FEIDE]: 'Ola@UiO.no' })).toBe('ola@uio.no');
    expect(principalNameFrom({ [FEIDE]: 'feide:ola@uio.no' })).toBe('ola@uio.no');
  });

  it('falls back to eduPersonPrincipalName, upn and Feide secondary ids, in that order', () => {
    expect(principalNameFrom({ eduPersonPrincipalName: 'a@uib.no', upn: 'b@uib.no' })).toBe('a@uib.no');
    expect(principalNameFrom({ upn: 'b@ntnu.no' })).toBe('b@ntnu.no');
    expect(principalNameFrom({ 'https://n.feide.no/claims/userid_sec': ['nin:123', 'feide:c@uit.no'] })).toBe(
      'c@uit.no',
    );
    expect(principalNameFrom({ 'dataporten-userid_sec': ['feide:d@uio.no'] })).toBe('d@uio.no');
  });

  it('ignores preferred_username, malformed values and non-Feide secondary ids', () => {
    expect(principalNameFrom({ preferred_username: 'ola@uio.no' })).toBeNull();
    expect(principalNameFrom({ [FEIDE]: 'not an id' })).toBeNull();
    expect(principalNameFrom({ [FEIDE]: 'a@b@uio.no' })).toBeNull();
    expect(principalNameFrom({ [FEIDE]: 42 })).toBeNull();
    expect(principalNameFrom({ 'https://n.feide.no/claims/userid_sec': ['nin:01010112345'] })).toBeNull();
    expect(principalNameFrom({})).toBeNull();
  });
});

describe('realmOf', () => {
  it('is the lower-cased part after @, or null', () => {
    expect(realmOf('ola@UiO.no')).toBe('uio.no');
    expect(realmOf('ola@student.uib.no')).toBe('student.uib.no');
    expect(realmOf('ola')).toBeNull();
    expect(realmOf('ola@localhost')).toBeNull();
  });
});

describe('names and addresses', () => {
  it('makes one clean line of the name', () => {
    expect(displayNameFrom({ name: '  Kari\r\nNordmann ' })).toBe('Kari Nordmann');
    expect(displayNameFrom({ given_name: 'Kari', family_name: 'Nordmann' })).toBe('Kari Nordmann');
    expect(displayNameFrom({ name: '   ' })).toBeUndefined();
    expect(displayNameFrom({ name: 'x'.repeat(500) })?.length).toBe(200);
  });

  it('lower-cases e-mail and drops what is not an address', () => {
    expect(emailFrom({ email: ' Kari@UiB.no ' })).toBe('kari@uib.no');
    expect(emailFrom({ email: 'nope' })).toBeUndefined();
    expect(emailFrom({})).toBeUndefined();
  });

  it('needs iss and sub', () => {
    expect(identityFromClaims({ iss: 'https://op', sub: 's', [FEIDE]: 'a@uio.no' })).toEqual({
      issuer: 'https://op',
      subject: 's',
      displayName: undefined,
      principalName: 'a@uio.no',
      email: undefined,
    });
    expect(() => identityFromClaims({ iss: 'https://op' })).toThrow();
  });
});

describe('safeReturnTo', () => {
  it('keeps paths on this site', () => {
    expect(safeReturnTo('/')).toBe('/');
    expect(safeReturnTo('/kanaler/bott-sa?x=1#top')).toBe('/kanaler/bott-sa?x=1#top');
  });

  it('sends everything else home', () => {
    for (const raw of [
      undefined,
      '',
      '//evil.example',
      '///evil.example',
      'https://evil.example',
      'http:/evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      '/\t/evil.example',
      'javascript:alert(1)',
      'kanaler',
      '/auth/login',
      '/auth/callback?code=x',
      `/${'a'.repeat(2001)}`,
      ['/a'],
    ]) {
      expect(safeReturnTo(raw), String(raw)).toBe('/');
    }
  });
});
