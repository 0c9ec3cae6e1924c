/**
 * X.509 helpers: thumbprints, CN read from the DER, PEM/base64 text, validity with skew, and
 * chain building's outcome for each way a chain can fail.
 */

import { beforeAll, describe, expect, test } from 'bun:test';
import type { X509Certificate } from 'node:crypto';
import { issueTestCertificate, type TestCertificate } from '../testing/test-certificates.ts';
import {
  buildChain,
  certificateDersFromText,
  isWithinValidity,
  matchesThumbprint,
  MAX_CHAIN_LENGTH,
  parseDerCertificate,
  subjectCommonNames,
  subjectText,
  thumbprintsOf,
  toPem,
} from './x509.ts';

const NOW = Date.UTC(2026, 0, 1);
const HOUR_MS = 3600_000;
const valid = { notBeforeMs: NOW - HOUR_MS, notAfterMs: NOW + 24 * HOUR_MS };
const parsed = (certificate: TestCertificate): X509Certificate => parseDerCertificate(certificate.der)!;
const anchor = (certificate: TestCertificate) => ({ certificate: parsed(certificate), label: certificate.subjectName.toString() });

let root: TestCertificate;
let intermediate: TestCertificate;
let leaf: TestCertificate;

beforeAll(async () => {
  root = await issueTestCertificate({ commonName: 'Root', isCa: true, ...valid });
  intermediate = await issueTestCertificate({ commonName: 'Intermediate', isCa: true, issuer: root, ...valid });
  leaf = await issueTestCertificate({ commonName: 'device-1', issuer: intermediate, ...valid });
});

describe('certificate facts', () => {
  test('thumbprints are the SHA-1 and SHA-256 of the DER in uppercase hex', () => {
    expect(thumbprintsOf(parsed(leaf))).toEqual({ sha1: leaf.sha1, sha256: leaf.sha256 });
  });

  test('a thumbprint matches in any case and with colons', () => {
    const thumbprints = thumbprintsOf(parsed(leaf));
    expect(matchesThumbprint(thumbprints, leaf.sha1.toLowerCase())).toBe(true);
    expect(matchesThumbprint(thumbprints, leaf.sha256.match(/../g)!.join(':'))).toBe(true);
    expect(matchesThumbprint(thumbprints, root.sha1)).toBe(false);
    expect(matchesThumbprint(thumbprints, null)).toBe(false);
  });

  test('the subject CN is read from the DER, with characters a subject string would escape', async () => {
    expect(subjectCommonNames(parsed(leaf))).toEqual(['device-1']);
    for (const name of ['a,b=c+d é', 'x"y']) {
      const odd = await issueTestCertificate({ commonName: name, ...valid });
      expect(subjectCommonNames(parsed(odd))).toEqual([name]);
    }
    expect(subjectText(parsed(leaf))).toBe('CN=device-1');
  });

  test('validity is widened by the skew on both sides', () => {
    const certificate = parsed(leaf);
    expect(isWithinValidity(certificate, NOW)).toBe(true);
    expect(isWithinValidity(certificate, valid.notAfterMs + 1000)).toBe(false);
    expect(isWithinValidity(certificate, valid.notAfterMs + 1000, 5000)).toBe(true);
    expect(isWithinValidity(certificate, valid.notBeforeMs - 1000, 5000)).toBe(true);
    expect(isWithinValidity(certificate, valid.notBeforeMs - 10_000, 5000)).toBe(false);
  });

  test('certificates are read from PEM blocks, one base64 DER, or base64 of PEM', () => {
    const pems = `${root.pem}\n${leaf.pem}`;
    expect(certificateDersFromText(pems).map((der) => Buffer.from(der).toString('hex'))).toEqual(
      [root.der, leaf.der].map((der) => Buffer.from(der).toString('hex')),
    );
    expect(certificateDersFromText(Buffer.from(leaf.der).toString('base64'))).toHaveLength(1);
    const base64OfPem = certificateDersFromText(Buffer.from(leaf.pem).toString('base64'));
    expect(base64OfPem.map((der) => Buffer.from(der).toString('hex'))).toEqual([Buffer.from(leaf.der).toString('hex')]);
    expect(certificateDersFromText('not a certificate')).toEqual([]);
    expect(toPem(parsed(leaf)).replace(/\s/g, '')).toBe(leaf.pem.replace(/\s/g, ''));
  });

  test('bytes that are not a certificate parse to undefined', () => {
    expect(parseDerCertificate(new Uint8Array([1, 2, 3]))).toBeUndefined();
  });
});

describe('buildChain', () => {
  test('links the leaf through intermediates in any order to an anchor', () => {
    const result = buildChain(parsed(leaf), [parsed(root), parsed(intermediate)], [anchor(root)], NOW);
    expect(result.isTrusted && result.anchor.label).toBe('CN=Root');
  });

  test('an anchored intermediate needs no root', () => {
    expect(buildChain(parsed(leaf), [], [anchor(intermediate)], NOW).isTrusted).toBe(true);
  });

  test('a missing link is no-issuer', () => {
    expect(buildChain(parsed(leaf), [], [anchor(root)], NOW)).toEqual({ isTrusted: false, failure: 'no-issuer' });
  });

  test('a certificate signed with a key other than its named issuer is bad-signature', async () => {
    const impostor = await issueTestCertificate({ commonName: 'Impostor', isCa: true, ...valid });
    const forged = await issueTestCertificate({ commonName: 'device-1', issuer: root, forgeWithKeys: impostor.keys, ...valid });
    expect(buildChain(parsed(forged), [], [anchor(root)], NOW)).toEqual({ isTrusted: false, failure: 'bad-signature' });
  });

  test('an issuer without CA:true is issuer-not-ca, an expired one issuer-expired', async () => {
    const notCa = await issueTestCertificate({ commonName: 'Plain', issuer: root, ...valid });
    const child = await issueTestCertificate({ commonName: 'device-1', issuer: notCa, ...valid });
    expect(buildChain(parsed(child), [parsed(notCa)], [anchor(root)], NOW)).toEqual({ isTrusted: false, failure: 'issuer-not-ca' });
    const expiredRoot = await issueTestCertificate({ commonName: 'Expired Root', isCa: true, notBeforeMs: NOW - 48 * HOUR_MS, notAfterMs: NOW - 24 * HOUR_MS });
    const orphan = await issueTestCertificate({ commonName: 'device-1', issuer: expiredRoot, ...valid });
    expect(buildChain(parsed(orphan), [], [anchor(expiredRoot)], NOW)).toEqual({ isTrusted: false, failure: 'issuer-expired' });
  });

  test(`a chain longer than ${MAX_CHAIN_LENGTH} certificates is too-long`, async () => {
    const chain = [root];
    for (let i = 0; i < MAX_CHAIN_LENGTH; i++) {
      chain.push(await issueTestCertificate({ commonName: `Level ${i}`, isCa: true, issuer: chain.at(-1)!, ...valid }));
    }
    const deep = await issueTestCertificate({ commonName: 'device-1', issuer: chain.at(-1)!, ...valid });
    const intermediates = chain.slice(1).map(parsed);
    expect(buildChain(parsed(deep), intermediates, [anchor(root)], NOW)).toEqual({ isTrusted: false, failure: 'too-long' });
    expect(buildChain(parsed(deep), intermediates.slice(1), [anchor(chain[1]!)], NOW).isTrusted).toBe(true);
  });
});
