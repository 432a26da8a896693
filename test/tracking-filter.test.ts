import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../src/core/errors.js';
import { FileStore } from '../src/tracking/file-store.js';
import { matches, parseFilter, type AttributeName, type RunFields } from '../src/tracking/filter.js';
import { compareRuns, parseOrderBy } from '../src/tracking/order-by.js';
import { tempDir } from './helpers.js';

interface Data {
  metrics?: Record<string, number>;
  params?: Record<string, string>;
  tags?: Record<string, string>;
  attributes?: Partial<Record<AttributeName, string | number | null>>;
  datasets?: { name: string; digest: string; context: string }[];
}

// Runs as plain data: the grammar is a pure function of what a run answers.
function fields(data: Data): RunFields {
  return {
    metric: (k) => data.metrics?.[k],
    param: (k) => data.params?.[k],
    tag: (k) => data.tags?.[k],
    attribute: (name) => data.attributes?.[name] ?? null,
    datasets: (key) => (data.datasets ?? []).map((d) => d[key]),
  };
}

const run = fields({
  metrics: { f1: 0.92, 'train/loss': 0.1, 'f1 score': 0.5, nan_metric: NaN },
  params: { max_depth: '10', criterion: 'Gini', 'odd key': 'x' },
  tags: { 'mlops.stage': 'train', 'mlflow.note': "it's" },
  attributes: { run_id: 'abc123', run_name: 'train-1', status: 'FINISHED', start_time: 1000, end_time: null, user_id: 'ana', artifact_uri: 'file:///m/1/abc123/artifacts' },
  datasets: [{ name: 'train', digest: 'd1', context: 'training' }, { name: 'test', digest: 'd2', context: 'eval' }],
});

function check(filter: string, expected: boolean): void {
  const expr = parseFilter(filter);
  assert.ok(expr, filter);
  assert.equal(matches(expr, run), expected, filter);
}

test('metrics compare numerically with every operator', () => {
  for (const [op, yes] of [['>', true], ['>=', true], ['=', false], ['!=', true], ['<', false], ['<=', false]] as const) {
    check(`metrics.f1 ${op} 0.9`, yes);
  }
  check('metrics.f1 = 0.92', true);
  check('metric.f1 >= 9.2e-1', true);
  check('metrics.f1 > -1', true);
  check('metrics.train/loss < 0.2', true);
  check('metrics.missing > 0', false);
  check('metrics.missing != 1', false); // a run without the key never matches, as in MLflow
  check('metrics.nan_metric > 0', false);
});

test('params and tags: = != LIKE ILIKE with quoted strings', () => {
  check("params.max_depth = '10'", true);
  check('params.max_depth = "10"', true);
  check("params.max_depth != '10'", false);
  check("param.criterion LIKE 'G%'", true);
  check("params.criterion LIKE 'g%'", false);
  check("params.criterion ILIKE 'g%'", true);
  check("params.criterion LIKE 'Gin_'", true);
  check("params.criterion LIKE 'Gi_'", false);
  check("params.criterion LIKE '%i%i%'", true);
  check("tags.mlops.stage = 'train'", true);
  check("tag.`mlflow.note` = 'it''s'", true);
  check("params.missing != 'x'", false);
  check("params.max_depth LIKE '1.'", false); // '.' is literal, not a regex wildcard
});

test('attributes: run_id (with IN / NOT IN), run_name, status, start_time, end_time', () => {
  check("attributes.run_id = 'abc123'", true);
  check("attributes.run_id IN ('x', 'abc123')", true);
  check("attributes.run_id NOT IN ('x', 'abc123')", false);
  check("attr.run_name LIKE 'train-%'", true);
  check("attributes.status = 'FINISHED'", true);
  check("attributes.status != 'RUNNING'", true);
  check('attributes.start_time >= 1000', true);
  check('attributes.start_time < 1000', false);
  check('attributes.end_time > 0', false); // still null
});

test('backticks and double quotes quote odd key names', () => {
  check('metrics.`f1 score` = 0.5', true);
  check('metrics."f1 score" < 1', true);
  check("params.`odd key` = 'x'", true);
});

test('AND binds tighter than OR; parentheses group; keywords in any case', () => {
  check("metrics.f1 > 0.95 or params.max_depth = '10'", true);
  check("metrics.f1 > 0.95 OR params.max_depth = '10' AND tags.mlops.stage = 'eval'", false);
  check("(metrics.f1 > 0.95 OR params.max_depth = '10') AnD tags.mlops.stage = 'train'", true);
  check("metrics.f1 > 0.95 or (params.max_depth = '10' and tags.mlops.stage = 'eval')", false);
  check("((metrics.f1 > 0.9))", true);
  assert.equal(parseFilter('   '), undefined, 'an empty filter matches everything');
});

