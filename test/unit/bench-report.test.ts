import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aggregate, type Cell, evaluateTargets, renderTable } from '../../bench/report.js';

function cell(overrides: Partial<Cell>): Cell {
  return {
    scenario: 'smtp-2k',
    system: 'postfix',
    repetition: 1,
    accepted: 1000,
    failed: 0,
    delivered: 1000,
    duplicates: 0,
    acceptPerSecond: 1000,
    endToEndPerSecond: 800,
    p50: 12,
    p95: 40,
    p99: 90,
    sessionP50: Number.NaN,
    transactionP50: 14,
    transactionP99: 95,
    cpuMsPerMessage: 2,
    peakMemoryMb: 150,
    generatorCpuPercent: 10,
    loadAverage: 0.5,
    errors: {},
    ...overrides,
  };
}

describe('benchmark report', () => {
  it('takes the median of each figure over the repetitions of a cell', () => {
    const rows = aggregate([
      cell({ repetition: 1, acceptPerSecond: 900 }),
      cell({ repetition: 2, acceptPerSecond: 1200 }),
      cell({ repetition: 3, acceptPerSecond: 1000 }),
      cell({ system: 'postwarden', acceptPerSecond: 2500 }),
    ]);
    assert.equal(rows.length, 2);
    assert.equal(rows[0]?.acceptPerSecond, 1000);
    assert.equal(rows[0]?.repetitions, 3);
    assert.equal(rows[1]?.acceptPerSecond, 2500);
  });

  it('marks a system whose sink count differs from its accepted count in any run', () => {
    const rows = aggregate([
      cell({ system: 'postwarden', repetition: 1 }),
      cell({ system: 'postwarden', repetition: 2, delivered: 999 }),
    ]);
    assert.equal(rows[0]?.allDelivered, false);
    const verdict = evaluateTargets(rows).find((v) => v.target.startsWith('delivered'));
    assert.equal(verdict?.met, false);
    assert.match(renderTable(rows, {}), /⚠/);
  });

  it('judges the issue-5 targets against Postfix and the HTTP ceiling', () => {
    const rows = aggregate([
      cell({}),
      cell({
        system: 'postwarden',
        acceptPerSecond: 2100,
        endToEndPerSecond: 1000,
        p50: 8,
        p99: 60,
        cpuMsPerMessage: 0.9,
      }),
      cell({ scenario: 'http-2k', system: 'ceiling', acceptPerSecond: 4000 }),
      cell({ scenario: 'http-2k', system: 'postwarden', acceptPerSecond: 1900, p99: 30 }),
    ]);
    const met = Object.fromEntries(evaluateTargets(rows).map((v) => [v.target, v.met]));
    assert.equal(met['smtp-2k accept ≥ 2× Postfix'], true);
    assert.equal(met['smtp-2k end-to-end ≥ 1.5× Postfix'], false);
    assert.equal(met['smtp-2k p50 ≤ 10 ms'], true);
    assert.equal(met['smtp-2k p99 ≤ 50 ms'], false);
    assert.equal(met['smtp-2k CPU/message ≤ 50 % of Postfix'], true);
    assert.equal(met['HTTP ≥ 50 % of the fastify+LPUSH ceiling'], false);
    assert.equal(met['HTTP p99 ≤ 50 ms'], true);
    assert.equal(met['smtp-20k accept ≥ 1.5× Postfix'], undefined);
  });

  it('prints ratios to the reference system of each scenario', () => {
    const rows = aggregate([
      cell({}),
      cell({
        system: 'postwarden',
        acceptPerSecond: 2000,
        endToEndPerSecond: 1200,
        cpuMsPerMessage: 1,
      }),
    ]);
    const table = renderTable(rows, { 'smtp-2k': 'postfix' });
    assert.match(
      table,
      /| smtp-2k \| postwarden \| 2000 \| 1200 \|.*\| 2\.00 \/ 1\.50 \/ 0\.50 \|/,
    );
    assert.match(table, /\| smtp-2k \| postfix \|.*1 \(reference\) \|/);
  });
});
