import { describe, expect, it } from 'vitest';
import { BudgetCounters } from '../../proxy/limits/budgetCounters.js';
import { periodsAt } from '../../proxy/limits/periods.js';

const NOW = Date.UTC(2100, 0, 15, 12, 0, 0);

describe('budget counters', () => {
  it('round-trips through the snapshot ids, also for keys with colons', () => {
    const counters = new BudgetCounters();
    const user = { scope: 'user' as const, key: 'tenant-a:advisor:1' };
    Object.assign(counters.counter('day', '2100-01-15', user), { tokens: 12, pico: 500_000_000_000n });
    Object.assign(counters.counter('month', '2100-01', user), { tokens: 40, pico: 2_000_000_000_000n });
    const snapshot = counters.toSnapshot();
    // pico-USD as integer text: exact.
    expect(snapshot).toEqual({ 'd:2100-01-15|user:tenant-a:advisor:1': [12, '500000000000'], 'm:2100-01|user:tenant-a:advisor:1': [40, '2000000000000'] });

    const restored = new BudgetCounters();
    restored.restore(snapshot, NOW);
    expect(restored.find('day', '2100-01-15', user)).toEqual({ tokens: 12, pico: 500_000_000_000n });
    expect(restored.find('month', '2100-01', user)).toEqual({ tokens: 40, pico: 2_000_000_000_000n });
    // A version 1 snapshot held USD as a number: read as that number's decimal.
    const v1 = new BudgetCounters();
    v1.restore({ 'd:2100-01-15|user:u': [1, 0.05] }, NOW);
    expect(v1.find('day', '2100-01-15', { scope: 'user', key: 'u' })).toEqual({ tokens: 1, pico: 50_000_000_000n });
    expect(restored.find('day', '2100-01-15', { scope: 'user', key: 'tenant-a' })).toBeUndefined();
  });

  it('skips ended periods and ids it cannot read, and drops periods as they end', () => {
    const counters = new BudgetCounters();
    counters.restore({ 'd:2100-01-14|team:t': [1, '1'], 'x:2100-01|team:t': [1, '1'], 'd:2100-01-15|nocolon': [1, '1'], 'm:2100-01|team:t': [5, '5'] }, NOW);
    expect(counters.toSnapshot()).toEqual({ 'm:2100-01|team:t': [5, '5'] });
    counters.counter('day', '2100-01-15', { scope: 'team', key: 't' });
    counters.dropEnded(Date.UTC(2100, 0, 16));
    expect(counters.toSnapshot()).toEqual({ 'm:2100-01|team:t': [5, '5'] });
    counters.dropEnded(Date.UTC(2100, 1, 1));
    expect(counters.toSnapshot()).toEqual({});
  });
});

describe('periods', () => {
  it('gives each instant its own UTC day and month, also when the clock moves back', () => {
    const at = (iso: string): { day: string; month: string } => {
      const { day, month } = periodsAt(Date.parse(iso));
      return { day, month };
    };
    expect(at('2100-01-31T23:59:59.999Z')).toEqual({ day: '2100-01-31', month: '2100-01' });
    expect(at('2100-02-01T00:00:00.000Z')).toEqual({ day: '2100-02-01', month: '2100-02' });
    expect(at('2100-01-31T23:59:59.999Z')).toEqual({ day: '2100-01-31', month: '2100-01' });
    expect(periodsAt(Date.parse('2100-01-31T12:00:00Z'))).toMatchObject({ dayEndsAt: Date.UTC(2100, 1, 1), monthEndsAt: Date.UTC(2100, 1, 1) });
  });
});