function rejects(filter: string, message: RegExp): void {
  assert.throws(() => parseFilter(filter), (error: unknown) => error instanceof UsageError && error.kind === 'invalid' && message.test(error.message), filter);
}

test("MLflow's other attribute names: unprefixed, user_id, artifact_uri, created; datasets by name, digest, context", () => {
  check("status = 'FINISHED'", true);
  check("run_name LIKE 'train-%' and start_time >= 1000", true);
  check("user_id = 'ana'", true);
  check("attributes.user_id != 'ana'", false);
  check("artifact_uri LIKE '%/abc123/artifacts'", true);
  check('created = 1000', true);
  check('attributes.created > 1000', false);
  check("datasets.name = 'test'", true);
  check("datasets.digest IN ('x', 'd1')", true);
  check("datasets.context NOT IN ('training', 'eval')", false);
  check("datasets.name LIKE 'val%'", false);
  assert.deepEqual(parseOrderBy(['created DESC', 'status']).map((k) => [k.entity.key, k.ascending]), [['start_time', false], ['status', true]]);
});

test('a malformed filter is a usage error naming the column and the offending token', () => {
  rejects('metrics.f1 >', /at the end: expected a number/);
  rejects("metrics.f1 > '0.9'", /column 14 \("'0\.9'"\): expected a number to compare metrics\.f1/);
  rejects('params.max_depth = 10', /column 20 \("10"\): expected a quoted string/);
  rejects("params.max_depth > '10'", /column 18 \(">"\): params\.max_depth is a string: use =, !=, LIKE or ILIKE/);
  rejects("metrics.f1 LIKE '0%'", /column 12 \("LIKE"\): expected a comparison operator \(>, >=, =, !=, <, <=\)/);
  rejects('metrcs.f1 > 1', /column 1 \("metrcs\.f1"\): unknown prefix 'metrcs\.' \(did you mean 'metrics\.'\?\)/);
  rejects("stauts = 'FINISHED'", /column 1 \("stauts"\): expected metrics\.<key>, params\.<key>, tags\.<key>, datasets\.<key> or an attribute/);
  rejects("datasets.colour = 'x'", /unknown dataset key 'colour'; known: name, digest, context/);
  rejects("attributes.stauts = 'x'", /unknown attribute 'stauts' \(did you mean 'status'\?\)/);
  rejects("metrics.f1 > 0.9 params.x = '1'", /column 18 \("params\.x"\): expected AND, OR or the end/);
  rejects('metrics.f1 > 0.9 and', /at the end: expected metrics\.<key>/);
  rejects('(metrics.f1 > 0.9', /at the end: expected '\)'/);
  rejects("params.x = 'open", /column 12 \("'open"\): unterminated string/);
  rejects('metrics.f1 > 0.9 & x', /column 18 \("&"\): unexpected character/);
  rejects("params.x IN ('a')", /column 10 \("IN"\): expected a comparison operator \(=, !=, LIKE, ILIKE\) after params\.x/);
  rejects("attributes.run_id IN ('a' 'b')", /column 27 \("'b'"\): expected ',' or '\)'/);
});

test('order-by: NaN after every real value and before runs without the metric, in either direction', () => {
  const runs = [
    fields({ metrics: { f1: NaN }, attributes: { run_id: 'nan', start_time: 1 } }),
    fields({ attributes: { run_id: 'none', start_time: 2 } }),
    fields({ metrics: { f1: 0.5 }, attributes: { run_id: 'half', start_time: 3 } }),
    fields({ metrics: { f1: 0.9 }, attributes: { run_id: 'high', start_time: 4 } }),
  ];
  const ids = (order: string[]) => [...runs].sort(compareRuns(parseOrderBy(order))).map((r) => r.attribute('run_id'));
  assert.deepEqual(ids(['metrics.f1']), ['half', 'high', 'nan', 'none']);
  assert.deepEqual(ids(['metrics.f1 DESC']), ['high', 'half', 'nan', 'none']);
});

