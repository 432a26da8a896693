import assert from 'node:assert/strict';
import { test } from 'node:test';
import { predictionBackend } from '../src/predictions/open.js';
import { tempDir } from './helpers.js';
import { predictionLogContract } from './prediction-log-contract.js';
import { postgresDatabase } from './postgres.js';

// The PostgreSQL prediction log (predictions.uri = postgresql://...): the same contract as SQLite,
// each test in a database of its own, dropped after.

predictionLogContract('postgresql', async (t) => {
  const uri = await postgresDatabase(t, 'predictions');
  if (uri === undefined) return predictionBackend('sqlite:///unused.db', tempDir(t)); // skipped: no server
  return predictionBackend(uri, tempDir(t));
});

test('postgresql: a URI that is not a database is refused with the forms it takes', () => {
  assert.throws(() => predictionBackend('s3://bucket/log', '/proj'), /prediction log URI 's3:\/\/bucket\/log': expected a SQLite file path, sqlite:\/\/\/path or postgresql:/);
});
