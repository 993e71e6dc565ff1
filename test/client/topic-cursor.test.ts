// The cursor of one topic: which messages are delivered, dropped as duplicates, or show a jump, and
// where a resume starts; driven with offsets, no socket.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TopicCursor } from '../../src/client/topic-cursor.js';

describe('TopicCursor', () => {
  it('a first subscribe without history delivers the live messages after the subscribed offset', () => {
    const c = new TopicCursor();
    assert.equal(c.position(), null);
    assert.deepEqual(c.accept(1, 'e'), { kind: 'ignore' }, 'nothing before subscribed');
    assert.equal(c.subscribed(null, { epoch: 'e', offset: 10, recovered: false }), null);
    assert.deepEqual(c.position(), { offset: 10, epoch: 'e' });
    assert.deepEqual(c.accept(11, 'e'), { kind: 'deliver', replayed: false });
    assert.deepEqual(c.accept(11, 'e'), { kind: 'duplicate' });
    assert.deepEqual(c.accept(12, 'e'), { kind: 'deliver', replayed: false });
    assert.deepEqual(c.position(), { offset: 12, epoch: 'e' });
  });

  it('history: the replay may start anywhere, then offsets must follow each other', () => {
    const c = new TopicCursor();
    c.subscribed(null, { epoch: 'e', offset: 10, recovered: false }, 5);
    // The retention kept only 8..10, fewer than the 5 asked for: no gap.
    assert.deepEqual(c.accept(8, 'e'), { kind: 'deliver', replayed: true });
    assert.deepEqual(c.accept(9, 'e'), { kind: 'deliver', replayed: true });
    assert.deepEqual(c.accept(10, 'e'), { kind: 'deliver', replayed: true });
    assert.deepEqual(c.accept(11, 'e'), { kind: 'deliver', replayed: false });
    assert.deepEqual(c.accept(13, 'e'), { kind: 'jump', from: 12, to: 12 });
    assert.deepEqual(c.position(), { offset: 11, epoch: 'e' }, 'resume after the last delivered');
    assert.deepEqual(c.accept(14, 'e'), { kind: 'ignore' }, 'held back until the next subscribed');
  });

  it('a connection lost in the middle of a history replay resumes after the last replayed message', () => {
    const c = new TopicCursor();
    c.subscribed(null, { epoch: 'e', offset: 100, recovered: false }, 50);
    assert.deepEqual(c.position(), { offset: 50, epoch: 'e' });
    c.accept(51, 'e');
    c.accept(52, 'e');
    c.suspend();
    assert.deepEqual(c.accept(53, 'e'), { kind: 'ignore' });
    assert.deepEqual(c.position(), { offset: 52, epoch: 'e' });
  });

  it('a recovered resume replays after since, dropping what was seen', () => {
    const c = new TopicCursor();
    c.subscribed(null, { epoch: 'e', offset: 3, recovered: false });
    c.accept(4, 'e');
    c.suspend();
    const since = c.position();
    assert.deepEqual(since, { offset: 4, epoch: 'e' });
    assert.equal(c.subscribed(since, { epoch: 'e', offset: 7, recovered: true }), null);
    assert.deepEqual(c.accept(4, 'e'), { kind: 'duplicate' });
    assert.deepEqual(c.accept(5, 'e'), { kind: 'deliver', replayed: true });
    assert.deepEqual(c.accept(6, 'e'), { kind: 'deliver', replayed: true });
    assert.deepEqual(c.accept(7, 'e'), { kind: 'deliver', replayed: true });
    assert.deepEqual(c.accept(8, 'e'), { kind: 'deliver', replayed: false });
  });

  it('a resume past the retention reports the gap and goes on after it', () => {
    const c = new TopicCursor();
    const gap = c.subscribed(
      { offset: 4, epoch: 'e' },
      { epoch: 'e', offset: 30, recovered: false, gap: { reason: 'retention', from: 5, to: 19 } },
    );
    assert.deepEqual(gap, { reason: 'retention', epoch: 'e', from: 5, to: 19 });
    assert.deepEqual(c.accept(19, 'e'), { kind: 'duplicate' });
    assert.deepEqual(c.accept(20, 'e'), { kind: 'deliver', replayed: true });
  });

  it('a resume in another epoch reports an epoch gap and takes the new epoch from offset 0', () => {
    const c = new TopicCursor();
    const gap = c.subscribed({ offset: 40, epoch: 'old' }, { epoch: 'new', offset: 2, recovered: false });
    assert.deepEqual(gap, { reason: 'epoch', epoch: 'new' });
    assert.deepEqual(c.accept(1, 'new'), { kind: 'deliver', replayed: true });
    assert.deepEqual(c.accept(2, 'new'), { kind: 'deliver', replayed: true });
    assert.deepEqual(c.accept(3, 'new'), { kind: 'deliver', replayed: false });
  });

  it("the server's own epoch gap after a live message of the new epoch never moves the cursor back", () => {
    const c = new TopicCursor();
    c.subscribed(null, { epoch: 'a', offset: 5, recovered: false });
    assert.equal(c.accept(3, 'b').kind, 'deliver'); // the new epoch's message came first
    const gap = c.subscribed(c.position(), {
      epoch: 'b',
      offset: 3,
      recovered: false,
      gap: { reason: 'epoch', from: 1, to: 2 },
    });
    assert.equal(gap?.reason, 'epoch');
    assert.deepEqual(c.accept(3, 'b'), { kind: 'duplicate' });
    assert.deepEqual(c.accept(4, 'b'), { kind: 'deliver', replayed: false });
  });

  it('a live message of another epoch is a new life of the topic: delivered, with a gap', () => {
    const c = new TopicCursor();
    c.subscribed(null, { epoch: 'a', offset: 9, recovered: false });
    assert.deepEqual(c.accept(1, 'b'), {
      kind: 'deliver',
      replayed: false,
      gap: { reason: 'epoch', epoch: 'b' },
    });
    assert.deepEqual(c.position(), { offset: 1, epoch: 'b' });
    assert.deepEqual(c.accept(2, 'b'), { kind: 'deliver', replayed: false });
  });
});