test('order-by: several keys, ASC by default, missing values last, ties newest first', () => {
  const runs = [
    fields({ metrics: { f1: 0.8 }, params: { d: '5' }, attributes: { run_id: 'a', start_time: 1 } }),
    fields({ metrics: { f1: 0.9 }, params: { d: '5' }, attributes: { run_id: 'b', start_time: 2 } }),
    fields({ params: { d: '1' }, attributes: { run_id: 'c', start_time: 3 } }),
    fields({ metrics: { f1: 0.9 }, params: { d: '9' }, attributes: { run_id: 'd', start_time: 4 } }),
  ];
  const ids = (order: string[]) => [...runs].sort(compareRuns(parseOrderBy(order))).map((r) => r.attribute('run_id'));
  assert.deepEqual(ids(['metrics.f1 DESC']), ['d', 'b', 'a', 'c']);
  assert.deepEqual(ids(['metrics.f1']), ['a', 'd', 'b', 'c']);
  assert.deepEqual(ids(['metrics.f1 DESC, params.d ASC']), ['b', 'd', 'a', 'c']);
  assert.deepEqual(ids(['params.d desc', 'attributes.start_time']), ['d', 'a', 'b', 'c']);
  assert.deepEqual(ids([]), ['d', 'c', 'b', 'a']);
  assert.throws(() => parseOrderBy(['metrics.f1 DOWN']), /invalid order-by at column 12 \("DOWN"\): expected ASC, DESC/);
  assert.throws(() => parseOrderBy(['metrics.f1,']), /invalid order-by at the end: expected a key after the comma/);
});

test('search through the folder store: filter, IN on run ids, order and max', async (t) => {
  const store = new FileStore(join(tempDir(t), 'mlruns'));
  const experimentId = await store.getOrCreateExperiment('Default');
  const ids: string[] = [];
  for (const [i, depth] of ['5', '10', '10', '20'].entries()) {
    const info = await store.createRun({ experimentId, runName: `r${i}`, userId: 'u', startTime: 1000 + i });
    await store.logParams(info.run_id, { max_depth: depth });
    await store.logMetrics(info.run_id, [{ key: 'f1_macro', value: 0.85 + i * 0.03, step: 0, timestamp: 1 }]);
    ids.push(info.run_id);
  }
  const search = async (filter: string, orderBy: string[] = [], maxResults?: number) =>
    (await store.searchRuns({ experimentIds: [experimentId], filter, orderBy, maxResults })).runs.map((r) => r.info.run_name);
  assert.deepEqual(await search("metrics.f1_macro > 0.9 and params.max_depth = '10'"), ['r2']);
  assert.deepEqual(await search("params.max_depth = '10' or params.max_depth = '20'", ['metrics.f1_macro DESC']), ['r3', 'r2', 'r1']);
  assert.deepEqual(await search(`attributes.run_id IN ('${ids[0]}', '${ids[3]}')`), ['r3', 'r0']);
  assert.deepEqual(await search('', ['metrics.f1_macro'], 2), ['r0', 'r1']);
  assert.deepEqual(await search("attributes.run_name LIKE 'r_'", ['attributes.start_time DESC'], 1), ['r3']);
});

test('LIKE is matched in linear time: a pattern of many % on a long value answers at once (issue 9.14)', () => {
  const long = fields({ params: { note: 'a'.repeat(3000) } });
  const verdict = (filter: string) => matches(parseFilter(filter)!, long);
  // A backtracking regular expression takes hours on these; the wildcard walk is O(pattern x value).
  assert.equal(verdict("params.note LIKE '%a%a%a%a%a%a%b'"), false);
  assert.equal(verdict("params.note ILIKE '%A%A%A%A%A%A%'"), true);
  assert.equal(verdict("params.note LIKE '_%a_'"), true);
});

test('LIKE semantics: % any run (also empty), _ one character, everything else literal', () => {
  const cases: [string, string, boolean][] = [
    ['', '', true], ['', '%', true], ['a', '', false], ['abc', 'a%c', true], ['ac', 'a%c', true], ['abcbc', '%bc', true],
    ['abcb', '%bc', false], ['a.c', 'a.c', true], ['abc', 'a.c', false], ['a%c', 'a_c', true], ['ab', '_', false], ['aXbXc', 'a%b%c', true],
    ['mississippi', 'm%iss%pi', true], ['mississippi', 'm%iss%pix', false], ['€x', '_x', true],
  ];
  for (const [value, pattern, expected] of cases) {
    assert.equal(matches(parseFilter(`params.v LIKE '${pattern}'`)!, fields({ params: { v: value } })), expected, `${value} LIKE ${pattern}`);
  }
});

test('parentheses nested too deep: one usage error, not a RangeError (issue 9.14)', () => {
  rejects(`${'('.repeat(3000)}metrics.f1 > 0${')'.repeat(3000)}`, /column 101 \("\("\): parentheses nested more than 100 deep/);
  assert.ok(parseFilter(`${'('.repeat(100)}metrics.f1 > 0${')'.repeat(100)}`));
});
