/**
 * The failure converter of the encrypted data converter (src/temporal/data-converter.ts), in a file of its own
 * because the Temporal SDK loads it by path twice: `require()`d by the worker and the client, and bundled into the
 * workflow sandbox by webpack. It is CommonJS on purpose: plain `require()` (no TypeScript loader, no ESM) is the
 * one form that works in all three places, under tsx, jest and webpack alike.
 *
 * encodeCommonAttributes moves a failure's message and stack trace into a payload (`encodedAttributes`), so the
 * payload codec encrypts them; the plain `message` field then only says "Encoded failure".
 */
'use strict';
const { DefaultFailureConverter } = require('@temporalio/common');

/** Found in a workflow bundle that was built with this file (see bundleHasEncryptedFailureConverter). */
const ENCRYPTED_FAILURE_CONVERTER_MARKER = 'pulse-runbooks:encrypted-failure-converter:v1';

const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
failureConverter.marker = ENCRYPTED_FAILURE_CONVERTER_MARKER;

module.exports = { failureConverter, ENCRYPTED_FAILURE_CONVERTER_MARKER };
